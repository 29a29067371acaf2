from odoo import api, models
from odoo.exceptions import UserError


class AccountPayment(models.Model):
    _inherit = 'account.payment'

    @api.depends_context('uid')
    def _compute_amount_available_for_refund(self):  # pylint: disable=missing-return
        """Override of `account_payment` to offer Odoo's Refund of an Alma payment only to
        those who may refund it: accounting managers (`_alma_refund_through`)."""
        super()._compute_amount_available_for_refund()
        if self.env.user.has_group('account.group_account_manager'):
            return
        for payment in self:
            if payment.payment_transaction_id.provider_code == 'alma':
                payment.amount_available_for_refund = 0

    def action_post(self):
        """Override of `account` to refuse a payment in an Alma journal that Alma did not make.

        Money moves there only through Alma: a payment is Alma's when it is the payment of a
        done Alma transaction of that amount, currency and customer (the web, an invoice's
        "Pay with Alma" link, a refund), of a till session closing with an Alma method, or made
        by the add-on itself (as superuser). Anything else (a payment typed by hand, or naming
        any transaction or session) would show an invoice or a credit note paid while Alma
        moved nothing.
        """
        # sudo: which journals are Alma's, to compare only.
        alma_journals = self.env['payment.provider'].sudo().search(
            [('code', '=', 'alma')]).journal_id
        by_hand = self.filtered(lambda payment: payment.journal_id in alma_journals
                                and not self.env.su and not payment._alma_made_by_alma())
        if by_hand:
            raise UserError(self.env._(
                "Only Alma moves money in the journal %s: a customer pays with \"Pay with "
                "Alma\" (a payment link) or at the till, and a credit note of an invoice paid "
                "with Alma is refunded with its button \"Refund with Alma\". Register this "
                "payment in another journal.",
                by_hand.journal_id[:1].display_name))
        return super().action_post()

    def _alma_made_by_alma(self):
        """Whether this payment of an Alma journal is Alma's own: the one payment of a done Alma
        transaction of its amount, currency and customer, or a till session's closing entry for
        an Alma method of that session."""
        self.ensure_one()
        # sudo: the transaction and the session are compared only; a bookkeeper may not read them.
        payment = self.sudo()
        tx = payment.payment_transaction_id
        if tx:
            return (tx.provider_code == 'alma' and tx.state == 'done'
                    # A till's is booked by its session: never by a payment naming it.
                    and not tx._alma_is_till()
                    and tx.provider_id.journal_id == payment.journal_id
                    and tx.company_id == payment.company_id
                    and tx.currency_id == payment.currency_id
                    and not tx.currency_id.compare_amounts(abs(tx.amount), payment.amount)
                    and (payment.payment_type == 'inbound') == (tx.amount > 0)
                    and tx.partner_id.commercial_partner_id == payment.partner_id
                    and tx.payment_id in (payment, payment.browse())
                    and not payment.search_count([
                        ('payment_transaction_id', '=', tx.id), ('id', '!=', payment.id),
                        ('state', 'not in', ('draft', 'canceled'))], limit=1))
        session, method = payment.pos_session_id, payment.pos_payment_method_id
        return bool(session and session.state == 'closing_control'
                    and method.use_payment_terminal == 'alma'
                    and method in session.config_id.payment_method_ids
                    and method.journal_id == payment.journal_id
                    and session.company_id == payment.company_id)
