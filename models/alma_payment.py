import logging
import math
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY
from odoo.tools import split_every

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.controllers.portal import AlmaPortalController
from odoo.addons.payment_alma.utils.alma_client import AlmaError
from odoo.addons.payment_alma.utils.locking import own_transaction_locked
from odoo.addons.payment_alma.utils.money import (
    from_cents,
    split_vat_included,
    to_cents,
    without_cents_fields,
)

_logger = logging.getLogger(__name__)


def _is_cents(value):
    """Whether Alma gave `value` as an amount in cents (an integer, not a boolean, not negative)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0

# One live Alma payment per sale key (a till's line, a transaction).
LIVE_STATES = ('draft', 'waiting', 'accepted')
# After a lost answer Alma may still be creating the payment: no second creation before this.
LOST_ANSWER_GRACE = timedelta(seconds=3 * const.TIMEOUTS[1])
# Pages of Alma's list read to find a payment whose creation answer was lost
# (const.LIST_LIMIT per page).
RECOVERY_MAX_PAGES = 50
# A signed notification re-reads its payment from Alma at most this often (replays).
NOTIFICATION_INTERVAL_SECONDS = 5
# The cron commits the payments it polled by chunks: a till or a notification waits that long.
CRON_CHUNK = 20
# The link is sent again by SMS, or by e-mail, at most once in this interval (per payment).
RESEND_INTERVAL = timedelta(seconds=60)
# A chunk applied in a transaction of its own is tried again on a fresh snapshot when another
# transaction (a notification, a till, another server) changed one of its payments meanwhile.
APPLY_TRIES = 3
# Pages of Alma's waiting payments the cron reads (const.LIST_LIMIT per page) before reading
# one by one.
CRON_MAX_PAGES = 250
# The payments that left Alma's waiting list are read this many at a time: Alma answers in
# 100-300 ms, so one by one 1,000 of them would take longer than the cron's period.
CRON_PARALLEL_READS = 4


class AlmaPayment(models.Model):
    """One payment created on Alma, whatever the channel; the server's truth about its state.

    It is written (and committed) before Alma is called, so that a retry, a reload or a crash
    can always find what was sent, and never creates a second Alma payment for the same line.
    """

    _name = 'alma.payment'
    _description = "Alma Payment"
    _inherit = ['mail.thread', 'mail.activity.mixin']
    _order = 'id desc'
    _rec_name = 'reference'

    reference = fields.Char(
        required=True, readonly=True, copy=False, index=True,
        default=lambda self: f"ALMA-{uuid.uuid4().hex[:12].upper()}",
        help="Sent to Alma in custom_data: finds the payment again after a lost answer.",
    )
    provider_id = fields.Many2one('payment.provider', required=True, readonly=True,
                                  domain=[('code', '=', 'alma')])
    company_id = fields.Many2one(related='provider_id.company_id', store=True, index=True)
    currency_id = fields.Many2one('res.currency', required=True, readonly=True)
    state = fields.Selection(const.PAYMENT_STATES, default='draft', required=True,
                             readonly=True, tracking=True, index=True)
    state_reason = fields.Char(readonly=True)
    # Why the payment ended so, rendered again in each reader's language (`_alma_reason`): the
    # text above is written by whoever learnt the news (the public user, OdooBot).
    state_reason_code = fields.Char(readonly=True)
    state_reason_args = fields.Json(readonly=True)
    alma_state = fields.Char(string="State at Alma", readonly=True, tracking=True)
    alma_id = fields.Char(string="Alma Payment ID", readonly=True, copy=False, index=True)
    url = fields.Char(string="Payment Link", readonly=True)
    expires_at = fields.Datetime(readonly=True)
    accepted_date = fields.Datetime(readonly=True)
    creation_attempted_at = fields.Datetime(
        readonly=True, copy=False,
        help="When Odoo last asked Alma to create it: an answer lost after that is looked for "
             "at Alma before anything is created again.")
    creation_unanswered = fields.Boolean(
        readonly=True, copy=False,
        help="The last creation request got no answer (timeout, cut connection): Alma may "
             "still be creating that payment.")
    sale_key = fields.Char(
        readonly=True, copy=False, index=True,
        help="What it pays on our side (a till's line, a transaction): one live "
             "Alma payment per key.")
    mode = fields.Selection([('test', "Test"), ('live', "Live")], readonly=True,
                            help="Alma's sandbox or live account, when the payment was created.")
    notified_at = fields.Datetime(readonly=True, copy=False)

    plan_id = fields.Many2one('payment.alma.plan', required=True, readonly=True)
    installments_count = fields.Integer(related='plan_id.installments_count')
    schedule = fields.Json(readonly=True)
    partner_id = fields.Many2one('res.partner', string="Customer", readonly=True, index=True)
    contact_id = fields.Many2one('res.partner', readonly=True)
    send_mode = fields.Selection(const.SEND_MODES, readonly=True)
    sms_error = fields.Char(readonly=True)
    # When the link was last sent again, per way (the throttle of "Resend"; in the database,
    # so that every worker and server sees it).
    sms_resent_at = fields.Datetime(string="Texted Again", readonly=True, copy=False)
    email_resent_at = fields.Datetime(string="E-mailed Again", readonly=True, copy=False)

    # Money: integer cents, as Alma counts. The price is what the customer pays in all.
    price_cents = fields.Integer(readonly=True)
    purchase_amount_cents = fields.Integer(readonly=True, help="The amount Alma pays out on.")
    customer_fee_cents = fields.Integer(readonly=True)
    fees_offered = fields.Boolean(readonly=True)
    absorbed_fee_cents = fields.Integer(
        readonly=True, help="Of the clinic's fee, the customer's fees it offered (Alma's "
                            "merchant_covers_all_fees), estimated with the plan's rates.")
    merchant_fee_cents = fields.Integer(readonly=True)
    merchant_fee_vat_cents = fields.Integer(readonly=True)
    amount_refunded_cents = fields.Integer(readonly=True, copy=False)
    amount_refunded = fields.Monetary(compute='_compute_amounts')
    refund_ids = fields.One2many('alma.refund', 'payment_id', string="Refunds", readonly=True)
    refund_state = fields.Selection(
        [('none', "Not refunded"), ('partial', "Partially refunded"), ('full', "Refunded")],
        compute='_compute_refund_state', store=True, index=True)
    merchant_fee_source = fields.Selection(
        [('estimate', "Estimate"), ('alma', "Alma"), ('alma_total', "Alma incl. VAT")],
        string="Fee Source", default='estimate', readonly=True,
        help="Alma: the fee and its VAT as Alma's payment gives them. Alma incl. VAT: Alma's fee "
             "including VAT, the VAT worked out at the rate of the settings. Estimate: the "
             "plan's rates, until Alma's payment gives its fee.")
    amount_collected = fields.Monetary(
        string="Collected", compute='_compute_money_moved', store=True,
        help="What the customer paid, once Alma accepted the payment; nothing otherwise.")
    clinic_fee_charged = fields.Monetary(
        string="Fees Charged", compute='_compute_money_moved', store=True,
        help="The clinic's fees (incl. VAT) of an accepted payment; nothing otherwise.")
    channel = fields.Selection(
        [('pos', "Till"), ('invoice', "Invoice"), ('online', "Online")],
        compute='_compute_channel', store=True, index=True,
        help="Where the payment was asked: at the till, from an invoice in the back office "
             "(a phone sale), or by the customer on the website or the portal.")
    price = fields.Monetary(compute='_compute_amounts')
    purchase_amount = fields.Monetary(compute='_compute_amounts')
    clinic_fee_total = fields.Monetary(compute='_compute_amounts')

    pos_config_id = fields.Many2one('pos.config', readonly=True, index=True)
    pos_payment_method_id = fields.Many2one('pos.payment.method', readonly=True)
    pos_order_uuid = fields.Char(readonly=True)
    pos_order_name = fields.Char(readonly=True)
    pos_payment_uuid = fields.Char(readonly=True, index=True)
    pos_payment_id = fields.Many2one(
        'pos.payment', string="Paid POS Line", readonly=True, copy=False, index=True,
        ondelete='restrict',
        help="The till's payment line this Alma payment paid: it pays one line, once.")
    invoice_id = fields.Many2one(
        'account.move', readonly=True, index=True,
        help="The invoice its transaction pays (the first one when it pays several).")
    transaction_reference = fields.Char(readonly=True, index=True)

    _sql_constraints = [
        ('reference_unique', 'unique(reference)', "An Alma payment reference is unique."),
        ('alma_id_unique', 'unique(alma_id)', "This Alma payment is already recorded."),
        ('pos_payment_unique', 'unique(pos_payment_id)',
         "This Alma payment has already paid a line of the till."),
    ]

    @api.model
    def fields_get(self, allfields=None, attributes=None):
        """Override of `base` to keep the integer cents out of the search's filters and
        groupings (see `without_cents_fields`)."""
        return without_cents_fields(self, super().fields_get(allfields, attributes))

    def init(self):
        # One live Alma payment per sale, even for two requests at the same instant.
        self.env.cr.execute("""
            DROP INDEX IF EXISTS alma_payment_one_live_per_pos_line;
            CREATE UNIQUE INDEX IF NOT EXISTS alma_payment_one_live_per_sale
                ON alma_payment (sale_key)
             WHERE state IN ('draft', 'waiting', 'accepted') AND sale_key IS NOT NULL
        """)

    @api.depends('price_cents', 'purchase_amount_cents', 'merchant_fee_cents',
                 'merchant_fee_vat_cents', 'amount_refunded_cents')
    def _compute_amounts(self):
        for payment in self:
            payment.amount_refunded = from_cents(payment.amount_refunded_cents)
            payment.price = from_cents(payment.price_cents)
            payment.purchase_amount = from_cents(payment.purchase_amount_cents)
            payment.clinic_fee_total = from_cents(
                payment.merchant_fee_cents + payment.merchant_fee_vat_cents)

    @api.depends('pos_payment_uuid', 'send_mode', 'transaction_reference')
    def _compute_channel(self):
        for payment in self:
            if payment.pos_payment_uuid:
                payment.channel = 'pos'
            elif payment.transaction_reference and payment.send_mode == 'here':
                payment.channel = 'online'  # Odoo's payment form: the customer's own page.
            else:
                payment.channel = 'invoice'

    @api.depends('state', 'price_cents', 'merchant_fee_cents', 'merchant_fee_vat_cents')
    def _compute_money_moved(self):
        """The list's totals count only money that moved: refused, expired or cancelled
        payments moved none."""
        for payment in self:
            accepted = payment.state == 'accepted'
            payment.amount_collected = from_cents(payment.price_cents) if accepted else 0.0
            payment.clinic_fee_charged = from_cents(
                payment.merchant_fee_cents + payment.merchant_fee_vat_cents) if accepted else 0.0

    @api.depends('amount_refunded_cents', 'purchase_amount_cents')
    def _compute_refund_state(self):
        for payment in self:
            refunded = payment.amount_refunded_cents
            payment.refund_state = 'none' if not refunded else (
                'full' if refunded >= payment.purchase_amount_cents else 'partial')

    # === Creation on Alma: the one entry point of every channel === #

    @api.model
    def _alma_create_for(self, provider, *, key, amount, currency, plan, contact, partner,
                         fees_offered, send_mode, **links):
        """Find or create the one live Alma payment of `key`, and have Alma create it.

        The callers check who may ask. This runs in a transaction of its own, committed before
        Alma is called and once it answered, so that what was asked of Alma is never lost with
        the caller's transaction; a lock on `key` in the database makes a double click, a retry
        or a second server wait and then find the same payment.

        :param str key: what the payment pays on our side, e.g. ``pos:<line uuid>``
        :param dict links: the payment's fields linking it to the sale (``pos_*``,
                           ``transaction_reference``, ``invoice_id``)
        :return: the payment as plain data (see `_alma_result`): the caller's own transaction
                 may not see the new record yet.
        """
        # su: the callers checked the user's rights; the record is the add-on's own books.
        with own_transaction_locked(self.env, key, su=True) as env:
            payments = env['alma.payment']
            try:
                payment, existing, error = payments._alma_find_or_create(
                    key, provider.with_env(env), amount=amount, currency=currency.with_env(env),
                    plan=plan.with_env(env), contact=contact.with_env(env),
                    partner=partner.with_env(env), fees_offered=fees_offered,
                    send_mode=send_mode, links=links)
            except UserError as exception:  # Eligibility, a missing key, Alma unreachable.
                payment, existing, error = payments, False, exception.args[0]
            return payment._alma_result(error, existing)

    def _alma_find_or_create(self, key, provider, *, amount, currency, plan, contact, partner,
                             fees_offered, send_mode, links):
        """Return (payment, whether it existed, error); runs under the lock of `key`."""
        # A draft found here was being sent by a worker that died: `_alma_send` resumes it.
        payment = self.search([('sale_key', '=', key), ('state', 'in', LIVE_STATES)], limit=1)
        if payment.state in ('waiting', 'accepted'):
            return payment, True, ''
        if payment.creation_attempted_at:
            # That worker died while Alma was creating it: the answer is lost, as after a
            # timeout, and Alma may still be creating it (found by the drill, issue 13).
            payment.creation_unanswered = True
        if not payment:
            # An answer lost earlier: Alma may hold that payment; never create a twin of it.
            payment = self.search([('sale_key', '=', key), ('state', '=', 'error'),
                                   ('creation_attempted_at', '!=', False)], limit=1)
            if payment:
                payment.state = 'draft'
        if not payment:
            pos_config = self.env['pos.config'].browse(links.get('pos_config_id'))
            problem = contact._alma_contact_problem(provider.company_id, pos_config)
            if problem:
                return payment, False, problem
            payment = self.create(self._alma_new_values(
                provider, amount=amount, currency=currency, plan=plan, contact=contact,
                partner=partner, fees_offered=fees_offered, send_mode=send_mode,
                **links, sale_key=key))
        return payment, False, payment._alma_send()

    @api.model
    def _alma_is_online(self, send_mode, links):
        """Whether the customer pays on the website (Odoo's payment form), Alma's online
        origin and plans; a link sent from the till or an invoice keeps the in-store ones."""
        return bool(links.get('transaction_reference')) and send_mode == 'here'

    @api.model
    def _alma_new_values(self, provider, *, amount, currency, plan, contact, partner,
                         fees_offered, send_mode, **links):
        """A new payment's values, every figure recomputed on the server from Alma's plans."""
        if not contact._alma_contact_data()['is_complete']:
            raise UserError(self.env._("The contact's details are incomplete."))
        offers = provider._alma_get_offers(amount, currency, fees_offered=fees_offered,
                                           online=self._alma_is_online(send_mode, links),
                                           country=contact.country_id or partner.country_id)
        offer = next((offer for offer in offers if offer['plan_id'] == plan.id), None)
        if not offer or not offer['eligible']:
            raise UserError(offer['reason'] if offer else self.env._(
                "This plan is not offered."))
        return {
            'provider_id': provider.id,
            'mode': 'live' if provider.state == 'enabled' else 'test',
            'currency_id': currency.id,
            'plan_id': plan.id,
            'partner_id': partner.id,
            'contact_id': contact.id,
            'send_mode': send_mode,
            'price_cents': to_cents(amount),
            'purchase_amount_cents': offer['purchase_amount_cents'],
            'customer_fee_cents': offer['customer_fee_cents'],
            'fees_offered': offer['fees_offered'],
            'absorbed_fee_cents': offer['absorbed_fee_cents'],
            'merchant_fee_cents': offer['merchant_fee_cents'],
            'merchant_fee_vat_cents': offer['merchant_fee_vat_cents'],
            'schedule': [{'date': fields.Date.to_string(line['date']), 'amount': line['amount']}
                         for line in offer['schedule']],
            **links,
        }

    def _alma_result(self, error='', existing=False):
        """The payment as plain data, for a caller that cannot read it in its transaction."""
        error = error or (self.state == 'error' and self.state_reason) or ''
        return {
            'id': self.id or False,
            'reference': self.reference or '',
            'alma_id': self.alma_id or False,
            'state': self.state or False,
            'url': self.url or '',
            'error': error,
            'existing': existing,
            'pos': self._alma_pos_data() if self.pos_payment_uuid else False,
        }

    def _alma_checkpoint(self):
        """Commit: only ever in a transaction of the add-on's own (`_alma_create_for`, a
        refund), never in a caller's, so that what is asked of Alma is on record first."""
        self.env.cr.commit()  # pylint: disable=invalid-commit

    def _alma_origin(self):
        """What the payment pays, as the books name it: the till's order; the invoices (all of
        them, comma separated) or else the sale order of its transaction; else its reference."""
        self.ensure_one()
        if self.pos_order_name:
            return self.pos_order_name
        documents = self.invoice_id
        if self.transaction_reference:
            # sudo: whoever learnt that Alma accepted it (the public user, the cron) only names
            # the documents of the payment's own transaction.
            tx = self.env['payment.transaction'].sudo().search(
                [('reference', '=', self.transaction_reference)], limit=1)
            documents |= tx.invoice_ids.sorted('id')
            if not documents and 'sale_order_ids' in tx._fields:
                documents = tx.sale_order_ids.sorted('id')
        return ', '.join(documents.mapped('name')) or self.reference

    def _alma_locale(self):
        """The language Alma speaks to the customer (`locale`, e.g. 'fr'): the contact's, else
        the customer's, else the business's."""
        lang = self.contact_id.lang or self.partner_id.lang or self.company_id.partner_id.lang
        return (lang or 'fr_FR').split('_')[0]

    def _alma_payload(self):
        self.ensure_one()
        contact = self.contact_id
        first_name, last_name = contact._alma_split_name()
        address = {
            'first_name': first_name,
            'last_name': last_name,
            'email': contact.email,
            'phone': contact._alma_mobile(),
            'line1': contact.street,
            'line2': contact.street2 or '',
            'postal_code': contact.zip,
            'city': contact.city,
            'country': contact.country_id.code,
        }
        base_url = self.provider_id.get_base_url()
        reference = self.pos_order_name or self.invoice_id.name or self.reference
        payload = {
            'payment': {
                'purchase_amount': self.purchase_amount_cents,
                'installments_count': self.plan_id.installments_count,
                'deferred_days': self.plan_id.deferred_days,
                'deferred_months': self.plan_id.deferred_months,
                'origin': self.provider_id.alma_origin,
                # The customer's language on Alma's page and texts, not the cashier's.
                'locale': self._alma_locale(),
                'expires_after': const.LINK_EXPIRES_AFTER_MINUTES,
                'ipn_callback_url': urljoin(base_url, const.IPN_ROUTE),
                'custom_data': {'odoo_reference': self.reference},
                'billing_address': address,
            },
            'customer': {
                'first_name': first_name,
                'last_name': last_name,
                'email': contact.email,
                'phone': address['phone'],
                'addresses': [address],
            },
            'order': {'merchant_reference': reference},
        }
        if self.fees_offered:
            # The customer pays no fee, the clinic takes it on; the same value as asked in the
            # eligibility. Source: alma/widgets documentation.md, widgets-lit/src/utils/
            # fetch-eligibility.ts; Alma API summaries: `payment.merchant_covers_all_fees`.
            payload['payment']['merchant_covers_all_fees'] = True
        if self.transaction_reference:  # Odoo's payment form: return URLs, online origin.
            payload['payment'].update(
                self.env['payment.transaction']._alma_payment_values(self))
        elif self.send_mode == 'here':  # The till's window: back to a page that closes it.
            return_url = f'{base_url}{AlmaPortalController._return_url}'
            payload['payment'].update(return_url=return_url, failure_return_url=return_url,
                                      customer_cancel_url=return_url)
        return payload

    def _alma_send(self):
        """Create the payment on Alma, then text or e-mail the link when asked to.

        Only in the transaction of `_alma_create_for`: it commits.
        """
        error = self._alma_create_remote()
        if not error and self.state == 'waiting':
            if self.send_mode == 'sms':
                self._alma_send_sms()
            elif self.send_mode == 'email':
                self._alma_send_email()
        return error

    def _alma_create_remote(self):
        """Create the payment on Alma once; after a lost answer, find it at Alma first.

        :return: an error message for the user, or '' when the payment exists on Alma.
        """
        self.ensure_one()
        try:
            client = self.provider_id._alma_client()
            # An error while looking for a lost payment says nothing of it: the marker stays
            # (`_alma_recover` turns it into "try again").
            data, error = self._alma_recover(client) if self.creation_attempted_at else (None, '')
            if not data and not error:
                self.write({'creation_attempted_at': fields.Datetime.now(),
                            'creation_unanswered': False})
                self._alma_checkpoint()  # On record before Alma is asked.
                data = client.create_payment(self._alma_payload())
        except AlmaError as exception:  # Only the answer to `POST /v1/payments` itself.
            data, error = None, exception.args[0]
            if exception.kind in ('timeout', 'connection', 'bad_response'):
                self.creation_unanswered = True  # Alma may have it, or be creating it.
            elif exception.status and exception.status < 500:
                self.creation_attempted_at = False  # Alma refused it: nothing was created.
        except UserError as exception:  # A missing key: Alma was not asked.
            data, error = None, exception.args[0]
        if error:
            self.write({'state': 'error', 'state_reason': error})
            self._alma_checkpoint()
            return error
        self.write({
            'alma_id': data['id'],
            'url': data.get('url'),
            'expires_at': self._alma_deadline(data),
        })
        self._alma_apply(data, source='create')
        return ''

    def _alma_deadline(self, data):
        """When the link expires: Alma's `expired_at` stays empty until it has expired."""
        created = data.get('created') or int(fields.Datetime.now().timestamp())
        return _from_timestamp(data.get('expired_at')) or _from_timestamp(
            int(created) + 60 * const.LINK_EXPIRES_AFTER_MINUTES)

    def _alma_recover(self, client):
        """Return (Alma's payment, '') after a lost answer, or (None, why nothing is created).

        (None, '') means Alma conclusively never created it: it may be created now. Any error
        of Alma's while looking (a 400, 401, 404, 429 or 5xx of the list) is inconclusive:
        only an answer to the creation itself says that nothing was created.
        """
        try:
            found, conclusive = self._alma_find_remote(client)
        except AlmaError as error:
            _logger.warning("Alma's list not read for %s: %s", self.reference, error)
            found, conclusive = None, False
        if found:
            return found, ''
        if not conclusive:
            return None, self.env._(
                "Alma could not tell whether the first attempt created the payment, so nothing "
                "was created again. Try again in a moment.")
        wait = (self.creation_attempted_at + LOST_ANSWER_GRACE - fields.Datetime.now())
        if self.creation_unanswered and wait.total_seconds() > 0:
            return None, self.env._(
                "Alma has not confirmed the first attempt yet, so nothing was created again. "
                "Try again in %s s.", math.ceil(wait.total_seconds()))
        self.creation_attempted_at = False
        return None, ''

    def _alma_find_remote(self, client):
        """Look for the payment carrying our reference; return (its data or None, conclusive).

        Its link never reached the customer (the answer was lost), so it can only be
        `not_started`, or `not_ready` while Alma initializes its plan: Alma's state filter and
        pagination scan those, whatever their order, by pages of `const.LIST_LIMIT`.
        """
        after = None
        for _page in range(RECOVERY_MAX_PAGES):
            answer = client.list_payments(states=const.UNSTARTED_STATES, starting_after=after)
            page = answer.get('data') or []
            for data in page:
                if (data.get('custom_data') or {}).get('odoo_reference') == self.reference:
                    _logger.info("Alma payment %s found again for %s", data['id'], self.reference)
                    return data, True
            if not answer.get('has_more') or not page:
                return None, True
            after = page[-1]['id']
        return None, False

    # === State: the one place every channel goes through === #

    def _alma_lock(self):
        """Serialize the webhook, the cron and the POS on this payment until commit."""
        # A concurrent update is expected here and retried (Odoo's requests, or
        # `_alma_apply_apart`): not an error for the log.
        self.env.cr.execute(
            "SELECT id FROM alma_payment WHERE id IN %s FOR UPDATE", [tuple(self.ids)],
            log_exceptions=False)
        self.invalidate_recordset()

    def _alma_fetch(self):
        """What Alma says now of each payment, by id; a payment Alma did not give is left out."""
        # One HTTP session per Alma account: the connection is kept alive.
        clients, news = {}, {}
        for payment in self.filtered('alma_id'):
            account = (payment.provider_id.id, payment.mode)
            try:
                if account not in clients:
                    clients[account] = payment._alma_client()
                news[payment.id] = clients[account].get_payment(payment.alma_id)
            except UserError as error:  # AlmaError, or a provider left without its key.
                _logger.warning("Alma payment %s not refreshed: %s", payment.alma_id, error)
        return news

    def _alma_client(self):
        """A client of the Alma account the payment was made on (sandbox or live): a sandbox
        payment is read from the sandbox even once the provider went live."""
        self.ensure_one()
        return self.provider_id._alma_client(mode=self.mode or None)

    def _alma_refresh(self, source):
        """Re-read each payment from Alma and apply what it says; one failure stops no other."""
        news = self._alma_fetch()
        for payment in self.filtered(lambda payment: payment.id in news):
            payment._alma_apply(news[payment.id], source=source)

    def _alma_refresh_notified(self, source):
        """A signed notification or a customer's return: re-read the payment from Alma when due
        (see `_alma_notification_due`), then apply what it says in a transaction of its own.

        Nothing holds the payment's row while Alma answers: the throttle is committed first,
        what Alma said is applied after, so that the cron, the tills and the other servers
        never wait on Alma through this payment.
        """
        self.ensure_one()
        if self._alma_notification_due():
            self._alma_apply_apart(self._alma_fetch(), source)

    def _alma_apply_apart(self, news, source):
        """Apply Alma's `news` ({payment id: Alma's data}) by chunks, each in a transaction of
        its own, committed at once: what was learnt is kept whatever comes next.

        Odoo's transactions see one snapshot: a chunk whose payment another transaction changed
        meanwhile fails on its lock, and is applied again on a fresh snapshot (what Alma said
        is applied idempotently); after a few tries it is left to the next poll.
        """
        for chunk in split_every(CRON_CHUNK, list(news)):
            for attempt in range(1, APPLY_TRIES + 1):
                try:
                    with self.env.registry.cursor() as cr:
                        for payment in self.with_env(self.env(cr=cr)).browse(chunk):
                            payment._alma_apply(news[payment.id], source=source)
                    break
                except psycopg2.OperationalError as error:
                    if error.pgcode not in PG_CONCURRENCY_ERRORS_TO_RETRY:
                        raise
                    if attempt == APPLY_TRIES:
                        _logger.warning("Alma payments %s changed by others while applying what "
                                        "Alma said: left to the next poll.", chunk)
                    else:
                        time.sleep(random.uniform(0.05, 0.25) * attempt)
        self.env.invalidate_all()  # Other transactions changed what this one may have read.

    def _alma_apply(self, data, source):
        """Apply Alma's view of the payment; idempotent, whatever the order things arrive in.

        What it writes (the payment, the transaction, the invoice and their chatter) is the
        business's books: in the business's language, whoever learnt the news (the public user
        for a notification, OdooBot for the cron).
        """
        self.ensure_one()
        if not self.env.su:
            # sudo: Alma payments are read-only for everyone; what Alma says is recorded
            # whoever learnt it (the callers checked who may ask Alma).
            return self.sudo()._alma_apply(data, source)
        lang = self.company_id.partner_id.lang or self.env.lang
        if self.env.lang != lang:
            return self.with_context(lang=lang)._alma_apply(data, source)
        self._alma_lock()
        if self.state in const.FINAL_STATES:
            return
        values = {}
        if data.get('state') != self.alma_state:
            values['alma_state'] = data.get('state')
        new_state, code, args = self._alma_state_from(data)
        if new_state != self.state:
            values.update(state=new_state, **self._alma_reason_values(code, args))
            if new_state == 'accepted':
                values.update(accepted_date=fields.Datetime.now(), **self._alma_fee_values(data))
        if not values:
            return  # Nothing new: a waiting payment polled again.
        self.write(values)
        self.flush_recordset()  # The one-live-payment-per-line index reads the database.
        if 'state' in values:
            self._alma_note_state(source)
            if self.state_reason_code == 'test_mode':
                self._alma_flag_test_mode()
            if self.state_reason_code == 'amount_mismatch':
                self._alma_plan_mismatch_refund()
            self._alma_on_state_change()

    def _alma_note_state(self, source):
        """Say in the chatter what the state became and who told, in the business's language
        (whoever learnt it: the public user for a notification, OdooBot for the cron)."""
        env = self.with_context(lang=self.company_id.partner_id.lang or self.env.lang).env
        channels = {
            'create': env._("Alma's answer"), 'notification': env._("Alma's notification"),
            'cron': env._("the regular check"), 'pos': env._("the till"),
            'retry': env._("a retry"), 'cancel': env._("the cancellation"),
            'return': env._("the customer's return"),
            'invoice': env._("the invoice's Alma dialog"),
        }
        state = dict(self._fields['state']._description_selection(env))[self.state]
        internal = self.env.user._is_internal()
        self.message_post(
            body=env._("%(state)s (learnt from: %(channel)s).", state=state,
                       channel=channels.get(source, source)),
            author_id=None if internal else self.env.ref('base.partner_root').id,
        )

    def _alma_state_from(self, data):
        """Return (state, reason code, reason arguments) from Alma's view of the payment."""
        alma_state = data.get('state')
        if alma_state in const.ACCEPTED_STATES:
            if self.mode == 'test' and self.provider_id.state == 'enabled':
                # Paid on Alma's sandbox, where no money moves: never a sale once Alma is live.
                return 'refused', 'test_mode', {}
            if data.get('purchase_amount') != self.purchase_amount_cents:
                self._alma_flag_fraud('amount_mismatch')
                return 'refused', 'amount_mismatch', {
                    'alma': data.get('purchase_amount') or 0,
                    'expected': self.purchase_amount_cents,
                }
            return 'accepted', '', {}
        if alma_state in const.REFUSED_STATES:
            # Alma's sources give no reason with a refusal (no `state_reason` in any client or
            # plugin): the customer is told Alma refused, not why.
            return 'refused', 'refused', {}
        expired_at = _from_timestamp(data.get('expired_at'))
        if expired_at and expired_at <= fields.Datetime.now():
            return 'expired', 'expired', {}
        return 'waiting', '', {}

    def _alma_reason_values(self, code, args=None):
        """The reason to write: its code and arguments, and its text in the business's language
        (for the form view and the payment form's messages)."""
        lang = self.company_id.partner_id.lang or self.env.lang
        return {
            'state_reason_code': code or False,
            'state_reason_args': args or False,
            'state_reason': self.with_context(lang=lang)._alma_reason(code, args) or False,
        }

    def _alma_reason(self, code=None, args=None):
        """Why the payment ended so, in the reader's language (this environment's)."""
        if code is None:
            if not self.state_reason_code:
                return self.state_reason or ''  # Alma's own words (an error), or no reason.
            code, args = self.state_reason_code, self.state_reason_args
        args = args or {}
        if code == 'amount_mismatch':
            currency = self.currency_id
            return self.env._(
                "Alma's amount (%(alma)s) differs from the sale's (%(expected)s): refused.",
                alma=currency.format(from_cents(args.get('alma') or 0)),
                expected=currency.format(from_cents(args.get('expected') or 0)))
        if code == 'refused':
            return self.env._("Alma refused the payment.")
        if code == 'expired':
            return self.env._("The payment link has expired.")
        if code == 'cancelled':
            return self.env._("Cancelled.")
        if code == 'cancelled_by':
            return self.env._("Cancelled by %s.", args.get('user') or '')
        if code == 'gave_up':
            return self.env._("The customer gave up on Alma's page.")
        if code == 'replaced_online':
            return self.env._("Replaced by the payment the customer started online.")
        if code == 'test_mode':
            return self.env._("Paid in Alma's test mode, where no money is taken, after Alma "
                              "went live: refused.")
        return ''

    def _alma_fee_values(self, data):
        """Alma's own fee on the payment replaces our estimate: `fees.merchant`
        (`total_excluding_tax` and `tax`, cents) when Alma gives it, else `merchant_target_fee`,
        which includes VAT, split at the clinic's rate.

        Source: alma/alma-php-client (feature/3.0)
        tests/Unit/Infrastructure/Endpoint/Entity/PaymentTest.php, where `merchant_target_fee`
        (1186) equals `fees.merchant.total` (989 excluding tax + 197 tax).
        """
        fees = data.get('fees') if isinstance(data.get('fees'), dict) else {}
        merchant = fees.get('merchant') if isinstance(fees.get('merchant'), dict) else {}
        excluding_tax, tax = merchant.get('total_excluding_tax'), merchant.get('tax')
        if _is_cents(excluding_tax) and _is_cents(tax):
            return {'merchant_fee_cents': excluding_tax, 'merchant_fee_vat_cents': tax,
                    'merchant_fee_source': 'alma'}
        total = data.get('merchant_target_fee')
        if not _is_cents(total):
            return {}
        fee, vat = split_vat_included(total, self.provider_id.alma_fee_vat_rate)
        return {'merchant_fee_cents': fee, 'merchant_fee_vat_cents': vat,
                'merchant_fee_source': 'alma_total'}

    def _alma_flag_fraud(self, reason):
        try:
            self._alma_client().flag_potential_fraud(self.alma_id, reason)
        except UserError as error:  # AlmaError, or the provider disabled meanwhile.
            _logger.warning("Could not flag Alma payment %s: %s", self.alma_id, error)

    def _alma_on_state_change(self):
        """Bring the transactions (web, invoices) along; tell the tills that may wait (bus)."""
        # sudo: the state path runs for whoever told the change (IPN, cron, till, the customer's
        # return): the transactions of these payments follow it.
        self.env['payment.transaction'].sudo()._alma_sync_from_payments(self)
        for payment in self.filtered(lambda p: p.state == 'accepted'):
            self.env['alma.fee.line'].sudo()._alma_create_for_payment(payment)
        for payment in self.filtered('pos_payment_method_id'):
            tills = payment.pos_payment_method_id.config_ids.filtered('current_session_id')
            for till in tills | payment.pos_config_id:
                # The till's channel is public (pos_self_order hands its token to customers):
                # only the line and the state go there; the till reads the rest by RPC.
                till._notify('ALMA_PAYMENT_STATUS', {
                    'pos_payment_uuid': payment.pos_payment_uuid, 'state': payment.state})

    def _alma_notification_due(self):
        """Whether a signed notification may re-read this payment from Alma now.

        A final payment is never re-read, and replays re-read a payment at most every few
        seconds: a replayed notification cannot make us flood Alma. Atomic across workers, and
        committed at once in a transaction of its own: no row stays locked while Alma answers.
        """
        self.ensure_one()
        if self.state in const.FINAL_STATES:
            return False
        for _attempt in range(APPLY_TRIES):
            try:
                with self.env.registry.cursor() as cr:
                    cr.execute("""
                        UPDATE alma_payment SET notified_at = (now() AT TIME ZONE 'UTC')
                         WHERE id = %s AND state NOT IN %s AND (notified_at IS NULL
                                OR notified_at < (now() AT TIME ZONE 'UTC')
                                                 - make_interval(secs => %s))
                     RETURNING id
                    """, [self.id, const.FINAL_STATES, NOTIFICATION_INTERVAL_SECONDS],
                        log_exceptions=False)
                    return bool(cr.fetchone())
            except psycopg2.OperationalError as error:
                if error.pgcode not in PG_CONCURRENCY_ERRORS_TO_RETRY:
                    raise
        return False  # Changed by others again and again: it is being re-read right now.

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
            invoice.activity_schedule(
                'mail.mail_activity_data_todo', summary=self.env._("Paid twice"), note=note,
                user_id=(invoice.invoice_user_id or self.env.ref('base.user_admin')).id)

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
        tx = self.env['payment.transaction'].sudo().search(
            [('reference', '=', self.transaction_reference)], limit=1) \
            if self.transaction_reference else self.env['payment.transaction']
        for invoice in tx.invoice_ids | self.invoice_id.sudo():
            invoice.activity_schedule(
                'mail.mail_activity_data_todo', summary=self.env._("Alma test payment"),
                note=note,
                user_id=(invoice.invoice_user_id or self.env.ref('base.user_admin')).id)

    # === Actions === #

    def _alma_cancel(self, reason_code='cancelled_by'):
        """Cancel on Alma so that the customer can no longer pay; refused once charged."""
        self.ensure_one()
        if not self.env.su:
            # sudo: Alma payments are read-only for everyone; the callers checked who may
            # cancel (the till's cashier, the invoice's bookkeeper, the paying browser).
            return self.sudo()._alma_cancel(reason_code)
        if self.state == 'draft' or not self.alma_id:
            self.write({'state': 'cancelled', **self._alma_reason_values('cancelled')})
            self.flush_recordset()
            return ''
        client = self._alma_client()
        try:
            data = client.cancel_payment(self.alma_id) or {}
        except AlmaError as error:
            self._alma_refresh(source='cancel')
            if self.state == 'accepted':
                return self.env._(
                    "The customer has already paid the first installment: the payment can no "
                    "longer be cancelled. Refund it instead.")
            return error.args[0]
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
            self.write({'state': 'cancelled', 'alma_state': data.get('state'), **reason})
            self.flush_recordset()
            self.message_post(
                body=reason['state_reason'],
                author_id=None if self.env.user._is_internal()
                else self.env.ref('base.partner_root').id)
            self._alma_on_state_change()
        return ''

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
        if self.pos_payment_id:
            raise UserError(self.env._(
                "This Alma payment paid the sale %s at the till: refund it at the till (the "
                "order's Refund, paid back with Alma), so that the refund order takes back the "
                "sale and its VAT. Nothing was refunded.",
                # sudo: the name of the order this payment paid, for the message only.
                self.sudo().pos_payment_id.pos_order_id.name or self.pos_order_name or ''))
        left_cents = self.purchase_amount_cents - self.amount_refunded_cents
        transaction = self.env['payment.transaction'].search([
            ('reference', '=', self.transaction_reference), ('provider_code', '=', 'alma'),
            ('state', '=', 'done')], limit=1) if self.transaction_reference else None
        invoices = (transaction.invoice_ids if transaction else self.invoice_id).filtered(
            lambda move: move.move_type == 'out_invoice' and move.state == 'posted')
        if invoices:
            return self._alma_credit_note_action(invoices)
        if transaction:
            transaction.action_refund(amount_to_refund=from_cents(left_cents))
            refund_tx = transaction.child_transaction_ids.sorted('id')[-1:]
            return self._alma_refund_notification(
                refund_tx.state == 'done', left_cents, refund_tx.state_message)
        # Up to what is left now: a double click finds this refund again.
        result = self.env['alma.refund']._alma_refund_for(
            self, key=f'button:{self.id}:{self.amount_refunded_cents}')
        if result['state'] != 'done':
            raise UserError(result['error'])
        return self._alma_refund_notification(True, result['amount_cents'], '')

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
        return self._alma_refund_notification(True, result['amount_cents'], '')

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

    def _alma_refund_notification(self, done, amount_cents, message):
        self.ensure_one()
        amount = self.currency_id.format(from_cents(amount_cents))
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success' if done else 'warning',
                'message': self.env._(
                    "Alma refunds %s to the customer; it takes it back from its next transfer.",
                    amount) if done else message,
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

    def _alma_send_email(self):
        """Queue the e-mail with the payment link to the contact, in the contact's language
        (the template `mail_template_alma_payment_link`, which the clinic may reword); note it
        in the payment's chatter, and in the invoice's for an invoice's link."""
        self.ensure_one()
        # sudo: whoever sends the link (a cashier, a bookkeeper) has the clinic's e-mail sent,
        # from the clinic's template, without having to read templates or write mails.
        template = self.env.ref('payment_alma.mail_template_alma_payment_link').sudo()
        template.send_mail(self.id)
        note = self.env._(
            "Alma payment link e-mailed to %(email)s: %(amount)s, %(plan)s.",
            email=self.contact_id.email, amount=self.currency_id.format(self.price),
            plan=self.plan_id.name)
        self.message_post(body=note)
        if self.invoice_id:
            # sudo: the link's sender may pay the invoice (checked by the callers); the note is
            # the invoice's history.
            self.invoice_id.sudo().message_post(body=note)

    def _alma_resend(self, channel):
        """Send the link again by `channel` ('sms': Alma texts it; 'email': Odoo e-mails it),
        at most once per `RESEND_INTERVAL` and way: a customer is not flooded with texts and
        e-mails, whoever clicks and however often.

        The last time is written on the payment before anything is sent: two clicks at once,
        on any worker or server, send once (the second waits on the row, then is refused).

        :return: '' or why the SMS was not sent (the payment's SMS error)
        :raise UserError: too early; the message says in how many seconds it will be possible
        """
        self.ensure_one()
        field = f'{channel}_resent_at'
        now = fields.Datetime.now()
        last = self[field]
        if last and last + RESEND_INTERVAL > now:
            wait = math.ceil((last + RESEND_INTERVAL - now).total_seconds())
            raise UserError(self.env._("You can send the link again in %s s.", wait))
        # sudo: Alma payments are read-only for everyone; whoever may send the link again (the
        # callers checked it) notes when, for the throttle.
        self.sudo().write({field: now})
        self.flush_recordset([field])  # The row's lock: a concurrent click waits on it.
        if channel == 'email':
            self._alma_send_email()
            return ''
        error = self._alma_send_sms()
        if error:
            # sudo: as above. Nothing was texted: the next click may try again at once.
            self.sudo().write({field: last})
        return error

    def _alma_send_sms(self):
        self.ensure_one()
        try:
            self.provider_id._alma_client().send_sms(self.alma_id)
        except AlmaError as error:
            message = error.args[0]
            if error.kind == 'forbidden':
                message = self.env._(
                    "Alma cannot send SMS for this account: show the link or its QR code to "
                    "the customer instead.")
            # sudo: Alma payments are read-only for everyone; the sender may see why.
            self.sudo().sms_error = message
            return message
        self.sudo().sms_error = False  # sudo: as above.
        return ''

    @api.model
    def _cron_alma_poll_pending(self):
        """Poll Alma for every payment still waiting: never twice at once, and no row is locked
        while Alma answers (what Alma says is read first, then applied by short chunks)."""
        # Odoo's cron already runs its job once at a time (it holds the job's row); this lock
        # also keeps a call from outside the cron (`scripts/bench`, a shell) from polling Alma
        # beside it, and lets a test play a second server.
        self.env.cr.execute("SELECT pg_try_advisory_xact_lock(hashtext('alma.payment.poll'))")
        if not self.env.cr.fetchone()[0]:
            return  # Another worker or server is polling right now.
        self.env.flush_all()  # The chunks' own transactions read what this one wrote.
        pending = self.search([('state', '=', 'waiting'), ('alma_id', '!=', False)], order='id')
        for provider, payments in pending.grouped('provider_id').items():
            payments._alma_apply_apart(payments._alma_read_news(provider), 'cron')
        self.env['alma.refund']._alma_check_unanswered()
        self._alma_refund_mismatches()
        self.env.invalidate_all()

    def _alma_read_news(self, provider):
        """What Alma says now of these waiting payments, by id: one paginated scan of Alma's
        `not_started` (or `not_ready`) payments, then a read of each payment that is no longer
        among them."""
        by_alma_id = {payment.alma_id: payment.id for payment in self}
        news = {}
        try:
            client = provider._alma_client()
        except UserError as error:  # A provider left without its key.
            _logger.warning("Alma payments of %s not refreshed: %s", provider.name, error)
            return news
        try:
            after = None
            for _page in range(CRON_MAX_PAGES):
                answer = client.list_payments(states=const.UNSTARTED_STATES,
                                              starting_after=after)
                page = answer.get('data') or []
                news.update({by_alma_id[data['id']]: data for data in page
                             if data.get('id') in by_alma_id})
                if not answer.get('has_more') or not page:
                    break
                after = page[-1]['id']
        except AlmaError as error:  # The reads below learn what the scan could not.
            _logger.warning("Alma's waiting payments not listed: %s", error)
        left_list = [alma_id for alma_id, payment_id in by_alma_id.items()
                     if payment_id not in news]

        def read(alma_id):
            # Runs in a thread: HTTP only, no cursor (the environment's language is read
            # below, before the threads start, for the client's error messages).
            try:
                return client.get_payment(alma_id)
            except AlmaError as error:
                _logger.warning("Alma payment %s not refreshed: %s", alma_id, error)
                return None

        _lang = self.env.lang  # The client's messages read it: computed here, not in threads.
        with ThreadPoolExecutor(CRON_PARALLEL_READS, thread_name_prefix='alma-cron') as pool:
            for alma_id, data in zip(left_list, pool.map(read, left_list), strict=True):
                if data is not None:
                    news[by_alma_id[alma_id]] = data
        return news

    # === Data for the POS === #

    def _alma_pos_data(self):
        self.ensure_one()
        # In the language of the cashier who asks (the till), whoever learnt the news.
        states = dict(self._fields['state']._description_selection(self.env))
        state = 'waiting' if self.state == 'draft' else self.state
        return {
            'id': self.id,
            'alma_id': self.alma_id or False,
            'pos_payment_uuid': self.pos_payment_uuid,
            'state': state,
            'state_label': states[state],
            'state_reason': self._alma_reason(),
            'url': self.url or '',
            'expires_at': fields.Datetime.to_string(self.expires_at) if self.expires_at else False,
            'send_mode': self.send_mode,
            'sms_error': self.sms_error or False,
            'plan_name': self.plan_id.name,
            'schedule': self.schedule or [],
            'purchase_amount': from_cents(self.purchase_amount_cents),
            'customer_fee': from_cents(self.customer_fee_cents),
            'customer_total': from_cents(self.price_cents),
            'clinic_fee_total': self.clinic_fee_total,
            'fees_offered': self.fees_offered,
            'contact_name': self.contact_id.name or '',
        }

    def _alma_pos_refund_summary(self, refunded_cents=None):
        """What the till's refund dialog shows of this (original) payment."""
        self.ensure_one()
        refunded = self.amount_refunded_cents if refunded_cents is None else refunded_cents
        return {
            'id': self.id,
            'alma_id': self.alma_id or False,
            'plan_name': self.plan_id.name,
            'contact_name': self.contact_id.name or '',
            'accepted_date': fields.Datetime.to_string(self.accepted_date)
            if self.accepted_date else False,
            'price': self.price,
            'purchase_amount': self.purchase_amount,
            'fees_offered': self.fees_offered,
            'refunded': from_cents(refunded),
            'left': from_cents(max(self.purchase_amount_cents - refunded, 0)),
        }


def _from_timestamp(value):
    """Alma's unix timestamps as Odoo's naive UTC datetimes."""
    if not value:
        return False
    return datetime.fromtimestamp(int(value), tz=timezone.utc).replace(tzinfo=None)
