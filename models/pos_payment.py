from odoo import api, models
from odoo.exceptions import UserError

from odoo.addons.payment_alma.models.pos_order import ORDER_CREATION_MARK, PAID_STATES

# What Odoo itself writes on the lines of a paid order: the session's closing and the invoice
# of a paid order book them (`_create_payment_moves`).
FREE_FIELDS = {'account_move_id'}


class PosPayment(models.Model):
    _inherit = 'pos.payment'

    # An Alma line of a paid order is what Alma's money paid: it is neither added, changed nor
    # deleted afterwards, or the accepted Alma payment it holds could pay another order (and the
    # French certification's chain of the order, which lists its lines, would break).

    @api.model_create_multi
    def create(self, vals_list):
        """Override of `point_of_sale` to refuse an Alma line added to a paid order."""
        lines = super().create(vals_list)
        # An order created paid checks its lines itself once they all exist (`pos.order.create`).
        if not self.env.cr.cache.get(ORDER_CREATION_MARK):
            lines._alma_check_not_paid()
        return lines

    def write(self, vals):
        """Override of `point_of_sale` to refuse changing an Alma line of a paid order (or making
        a line of a paid order an Alma line)."""
        if not set(vals) - FREE_FIELDS - ({'transaction_id'} if self._alma_is_binding(vals)
                                           else set()):
            return super().write(vals)
        self._alma_check_not_paid()
        res = super().write(vals)
        self._alma_check_not_paid()
        return res

    @api.ondelete(at_uninstall=False)
    def _alma_unlink_except_paid(self):
        """Keep the Alma lines of paid orders, and every line Alma's money paid."""
        self._alma_check_not_paid()
        # sudo: cashiers do not read Alma's records; only whether these lines have one.
        if self.env['alma.payment'].sudo().search_count([('pos_payment_id', 'in', self.ids)]) \
                or self.env['alma.refund'].sudo().search_count(
                    [('pos_payment_id', 'in', self.ids)]):
            raise UserError(self.env._(
                "This payment line holds an Alma payment or refund: it cannot be deleted."))

    def _alma_check_not_paid(self):
        """Refuse when one of these lines is an Alma line of a paid order."""
        for line in self:
            if line.payment_method_id.use_payment_terminal == 'alma' \
                    and line.pos_order_id.state in PAID_STATES:
                raise UserError(self.env._(
                    "Order %s is paid: its Alma payment lines can no longer be added, changed or "
                    "deleted. Refund the order instead.", line.pos_order_id.name))

    def _alma_is_binding(self, vals):
        """Whether `vals` only records, on each line, the Alma payment or refund bound to it
        (what `pos.order._alma_check_payments` writes)."""
        if set(vals) != {'transaction_id'} or not vals['transaction_id']:
            return False
        # sudo: cashiers do not read Alma's records; only the ids bound to these lines.
        bound = self.env['alma.payment'].sudo().search([('pos_payment_id', 'in', self.ids)])
        refunds = self.env['alma.refund'].sudo().search([('pos_payment_id', 'in', self.ids)])
        ids = {payment.pos_payment_id: payment.alma_id for payment in bound}
        ids.update({refund.pos_payment_id: refund.alma_refund_id for refund in refunds})
        return all(ids.get(line) == vals['transaction_id'] for line in self)
