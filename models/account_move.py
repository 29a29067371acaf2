from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.payment_alma.utils.locking import own_transaction_locked

# The states of an invoice's Alma payment that a new "Pay with Alma" answers again.
WAITING_OR_PAID = ('waiting', 'accepted')


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
        """Open the Alma dialog of a phone sale: a payment link for what is left to pay, or the
        invoice's Alma payment still waiting for the customer."""
        self._alma_check_access()
        # An accepted payment whose transaction Odoo has not post-processed yet pays it now.
        self._alma_post_process()
        family = self.partner_id._alma_family()
        wizard = self.env['alma.payment.wizard'].create({
            'invoice_id': self.id,
            'contact_id': (self.partner_id if self.partner_id in family
                           else self.partner_id.commercial_partner_id).id,
        })
        if self._alma_payments().filtered(lambda payment: payment.state in WAITING_OR_PAID):
            wizard.write({'step': 'sent', 'payment_note': wizard._alma_existing_note()})
        else:
            self._alma_check_payable()
            wizard._alma_load_offers()
        return wizard._alma_action()

    # === Who may pay an invoice with Alma === #

    def _alma_check_access(self):
        """Who may send or follow an invoice's Alma link: its company's invoicing users."""
        self.ensure_one()
        if not self.env.user.has_group('account.group_account_invoice'):
            raise AccessError(self.env._("Only invoicing users can send an Alma payment link."))
        self.check_access('write')  # Another company's invoice is refused by its record rule.
        if self.move_type != 'out_invoice' or self.state != 'posted':
            raise UserError(self.env._("Only a posted customer invoice left to pay can be paid "
                                       "with Alma."))

    def _alma_check_payable(self):
        """Whether a new Alma payment may be asked for this invoice."""
        self.ensure_one()
        if self.payment_state not in ('not_paid', 'partial') \
                or self.currency_id.is_zero(self.amount_residual):
            raise UserError(self.env._("Only a posted customer invoice left to pay can be paid "
                                       "with Alma."))
        error = self.env['res.partner']._alma_check_customer(self.partner_id, self.company_id)
        if error:
            raise UserError(error)

    def _alma_provider(self):
        """The Alma account of the invoice's company (sudo: invoicing users may not read
        providers; only this company's Alma is taken)."""
        self.ensure_one()
        provider = self.env['payment.provider'].sudo().search([
            ('code', '=', 'alma'), ('state', '!=', 'disabled'),
            ('company_id', '=', self.company_id.id)], limit=1)
        if not provider:
            raise UserError(self.env._("Enable the Alma payment provider first."))
        return provider

    # === The invoice's Alma payments: through its transactions === #

    def _alma_transactions(self):
        # sudo: invoicing users may not read transactions; only this invoice's Alma ones.
        return self.sudo().transaction_ids.filtered(lambda tx: tx.provider_code == 'alma')

    def _alma_payments(self):
        """The Alma payments of the invoice's transactions, the latest first (sudo: invoicing
        users may not read Alma payments; the callers checked the user's rights on the
        invoice)."""
        self.ensure_one()
        return self._alma_transactions().alma_payment_ids.sorted('id', reverse=True)

    def _alma_post_process(self):
        """Post-process the invoice's done Alma transactions now: the payment in the Alma
        journal and its reconciliation, as Odoo's cron would a little later."""
        self._alma_transactions().filtered(
            lambda tx: tx.state == 'done' and not tx.is_post_processed)._post_process()

    # === Sending the link: Odoo's transaction flow, as the payment form === #

    def _alma_ask_bookkeeper(self, summary, note):
        """A to-do on each invoice for its salesperson, else the administrator: what Alma did
        that the books must follow (paid twice, a test payment, a dashboard refund)."""
        for invoice in self:
            invoice.activity_schedule(
                'mail.mail_activity_data_todo', summary=summary, note=note,
                user_id=(invoice.invoice_user_id or self.env.ref('base.user_admin')).id)

    def _alma_send_link(self, plan, contact, fees_offered, send_mode):
        """Send the invoice's Alma payment link through a payment transaction, once.

        The callers checked the user's rights and the input. Under a database lock on the
        invoice, a payment still waiting for the customer is answered again; else a transaction
        for what is left to pay is created and committed before Alma is asked, and its Alma
        payment created through `payment.transaction._alma_create_payment` (the web's path).
        This runs in a transaction of its own: the caller's may not see what it created.

        :return: whether a payment made earlier is answered again
        :raise UserError: why the link was not sent (`payment.transaction._alma_create_payment`)
        """
        self.ensure_one()
        provider = self._alma_provider()
        with own_transaction_locked(self.env, f'invoice:{self.id}') as env:
            invoice = self.with_env(env)
            return invoice._alma_send_link_locked(
                # sudo: as `_alma_provider` found it (invoicing users may not read it).
                provider.with_env(env).sudo(), plan.with_env(env), contact.with_env(env),
                fees_offered, send_mode)

    def _alma_send_link_locked(self, provider, plan, contact, fees_offered, send_mode):
        """`_alma_send_link`, under the invoice's lock and in its own transaction (commits)."""
        payment = self._alma_payments()[:1]
        if payment.state in WAITING_OR_PAID:
            return True
        tx = self._alma_resumable_transaction(payment)
        if not tx:
            tx = self._alma_create_transaction(provider)
            # On record before Alma is asked (own transaction, see `_alma_send_link`).
            self.env.cr.commit()  # pylint: disable=invalid-commit
        try:
            tx._alma_create_payment(plan, contact=contact, fees_offered=fees_offered,
                                    send_mode=send_mode, invoice_id=self.id)
        except UserError as error:
            # A new snapshot: the Alma payment was written in a transaction of its own.
            self.env.cr.commit()  # pylint: disable=invalid-commit
            self.env.invalidate_all()
            latest = tx.alma_payment_ids[:1]  # Read as `tx` was found or made (sudo).
            if not self._alma_resumable_transaction(latest):
                tx._set_error(error.args[0])  # Nothing to resume: the next send makes a new one.
                self.env.cr.commit()  # pylint: disable=invalid-commit
            raise
        return False

    def _alma_resumable_transaction(self, payment):
        """The draft transaction of `payment` if sending it again must go through it: a worker
        died while sending it, or Alma's answer was lost (Alma may hold that payment: its key
        finds it there instead of creating a twin)."""
        if not payment or not (payment.state == 'draft' or (
                payment.state == 'error' and payment.creation_attempted_at)):
            return self.env['payment.transaction']
        return self._alma_transactions().filtered(lambda tx: (
            tx == payment.transaction_id and tx.state == 'draft'
            and tx.currency_id == self.currency_id
            and not tx.currency_id.compare_amounts(tx.amount, self.amount_residual)))

    def _alma_create_transaction(self, provider):
        """A draft transaction for what is left to pay, as Odoo's payment link makes one; the
        customer is sent to Alma's page."""
        # sudo: invoicing users may not create transactions; this one is for this invoice only.
        Transaction = self.env['payment.transaction'].sudo()
        links = {'invoice_ids': [Command.set(self.ids)]}
        tx = Transaction.create({
            'provider_id': provider.id,
            'payment_method_id': provider._alma_payment_method().id,
            'reference': Transaction._compute_reference(provider.code, **links),
            'amount': self.amount_residual,
            'currency_id': self.currency_id.id,
            'partner_id': self.partner_id.id,
            'operation': 'online_redirect',
            'landing_route': self.access_url,
            **links,
        })
        tx._log_sent_message()
        return tx

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
        # One refund per credit note, whatever is clicked: its refund asked before (a lost
        # answer, a second click) is looked for at Alma again, never asked a second time.
        result = tx._alma_refund_through(self.amount_residual, credit_note=self)
        return self.env['alma.payment']._alma_refund_notification(result, self.currency_id)
