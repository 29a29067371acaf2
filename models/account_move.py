from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError


class AccountMove(models.Model):
    _inherit = 'account.move'

    alma_refundable = fields.Boolean(
        compute='_compute_alma_refundable',
        help="A credit note of an invoice paid with Alma: it can be refunded through Alma.")

    @api.depends('move_type', 'state', 'payment_state', 'reversed_entry_id')
    def _compute_alma_refundable(self):
        for move in self:
            move.alma_refundable = bool(
                move.move_type == 'out_refund' and move.state == 'posted'
                and move.payment_state in ('not_paid', 'partial')
                and move._alma_paid_transaction())

    def _alma_paid_transaction(self):
        """The done Alma transaction that paid the invoice this credit note reverses."""
        self.ensure_one()
        # sudo: transactions are read to find the one to refund; rights are checked by callers.
        return self.reversed_entry_id.sudo().transaction_ids.filtered(
            lambda tx: tx.provider_code == 'alma' and tx.state == 'done'
            and tx.operation != 'refund')[:1]

    def action_alma_pay(self):
        """Open the Alma dialog for a phone sale: a payment link for what is left to pay."""
        self.ensure_one()
        if not self.env.user.has_group('account.group_account_invoice'):
            raise AccessError(self.env._("Only invoicing users can send an Alma payment link."))
        self.check_access('write')
        if (self.move_type != 'out_invoice' or self.state != 'posted'
                or self.payment_state not in ('not_paid', 'partial')):
            raise UserError(self.env._("Only a posted customer invoice left to pay can be paid "
                                       "with Alma."))
        # sudo: invoicing users may not read providers; only this company's Alma is taken.
        provider = self.env['payment.provider'].sudo().search([
            ('code', '=', 'alma'), ('state', '!=', 'disabled'),
            ('company_id', '=', self.company_id.id)], limit=1)
        if not provider:
            raise UserError(self.env._("Enable the Alma payment provider first."))
        offers = provider._alma_get_offers(self.amount_residual, self.currency_id)
        wizard = self.env['alma.payment.wizard'].create({
            'provider_id': provider.id,
            'allowed_plan_ids': [offer['plan_id'] for offer in offers if offer['eligible']],
            'invoice_id': self.id,
            'partner_id': self.partner_id.commercial_partner_id.id,
            'contact_id': self.partner_id.id,
            'currency_id': self.currency_id.id,
            'amount': self.amount_residual,
        })
        return {
            'type': 'ir.actions.act_window',
            'name': self.env._("Pay with Alma"),
            'res_model': 'alma.payment.wizard',
            'res_id': wizard.id,
            'view_mode': 'form',
            'target': 'new',
        }

    def action_alma_refund(self):
        """Refund this credit note's amount to the customer through Alma, on the Alma payment of
        the invoice it reverses; the refund pays the credit note in the Alma journal."""
        self.ensure_one()
        if not self.env.user.has_group('account.group_account_manager'):
            raise AccessError(self.env._("Only accounting managers can refund Alma payments."))
        self.check_access('write')
        tx = self._alma_paid_transaction() if self.move_type == 'out_refund' else None
        if not tx or self.state != 'posted' or self.payment_state not in ('not_paid', 'partial'):
            raise UserError(self.env._(
                "Only a posted credit note left to pay, of an invoice paid with Alma, can be "
                "refunded through Alma."))
        amount = self.amount_residual
        refund_tx = tx._create_child_transaction(
            amount, is_refund=True, invoice_ids=[Command.set(self.ids)])
        refund_tx._log_sent_message()
        tx._alma_refund_through(refund_tx)
        done = refund_tx.state == 'done'
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success' if done else 'warning',
                'message': self.env._(
                    "Alma refunds %s to the customer; it takes it back from its next transfer.",
                    self.currency_id.format(amount)) if done else refund_tx.state_message,
                'next': {'type': 'ir.actions.client', 'tag': 'soft_reload'},
            },
        }
