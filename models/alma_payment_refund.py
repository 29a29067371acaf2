import logging

from odoo import api, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.utils.alma_client import AlmaError
from odoo.addons.payment_alma.utils.money import from_cents, left_to_refund

_logger = logging.getLogger(__name__)


class AlmaPaymentRefund(models.Model):
    """A payment cancelled or refunded at Alma, and what the bookkeeper is told when Alma took
    money it should not have kept."""

    _inherit = 'alma.payment'

    # === The bookkeeper told === #

    def _alma_flag_paid_twice(self, invoices, excess=None):
        """Tell the bookkeeper that Alma accepted more than was left to pay of `invoices`.

        The transaction books Alma's money in the Alma journal: what the invoices still owed
        is paid on them, the `excess` (all of the payment by default) stays the customer's
        credit: the bookkeeper refunds it (button Refund) or keeps it as a credit.
        """
        self.ensure_one()
        whole = excess is None or self.currency_id.compare_amounts(excess, self.price) >= 0
        noted = set()
        for invoice in invoices:
            if whole:
                note = self.env._(
                    "Alma accepted %(amount)s for %(invoice)s, which was already paid: the "
                    "customer paid twice. Refund this Alma payment (button Refund) or keep it "
                    "as a credit for the customer.", amount=self.currency_id.format(self.price),
                    invoice=invoice.name)
            else:
                note = self.env._(
                    "Alma accepted %(amount)s for %(invoices)s, %(excess)s more than was left "
                    "to pay: the customer paid that part twice. Refund %(excess)s of this Alma "
                    "payment (button Refund) or keep it as a credit for the customer.",
                    amount=self.currency_id.format(self.price),
                    invoices=self._alma_origin(), excess=self.currency_id.format(excess))
            if note not in noted:
                noted.add(note)
                self.message_post(body=note)
            invoice._alma_ask_bookkeeper(self.env._("Paid twice"), note)

    def _alma_flag_test_mode(self):
        """Tell the bookkeeper that a sandbox payment was paid once Alma was live: refused, the
        sale it was for is still to be paid (the customer was charged nothing)."""
        self.ensure_one()
        note = self.env._(
            "Alma's test mode accepted %(amount)s for %(sale)s after Alma went live: no money "
            "was taken, so the payment is refused and the sale is still to be paid.",
            amount=self.currency_id.format(self.price), sale=self._alma_origin())
        self.message_post(body=note)
        # sudo: whoever learnt it (a notification, the cron) tells the invoice's bookkeeper.
        invoices = self.transaction_id.sudo().invoice_ids | self.invoice_id.sudo()
        invoices._alma_ask_bookkeeper(self.env._("Alma test payment"), note)

    # === Actions === #

    def _alma_cancel(self, reason_code='cancelled_by'):
        """Cancel on Alma so that the customer can no longer pay; refused once charged.

        :raise UserError: Alma did not cancel it (already paid, or Alma's error); what Alma
            said of the payment meanwhile is applied, in the caller's transaction: a caller
            that goes on after the error keeps it.
        """
        self.ensure_one()
        if not self.env.su:
            # sudo: Alma payments are read-only for everyone; the callers checked who may
            # cancel (the till's cashier, the invoice's bookkeeper, the paying browser).
            return self.sudo()._alma_cancel(reason_code)
        if self.state == 'draft' or not self.alma_id:
            # Never created at Alma: its transaction may still be paid another way.
            self.write(self._alma_reason_values('cancelled'))
            self.flush_recordset()
            return
        client = self._alma_client()
        try:
            data = client.cancel_payment(self.alma_id) or {}
        except AlmaError:
            self._alma_refresh(source='cancel')
            if self.state == 'accepted':
                raise UserError(self.env._(
                    "The customer has already paid the first installment: the payment can no "
                    "longer be cancelled. Refund it instead.")) from None
            raise
        try:
            # Read again: Alma's cancel may answer nothing (alma/alma-php-client, branch
            # feature/3.0 `PaymentEndpoint::cancel` returns null), and may have refunded.
            data = client.get_payment(self.alma_id)
        except AlmaError as error:
            _logger.warning("Alma payment %s not read after its cancellation: %s",
                            self.alma_id, error)
        if self._alma_state_from(data)[0] == 'accepted':  # Paid just before the cancellation.
            self._alma_apply(data, source='cancel')
            if data.get('refunds'):
                # Cancelling a paid payment can refund it (alma/alma-js-client: a refund's
                # `from_payment_cancellation`): the books take it back.
                self._alma_record_refunds(data)
        if self.state not in const.FINAL_STATES:
            self._alma_lock()
            reason = self._alma_reason_values(reason_code, {'user': self.env.user.name})
            self.write({'alma_state': data.get('state'), **reason})
            self._alma_tell_transaction('cancelled')
            self.flush_recordset()
            self.message_post(
                body=reason['state_reason'],
                author_id=None if self.env.user._is_internal()
                else self.env.ref('base.partner_root').id)
            self._alma_on_state_change()

    def _alma_check_not_paid_at_till(self):
        """Refuse to refund here a payment that paid a line of the till: only the till's
        refund order takes back the sale and its VAT."""
        if self.pos_payment_id:
            raise UserError(self.env._(
                "This Alma payment paid the sale %s at the till: refund it at the till (the "
                "order's Refund, paid back with Alma), so that the refund order takes back the "
                "sale and its VAT. Nothing was refunded.",
                # sudo: the name of the order this payment paid, for the message only.
                self.sudo().pos_payment_id.pos_order_id.name or self.pos_order_name or ''))

    def action_alma_refund(self):
        """Refund what is left of an accepted payment; Alma takes it from the next payout.

        The books follow: a till sale is refunded at the till (its refund order takes back the
        sale and its VAT), an invoice by a credit note (refunded through Alma from there), any
        other payment of a transaction through that transaction.
        """
        self.ensure_one()
        if not self.env.user.has_group('account.group_account_manager'):
            raise AccessError(self.env._("Only accounting managers can refund Alma payments."))
        # Read, not write: Alma payments are read-only for everyone (the refund is the add-on's
        # own record, written as superuser by `_alma_refund_for`); the rule of its company.
        self.check_access('read')
        if self.state != 'accepted':
            raise UserError(self.env._("Only an accepted Alma payment can be refunded."))
        self._alma_check_not_paid_at_till()
        left_cents = left_to_refund(self.purchase_amount_cents, self.amount_refunded_cents)
        transaction = self.transaction_id.filtered(lambda tx: tx.state == 'done')
        invoices = (transaction.invoice_ids if transaction else self.invoice_id).filtered(
            lambda move: move.move_type == 'out_invoice' and move.state == 'posted')
        if invoices:
            return self._alma_credit_note_action(invoices)
        if transaction and self.channel != 'pos':
            result = transaction._alma_refund_through(from_cents(left_cents))
            return self._alma_refund_notification(result, self.currency_id)
        # Up to what is left now: a double click finds this refund again. A till's payment
        # that paid no line of the till (its order never came): its transaction, refunded.
        result = self.env['alma.refund']._alma_refund_for(
            self, key=f'button:{self.id}:{self.amount_refunded_cents}',
            refunded_tx=transaction or None)
        if result['state'] != 'done':
            raise UserError(result['error'])
        return self._alma_refund_notification(result, self.currency_id)

    # === An accepted payment whose amount is not the sale's: refunded at Alma === #

    def _alma_plan_mismatch_refund(self):
        """Alma took another amount than the sale's: the customer is refunded in full at Alma,
        as Alma's Sylius plugin does (monsieurbiz/AlmaSyliusPaymentPlugin,
        src/Payum/Extension/RefundFailedPaymentExtension.php: a payment that fails validation
        while Alma has it paid or in progress is refunded in full, once). The regular check asks
        it; until it is done, the bookkeepers have an activity with the refund one click away."""
        self.ensure_one()
        managers = self.env.ref('account.group_account_manager').users.filtered(
            lambda user: self.company_id in user.company_ids and user._is_internal())
        self.activity_schedule(
            'mail.mail_activity_data_todo',
            user_id=(managers[:1] or self.env.ref('base.user_admin')).id,
            summary=self.env._("Refund at Alma"),
            note=self.env._(
                "%(reason)s The customer is refunded in full at Alma at the next check; if it "
                "fails, press “Refund at Alma” on the payment.", reason=self.state_reason))

    def _alma_is_mismatch_to_refund(self):
        self.ensure_one()
        taken = (self.state_reason_args or {}).get('alma') or 0
        return bool(self.state == 'refused' and self.state_reason_code == 'amount_mismatch'
                    and self.alma_id and self.amount_refunded_cents < taken)

    def action_alma_refund_mismatch(self):
        """Refund in full, at Alma, a payment Alma took for another amount than the sale's."""
        self.ensure_one()
        if not self.env.user.has_group('account.group_account_manager'):
            raise AccessError(self.env._("Only accounting managers can refund Alma payments."))
        self.check_access('read')
        if not self._alma_is_mismatch_to_refund():
            raise UserError(self.env._(
                "Only a payment Alma took for another amount than the sale's is refunded here."))
        result = self._alma_refund_mismatch()
        if result['state'] != 'done':
            raise UserError(result['error'])
        return self._alma_refund_notification(result, self.currency_id)

    def _alma_refund_mismatch(self):
        """Ask Alma the full refund of this payment, once (its key is the payment); close the
        bookkeepers' activity when it is done."""
        result = self.env['alma.refund']._alma_refund_for(self, key=f'amount_mismatch:{self.id}')
        if result['state'] == 'done':
            # sudo: the activity was the add-on's own, whoever closes it (the cron, a manager).
            self.sudo().activity_ids.filtered(
                lambda activity: activity.activity_type_id == self.env.ref(
                    'mail.mail_activity_data_todo')).action_feedback(
                feedback=self.env._("Refunded in full at Alma."))
        return result

    @api.model
    def _alma_refund_mismatches(self):
        """The regular check: refund at Alma the payments taken for a wrong amount."""
        payments = self.search([('state', '=', 'refused'),
                                ('state_reason_code', '=', 'amount_mismatch')])
        for payment in payments.filtered(lambda p: p._alma_is_mismatch_to_refund()):
            if payment.refund_ids.filtered(lambda refund: refund.state == 'refused'):
                continue  # Alma refused it once: the bookkeepers' activity stays for a person.
            result = payment._alma_refund_mismatch()
            if result['state'] != 'done':
                _logger.warning("Alma payment %s (wrong amount) not refunded: %s",
                                payment.alma_id, result['error'])

    def _alma_credit_note_action(self, invoices):
        """Odoo's *Credit Note* dialog of the invoices this payment paid: the credit note takes
        back the sale and its VAT, and its *Refund with Alma* pays it back."""
        action = self.env['ir.actions.act_window']._for_xml_id(
            'account.action_view_account_move_reversal')
        action['context'] = {'active_model': 'account.move', 'active_ids': invoices.ids}
        return action

    @api.model
    def _alma_refund_notification(self, result, currency):
        """What the bookkeeper is told after asking a refund (`result`, see `alma.refund.
        _alma_refund_for`): Alma refunds it, or why not; the view reloads either way."""
        done = result['state'] == 'done'
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success' if done else 'warning',
                'message': self.env._(
                    "Alma refunds %s to the customer; it takes it back from its next transfer.",
                    currency.format(from_cents(result['amount_cents']))) if done
                else result['error'],
                'next': {'type': 'ir.actions.client', 'tag': 'soft_reload'},
            },
        }

    def _alma_record_refunds(self, data):
        """Record what Alma says it refunded (idempotent); whoever asked it, even Alma's own
        dashboard."""
        self.ensure_one()
        refunded = data.get('amount_already_refunded')
        if refunded is None:
            refunded = sum(int(refund['amount']) for refund in data.get('refunds') or [])
        # sudo: as below; Alma payments are read-only for everyone.
        self.sudo().amount_refunded_cents = refunded
        # sudo: what Alma did is recorded whoever learnt it (the cron, a bookkeeper).
        self.env['alma.refund'].sudo()._alma_record(self.sudo(), data)._alma_on_done()
