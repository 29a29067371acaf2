from odoo import models
from odoo.exceptions import UserError

from odoo.addons.payment_alma.utils.money import to_cents


class PosOrder(models.Model):
    _inherit = 'pos.order'

    def _process_payment_lines(self, pos_order, order, pos_session, draft):
        """Override of `point_of_sale` to refuse a paid order whose Alma line Alma has not accepted.

        The till's word is not enough: the line must match an accepted Alma payment, for the
        same amount, recorded by the server.
        """
        res = super()._process_payment_lines(pos_order, order, pos_session, draft)
        if draft:
            return res
        for line in order.payment_ids.filtered(
                lambda p: p.payment_method_id.use_payment_terminal == 'alma'):
            payment = self.env['alma.payment'].sudo().search([
                ('pos_payment_uuid', '=', line.uuid), ('state', '=', 'accepted')], limit=1)
            if not payment or payment.price_cents != to_cents(line.amount):
                raise UserError(self.env._(
                    "The Alma payment of %(amount)s on order %(order)s is not accepted by Alma: "
                    "the order cannot be paid with it.",
                    amount=line.currency_id.format(line.amount), order=order.name))
            line.transaction_id = payment.alma_id
        return res
