import logging
from urllib.parse import urljoin

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression

from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.controllers.main import AlmaController
from odoo.addons.payment_alma.models.alma_payment_send import PaymentAsk
from odoo.addons.payment_alma.utils.money import from_cents, to_cents

_logger = logging.getLogger(__name__)

# What an Alma transaction says of money: only Alma's path (the add-on, as superuser) sets them.
# Billing users and accountants may write transactions (Odoo's access rights): one setting a
# transaction done, or clearing its payment, would let the Alma journal book money Alma never
# moved.
ALMA_OWN_FIELDS = frozenset({
    'state', 'amount', 'currency_id', 'provider_id', 'partner_id', 'operation',
    'source_transaction_id', 'provider_reference', 'payment_id', 'is_post_processed',
})


class PaymentTransaction(models.Model):
    _inherit = 'payment.transaction'

    alma_payment_ids = fields.One2many('alma.payment', 'transaction_id', string="Alma Payments",
                                       readonly=True)
    alma_payment_id = fields.Many2one('alma.payment', compute='_compute_alma_payment_id')

    @api.depends('alma_payment_ids')
    def _compute_alma_payment_id(self):
        for tx in self:
            tx.alma_payment_id = tx.alma_payment_ids[:1]  # The latest.

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        """Override of `payment` to let only Alma's path make an Alma transaction past draft."""
        if not self._alma_may_write_money():
            # sudo: which providers are Alma's, to compare only.
            alma = self.env['payment.provider'].sudo().search([('code', '=', 'alma')])
            if any(vals.get('provider_id') in alma.ids and vals.get('state', 'draft') != 'draft'
                   for vals in vals_list):
                self._alma_refuse_write()
        return super().create(vals_list)

    def write(self, vals):
        """Override of `payment` to keep an Alma transaction's money to Alma's path."""
        if (ALMA_OWN_FIELDS.intersection(vals) and not self._alma_may_write_money()
                and any(tx.provider_code == 'alma' for tx in self)):
            self._alma_refuse_write()
        return super().write(vals)

    def _alma_may_write_money(self):
        """Alma's path (as superuser), and Odoo's administrators, who may delete transactions
        (Odoo's access rights) and set the provider up: not a billing user or an accountant."""
        return self.env.su or self.env.user.has_group('base.group_system')

    def _alma_refuse_write(self):
        raise AccessError(self.env._(
            "Only Alma changes an Alma transaction: its state, amount, customer and payment "
            "follow what Alma says."))

    # === BUSINESS METHODS: the payment form === #

    def _get_specific_processing_values(self, processing_values):
        """Override of `payment` to sign the request that creates the Alma payment of the form."""
        res = super()._get_specific_processing_values(processing_values)
        if self.provider_code != 'alma':
            return res
        # The form of a disabled provider is not shown; a forged or older request still
        # reaches here: refused, no Alma payment may follow.
        self._alma_check_provider_enabled()
        return {**res, 'alma_access_token': self._alma_access_token()}

    def _alma_check_provider_enabled(self):
        """A disabled provider sells nothing: no transaction of it goes to Alma."""
        self.ensure_one()
        if self.provider_id.state == 'disabled':
            raise ValidationError(self.env._(
                "Alma is disabled: this payment cannot be made with Alma. Choose another "
                "payment method."))

    def _alma_access_token(self):
        self.ensure_one()
        return payment_utils.generate_access_token(
            self.reference, to_cents(self.amount), self.currency_id.id, self.partner_id.id)

    def _alma_check_access_token(self, access_token):
        self.ensure_one()
        return payment_utils.check_access_token(
            access_token, self.reference, to_cents(self.amount), self.currency_id.id,
            self.partner_id.id)

    def _alma_create_payment(self, plan, *, contact=None, fees_offered=False, send_mode='here',
                             **links):
        """Create (once per transaction) the Alma payment in the plan chosen.

        Every figure is recomputed on the server from the transaction; the Alma payment is
        committed on its own, so this transaction is not written here: the state path
        (`_alma_sync_from_payments`) brings it up to date, now or at the next request.

        Without `contact`, the customer pays for themselves in the payment form. With it, the
        clinic sends the link of an invoice (`account.move._alma_send_link`, which checked the
        user's rights): to that contact of the customer, the way chosen, fees offered or not.

        :param dict links: more fields linking the Alma payment to the sale (``invoice_id``)
        :return: Alma's payment page
        :raise UserError: a message for the customer: Alma is disabled, a plan or a contact
                          not offered, paid meanwhile, Alma refused or did not answer
        """
        self.ensure_one()
        if self.provider_code != 'alma' or self.state != 'draft' or self.operation not in (
                'online_direct', 'online_redirect'):
            raise ValidationError(self.env._("This transaction cannot be paid with Alma."))
        self._alma_check_provider_enabled()
        if not plan or plan not in self.provider_id.alma_plan_ids:
            raise UserError(self.env._("Choose one of the plans offered."))
        # The invoice it pays, as *Paiements Alma* shows it and Alma's back office names it
        # (the first one when the customer pays several at once, e.g. the overdue ones).
        links.setdefault('invoice_id', self.invoice_ids.sorted('id')[:1].id or False)
        if contact is None:
            contact = self.partner_id
            # The customer pays for themselves: no cashier or seller here whose own details
            # Alma must be kept from (the till's rule reads the current user as the seller).
            AlmaPayment = self.env['alma.payment'].with_user(SUPERUSER_ID)
            self._alma_cancel_earlier_payments()
        elif contact not in self.partner_id._alma_family():
            raise UserError(self.env._("Choose a contact of the invoice's customer."))
        else:
            # The clinic sends it: the seller's own details are refused as at the till.
            AlmaPayment = self.env['alma.payment']
        result = AlmaPayment._alma_create_for(PaymentAsk(
            key=f'tx:{self.reference}',
            provider=self.provider_id,
            amount=self.amount,
            currency=self.currency_id,
            plan=plan,
            contact=contact,
            partner=contact.commercial_partner_id,
            fees_offered=fees_offered,
            send_mode=send_mode,
            links={'transaction_id': self.id, **links},
        ))
        if result.get('error') or not result.get('url'):
            raise UserError(result.get('error') or self.env._("Alma did not answer."))
        return result['url']

    @api.model
    def _alma_till_transaction(self, provider, amount, currency, partner, order_name=None):
        """The transaction of a till's Alma payment, made with it (`alma.payment.
        _alma_create_for`). The till's session books its money, not this transaction
        (`_create_payment`)."""
        return self.create({
            'provider_id': provider.id,
            'payment_method_id': provider._alma_payment_method().id,
            'reference': self._compute_reference('alma', prefix=order_name or None),
            'amount': amount,
            'currency_id': currency.id,
            'partner_id': partner.id,
            'operation': 'online_redirect',
        })

    def _alma_is_till(self):
        """Whether this transaction, or the one it refunds, is a till's Alma payment."""
        self.ensure_one()
        tx = self.source_transaction_id or self
        # sudo: whoever post-processes (the cron, a customer's page) may not read Alma payments.
        return tx.provider_code == 'alma' and 'pos' in tx.sudo().alma_payment_ids.mapped('channel')

    def _alma_cancel_earlier_payments(self):
        """The customer pays online what an earlier Alma payment still waits for: a link sent
        (by SMS, e-mail or QR code) or another online attempt (a second tab, the back button),
        of the same invoices or sale orders. That payment is cancelled at Alma first, so that
        one live link is left and nothing is paid twice.

        :raise UserError: that payment was paid meanwhile: there is nothing left to pay
        """
        # sudo: the customer may be the public user; only the Alma payments of this
        # transaction's own invoices and orders are read, to be cancelled at Alma.
        others = self.invoice_ids.sudo().transaction_ids
        if 'sale_order_ids' in self._fields:
            others |= self.sale_order_ids.sudo().transaction_ids
        earlier_txs = (others - self).filtered(lambda tx: tx.provider_code == 'alma')
        # A link sent from an invoice may be of a transaction or, made earlier, of none.
        of_the_same = [[('transaction_id', 'in', earlier_txs.ids)]] if earlier_txs else []
        if self.invoice_ids:
            of_the_same.append([('invoice_id', 'in', self.invoice_ids.ids)])
        if not of_the_same:
            return
        earlier = self.env['alma.payment'].sudo().search(expression.AND([
            expression.OR(of_the_same),
            [('state', '=', 'waiting'), ('transaction_id', '!=', self.id)],
        ]), order='id')
        for payment in earlier:
            try:
                payment._alma_cancel(reason_code='replaced_online')
            except UserError as error:  # Paid meanwhile (below), or Alma did not answer.
                _logger.warning("Alma payment %s not cancelled for the online payment: %s",
                                payment.alma_id, error)
            if payment.state == 'accepted':
                if payment.send_mode != 'here':
                    raise UserError(self.env._(
                        "This invoice has just been paid with the Alma link sent to you: there "
                        "is nothing left to pay."))
                raise UserError(self.env._(
                    "This has just been paid with the Alma payment you started earlier: there "
                    "is nothing left to pay."))

    # === BUSINESS METHODS: the one state path's effect on transactions === #

    @api.model
    def _alma_payment_values(self, payment):
        """What the Alma payment of a transaction adds to what is sent to Alma.

        :param payment: the `alma.payment` of a transaction (`transaction_id` set)
        :return: values of Alma's `payment` object: the return URLs, and the online origin of
                 the payment form
        """
        base_url = payment.provider_id.get_base_url()
        return_url = urljoin(base_url, AlmaController._return_url)
        values = {
            'return_url': return_url,
            'failure_return_url': return_url,
            'customer_cancel_url': urljoin(base_url, AlmaController._cancel_url),
        }
        # The customer paying in the payment form is online; a link sent from an invoice (a
        # phone sale) keeps the provider's in-store origin, whose fee plans its offers showed.
        if payment.send_mode == 'here':
            values['origin'] = const.ONLINE_ORIGIN
        return values

    @api.model
    def _alma_sync_from_payments(self, payment, verdict):
        """Bring the transaction of this Alma payment to what Alma's news makes of it
        (`verdict`, one of `const.PAYMENT_STATES`): the payment's state is read from it.

        Called by `alma.payment`, whatever told the change (return from Alma's page,
        notification, cron, the till, a cancellation), through Odoo's notification path.
        """
        txs = self._alma_notify(payment, lambda record: record._alma_notification_data(verdict))
        if any(tx.state == 'done' and not tx.is_post_processed for tx in txs):
            # Nobody may wait on the status page (a phone sale's customer pays on their own
            # phone): Odoo's post-processing pays the invoices now rather than at its next run.
            cron = self.env.ref('payment.cron_post_process_payment_tx', raise_if_not_found=False)
            if cron:
                cron._trigger()
        return txs

    @api.model
    def _alma_sync_from_refunds(self, refunds):
        """Bring the refund transactions of these Alma refunds to the state Alma gave them."""
        return self._alma_notify(refunds, lambda refund: refund._alma_notification_data())

    @api.model
    def _alma_notify(self, records, notification_data):
        """Hand what Alma said of these payments or refunds (`alma.payment`, `alma.refund`),
        `notification_data(record)`, to their transactions, through Odoo's notification path;
        one missing transaction stops no other."""
        txs = self
        # Read as the transactions are (sudo: see the callers).
        for record in records.with_env(self.env).filtered('transaction_id'):
            try:
                txs |= self._handle_notification_data('alma', notification_data(record))
            except ValidationError as error:
                _logger.warning("%s: %s", record.display_name, error)
        return txs

    def _get_tx_from_notification_data(self, provider_code, notification_data):
        """Override of `payment` to find the transaction of an Alma payment or refund."""
        tx = super()._get_tx_from_notification_data(provider_code, notification_data)
        if provider_code != 'alma' or len(tx) == 1:
            return tx
        reference = notification_data.get('reference')
        tx = self.search([('reference', '=', reference), ('provider_code', '=', 'alma')])
        if not tx:
            raise ValidationError(self.env._(
                "Alma: no transaction found matching reference %s.", reference))
        return tx

    def _process_notification_data(self, notification_data):
        """Override of `payment` to follow the state Alma gave the payment or the refund.

        `notification_data` is what our record of it learnt from Alma, and checked
        (`alma.payment._alma_notification_data`, `alma.refund._alma_notification_data`).
        """
        super()._process_notification_data(notification_data)
        if self.provider_code != 'alma':
            return
        provider_reference = notification_data.get('provider_reference')
        if provider_reference and self.provider_reference != provider_reference:
            self.provider_reference = provider_reference
        status = notification_data.get('status')
        reason = notification_data.get('reason') or None
        refund = self.operation == 'refund'
        if status in const.STATUS_MAPPING['pending']:
            # A link nobody opened yet is not a pending payment: the customer may still go
            # back and pay otherwise. Pending once Alma has started scoring the customer.
            alma_state = notification_data.get('alma_state')
            if refund or (alma_state and alma_state not in const.UNSTARTED_STATES):
                self._set_pending(reason)
        elif status in const.STATUS_MAPPING['done']:
            if refund:
                if self.state != 'done':
                    self._set_done()
                    self._post_process()  # The outgoing payment in the Alma journal, at once.
            elif error := self._alma_amount_error(notification_data):
                self._set_error(error)
            else:
                self._set_done()
        elif status in const.STATUS_MAPPING['cancel']:
            self._set_canceled(reason or self.env._("The Alma payment was cancelled."))
        elif status in const.STATUS_MAPPING['error']:
            self._set_error(reason or (
                self.env._("Alma refused the refund.") if refund
                else self.env._("The payment was not sent to Alma.")))
        else:
            _logger.info("Alma: state %r of transaction %s not understood", status,
                         self.reference)

    def _alma_amount_error(self, notification_data):
        """Why an accepted Alma payment does not pay this transaction, or '': it must be for
        exactly its amount and currency, fees offered too (Alma's purchase amount is then the
        price, `merchant_covers_all_fees`)."""
        price_cents = notification_data.get('price_cents')
        if (notification_data.get('currency') == self.currency_id.name
                and price_cents == to_cents(self.amount)
                and notification_data.get('purchase_amount_cents') == price_cents):
            return ''
        currency = self.currency_id.search([('name', '=', notification_data.get('currency'))])
        return self.env._(
            "Alma accepted %(alma)s but the transaction is for %(expected)s.",
            alma=(currency[:1] or self.currency_id).format(from_cents(price_cents or 0)),
            expected=self.currency_id.format(self.amount),
        )

    def _alma_customer_outcome(self):
        """What the customer back on the invoice's page is told of this transaction when its
        Alma payment did not go through, in the reader's language; '' otherwise."""
        self.ensure_one()
        if self.provider_code != 'alma' or self.state not in ('error', 'cancel'):
            return ''
        # sudo: the reader is the customer (maybe the public user, with the invoice's token);
        # only the reason of this transaction's own Alma payment is read.
        payment = self.sudo().alma_payment_ids[:1]
        code = payment.state_reason_code
        again = self.env._("You may try again or choose another payment method.")
        if code == 'refused':
            what = self.env._("Alma refused the payment: nothing was charged.")
        elif code == 'gave_up':
            what = self.env._("You left Alma's page: nothing was paid.")
        elif code == 'expired':
            what = self.env._("The payment with Alma was not finished in time: nothing was "
                              "paid.")
        elif code in ('cancelled', 'cancelled_by'):
            what = self.env._("The payment with Alma was cancelled: nothing was paid.")
        else:
            return ''  # Not the customer's doing (an error): Odoo's own messages tell it.
        return f"{what} {again}"

    # === BUSINESS METHODS: post-processing === #

    def _post_process(self):
        """Override of `payment` to book Alma's payments in the business's language.

        The invoice's chatter keeps the tracked payment state as the text of the environment
        that wrote it ("Not Paid → Paid"), and Odoo's cron (OdooBot) or the customer's status
        page post-processes: the clinic's books are written in the clinic's language instead.
        """
        alma_txs = self.filtered(lambda tx: tx.provider_code == 'alma')
        res = super(PaymentTransaction, self - alma_txs)._post_process()
        for company, txs in alma_txs.grouped('company_id').items():
            lang = company.partner_id.lang or self.env.lang
            txs = txs.with_context(lang=lang)
            super(PaymentTransaction, txs)._post_process()
            # The payment states are recomputed, and their tracking prepared, in that language.
            txs.env.flush_all()
        return res

    def _create_payment(self, **extra_create_values):
        """Override of `account_payment` to pay only what is left to pay of the invoices.

        A transaction may pay several invoices at once (the portal's overdue invoices): each
        one still open is paid (Odoo reconciles them all). An invoice already paid otherwise
        is left alone. What Alma collected beyond what was left to pay is booked in the Alma
        journal all the same (Alma pays it out), as the customer's credit; only that excess is
        flagged "Paid twice" to the bookkeeper. A till's payment or refund is booked by the
        till's session when it closes: not a second time here.
        """
        if self.provider_code != 'alma':
            return super()._create_payment(**extra_create_values)
        if self._alma_is_till():
            return self.env['account.payment']
        if self.operation == 'refund':
            return super()._create_payment(**extra_create_values)
        open_invoices = self.invoice_ids.filtered(
            lambda invoice: invoice.payment_state in ('not_paid', 'partial'))
        paid = self.invoice_ids - open_invoices
        excess = self.amount - sum(open_invoices.mapped('amount_residual'))
        if self.invoice_ids and self.currency_id.compare_amounts(excess, 0) > 0:
            # sudo: whoever post-processes (cron, status page) may not read Alma payments; only
            # this transaction's own is noted.
            payment = self.sudo().alma_payment_ids[:1]
            if payment:
                payment._alma_flag_paid_twice(
                    paid or self.invoice_ids, excess=min(excess, self.amount))
        if paid:
            # This transaction did not pay them: no reconciliation with them.
            self.invoice_ids -= paid
        return super()._create_payment(**extra_create_values)
