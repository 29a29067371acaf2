from odoo import Command, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.payment_alma.utils.money import from_cents, to_cents


class PaymentTransactionRefund(models.Model):
    """Refunds of Alma's transactions, through Odoo's refund transactions."""

    _inherit = 'payment.transaction'

    def _send_refund_request(self, amount_to_refund=None):
        """Override of `payment` to refund through Alma, on the one refund path of Alma."""
        if self.provider_code != 'alma':
            return super()._send_refund_request(amount_to_refund=amount_to_refund)
        self._ensure_provider_is_not_disabled()
        result = self._alma_refund_through(amount_to_refund or self.amount)
        # Made in the refund's own transaction: the caller's may not read it yet.
        return self.browse(result['transaction_id'])

    def _alma_refund_through(self, amount, credit_note=None):
        """Have Alma refund `amount` of this transaction, through a refund transaction.

        The refund transaction is made with the refund, in the refund's own transaction
        (`alma.refund._alma_refund_for`): committed before Alma is asked, and never twice. The
        refund is keyed on what it refunds: the credit note, else this transaction, the amount
        asked and how many of its refunds Alma made, so that a second click after a lost
        answer finds the first refund instead of making another.

        :return: the refund as plain data (see `_alma_refund_for`)
        :raise UserError: when Alma refused, nothing is left to refund, or the same refund is
                          asked and still unanswered
        """
        self.ensure_one()
        # Called as superuser (`action_refund`): the rights are the user's.
        if not self.env.user.has_group('account.group_account_manager'):
            raise AccessError(self.env._("Only accounting managers can refund Alma payments."))
        payment = self.alma_payment_ids.filtered(lambda payment: payment.state == 'accepted')[:1]
        if not payment:
            raise UserError(self.env._("This transaction has no accepted Alma payment."))
        payment._alma_check_not_paid_at_till()  # Odoo's Refund of a till's transaction.
        amount_cents = to_cents(amount)
        document = None
        if credit_note:
            key = f'move:{credit_note.id}'
        else:
            document = f'tx:{self.reference}:'
            # sudo: the refunds of this transaction are counted, whoever asks.
            made = payment.sudo().refund_ids.filtered(
                lambda refund: refund.state == 'done'
                and (refund.refund_key or '').startswith(document))
            key = f'{document}{amount_cents}:{len(made)}'
        result = self.env['alma.refund']._alma_refund_for(
            payment, key=key, amount_cents=amount_cents, document=document,
            refunded_tx=self, credit_note=credit_note)
        if result['existing'] and result['state'] == 'asked':
            # Asked before and still unanswered: said, and nothing more is sent.
            raise UserError(result['error'] or self.env._(
                "This refund was already asked of Alma: nothing was sent again."))
        if result['state'] not in ('asked', 'done'):
            raise UserError(result['error'])
        return result

    def _alma_refund_transaction(self, amount_cents, credit_note=None):
        """A refund transaction of `amount_cents` of this transaction, as Odoo's
        `_send_refund_request` makes one (paying `credit_note`, if any)."""
        extra = {'invoice_ids': [Command.set(credit_note.ids)]} if credit_note else {}
        refund_tx = self._create_child_transaction(from_cents(amount_cents), is_refund=True,
                                                   **extra)
        refund_tx._log_sent_message()
        return refund_tx
