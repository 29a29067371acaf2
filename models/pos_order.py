from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.payment_alma.utils.money import from_cents, to_cents

PAID_STATES = ('paid', 'done', 'invoiced')
# Set while `pos.order.create` runs (see there and `pos.payment.create`).
ORDER_CREATION_MARK = 'alma_pos_order_creation'


class PosOrder(models.Model):
    _inherit = 'pos.order'

    alma_refund_state = fields.Selection(
        [('none', "Not refunded"), ('partial', "Partially refunded"), ('full', "Refunded")],
        string="Alma Refund", compute='_compute_alma_refund',
        help="What Alma refunded of the Alma payments of this sale.")
    alma_amount_refunded = fields.Monetary(
        string="Refunded by Alma", compute='_compute_alma_refund', currency_field='currency_id')

    def _compute_alma_refund(self):
        # sudo: cashiers do not read Alma payments; only the amounts of this order's own.
        payments = self.env['alma.payment'].sudo().search([
            ('pos_payment_id', 'in', self.payment_ids.ids), ('state', '=', 'accepted')])
        by_order = payments.grouped(lambda payment: payment.pos_payment_id.pos_order_id)
        for order in self:
            paid = by_order.get(order, payments.browse())
            refunded = sum(paid.mapped('amount_refunded_cents'))
            order.alma_amount_refunded = from_cents(refunded)
            order.alma_refund_state = 'none' if not refunded else (
                'full' if refunded >= sum(paid.mapped('purchase_amount_cents')) else 'partial')

    # An order becomes paid in three places, each checks its Alma lines: the till's word is
    # never enough.

    @api.model_create_multi
    def create(self, vals_list):
        """Override of `point_of_sale` to check the Alma lines of an order created paid."""
        # The lines of an order created paid are checked below, once they all exist (see
        # `pos.payment.create`); the mark lives in the transaction, out of reach of any RPC.
        cache = self.env.cr.cache
        cache[ORDER_CREATION_MARK] = cache.get(ORDER_CREATION_MARK, 0) + 1
        try:
            orders = super().create(vals_list)
        finally:
            cache[ORDER_CREATION_MARK] -= 1
        orders.filtered(lambda order: order.state in PAID_STATES)._alma_check_payments()
        return orders

    def write(self, vals):
        """Override of `point_of_sale` to check the Alma lines of an order becoming paid, as they
        are once written, whatever its former state (`action_pos_order_paid`, the back-office
        payment wizard, a raw write adding lines and the state at once)."""
        if vals.get('state') not in PAID_STATES:
            return super().write(vals)
        becoming_paid = self.filtered(lambda order: order.state not in PAID_STATES)
        res = super().write(vals)
        becoming_paid._alma_check_payments()
        return res

    def _process_payment_lines(self, pos_order, order, pos_session, draft):
        """Override of `point_of_sale` to check the lines the till's sync has just recreated:
        its later `action_pos_order_paid` logs errors instead of raising them."""
        res = super()._process_payment_lines(pos_order, order, pos_session, draft)
        if not draft:
            order._alma_check_payments()
        return res

    def _alma_check_payments(self):
        """Bind each Alma line to the accepted Alma payment of that very line, once."""
        for order in self:
            for line in order.payment_ids.filtered(
                    lambda p: p.payment_method_id.use_payment_terminal == 'alma'):
                if line.currency_id.compare_amounts(line.amount, 0) < 0:
                    order._alma_check_refund_line(line)
                    continue
                # sudo: cashiers do not read Alma payments; the line's own uuid picks it.
                payment = self.env['alma.payment'].sudo().search([
                    ('sale_key', '=', f'pos:{line.uuid}'), ('state', '=', 'accepted'),
                ], limit=1) if line.uuid else self.env['alma.payment']
                if payment:
                    payment._alma_lock()
                problem = order._alma_line_problem(line, payment)
                if problem:
                    raise UserError(self.env._(
                        "The Alma payment of %(amount)s cannot pay order %(order)s: %(reason)s",
                        amount=line.currency_id.format(line.amount), order=order.name,
                        reason=problem))
                payment.pos_payment_id = line
                if line.transaction_id != payment.alma_id:
                    line.transaction_id = payment.alma_id

    def _alma_line_problem(self, line, payment):
        """Why `payment` may not pay `line` of this order, or ''."""
        self.ensure_one()
        if not payment:
            return self.env._("Alma has not accepted it. Alma payments are taken at the till, "
                              "where the customer pays the link.")
        if payment.pos_payment_id and payment.pos_payment_id != line:
            return self.env._("that Alma payment already paid order %s.",
                              payment.pos_payment_id.pos_order_id.name)
        if (payment.pos_order_uuid != self.uuid
                or payment.pos_payment_method_id != line.payment_method_id
                or payment.company_id != self.company_id):
            return self.env._("that Alma payment was made for another order.")
        if payment.price_cents != to_cents(line.amount):
            return self.env._("Alma accepted %s.", payment.currency_id.format(payment.price))
        if not payment.pos_payment_id and payment.amount_refunded_cents:
            # Refunded from its form while the till had not yet recorded the sale.
            refunded = from_cents(payment.amount_refunded_cents)
            return self.env._("Alma has already refunded %s of it: take another payment.",
                              payment.currency_id.format(refunded))
        provider = payment.provider_id
        if provider.state == 'disabled':
            return self.env._("Alma is disabled.")
        if payment.mode == 'test' and provider.state == 'enabled':
            return self.env._("it was made in Alma's test mode, so no money was taken.")
        return ''

    def _alma_check_refund_line(self, line):
        """Bind a refund order's Alma line to the refund Alma made for that very line, once."""
        self.ensure_one()
        # sudo: cashiers do not read Alma refunds; the line's own uuid picks it.
        refund = self.env['alma.refund'].sudo().search([
            ('refund_key', '=', f'pos:{line.uuid}'), ('state', '!=', 'refused'),
        ], limit=1) if line.uuid else self.env['alma.refund']
        problem = self._alma_refund_line_problem(line, refund)
        if problem:
            raise UserError(self.env._(
                "The Alma refund of %(amount)s cannot be recorded on order %(order)s: %(reason)s",
                amount=line.currency_id.format(-line.amount), order=self.name, reason=problem))
        refund.pos_payment_id = line
        if line.transaction_id != refund.alma_refund_id:
            line.transaction_id = refund.alma_refund_id

    def _alma_refund_line_problem(self, line, refund):
        """Why `refund` may not pay the refund line `line` of this order, or ''."""
        self.ensure_one()
        if not refund:
            return self.env._("Alma has not refunded it. Refunds through Alma are made at the "
                              "till, from the refund order's Alma line.")
        if refund.state != 'done':
            return self.env._("Alma has not confirmed the refund yet. It is checked again "
                              "shortly and will not be made twice: validate the order once the "
                              "till shows it refunded.")
        if refund.pos_payment_id and refund.pos_payment_id != line:
            return self.env._("that Alma refund is already recorded on order %s.",
                              refund.pos_payment_id.pos_order_id.name)
        sale = refund.payment_id.pos_payment_id.pos_order_id
        if (not sale or sale != self.refunded_order_id
                or refund.pos_payment_method_id != line.payment_method_id
                or refund.company_id != self.company_id):
            return self.env._("that Alma refund is of another order.")
        if refund.pos_amount_cents != to_cents(-line.amount):
            return self.env._("Alma refunded %s.", refund.currency_id.format(
                from_cents(refund.pos_amount_cents)))
        return ''
