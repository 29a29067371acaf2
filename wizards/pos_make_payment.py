from odoo import models
from odoo.exceptions import UserError


class PosMakePayment(models.TransientModel):
    _inherit = 'pos.make.payment'

    def check(self):
        """Override of `point_of_sale` to refuse Alma in the back office: only the till takes an
        Alma payment (the customer pays the link there), so this wizard would pay nothing."""
        if self.payment_method_id.use_payment_terminal == 'alma':
            raise UserError(self.env._(
                "An Alma payment is taken at the till, where the customer pays the link: it "
                "cannot be added here. Use another payment method, or take the payment at the "
                "till."))
        return super().check()
