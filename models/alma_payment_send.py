import logging
import math
from dataclasses import dataclass, field, replace
from datetime import timedelta
from urllib.parse import urljoin

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.controllers.main import AlmaController
from odoo.addons.payment_alma.models.alma_payment import from_alma_timestamp
from odoo.addons.payment_alma.utils.alma_client import AlmaError
from odoo.addons.payment_alma.utils.locking import own_transaction_locked
from odoo.addons.payment_alma.utils.money import schedule_as_json, to_cents

_logger = logging.getLogger(__name__)

# One live Alma payment per sale key (a till's line, a transaction).
LIVE_STATES = ('draft', 'waiting', 'accepted')
# After a lost answer Alma may still be creating the payment: no second creation before this.
LOST_ANSWER_GRACE = timedelta(seconds=3 * const.TIMEOUTS[1])
# Pages of Alma's list read to find a payment whose creation answer was lost
# (const.LIST_LIMIT per page).
RECOVERY_MAX_PAGES = 50
# The link is sent again by SMS, or by e-mail, at most once in this interval (per payment).
RESEND_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class PaymentAsk:
    """What a channel (the till, an invoice, the payment form) asks of Alma: one payment of
    `amount` for `key`, what the payment pays on our side (e.g. ``pos:<line uuid>``).

    `links` are the payment's fields linking it to the sale (``pos_*``,
    ``transaction_id``, ``invoice_id``).
    """

    key: str
    provider: models.BaseModel
    amount: float
    currency: models.BaseModel
    plan: models.BaseModel
    contact: models.BaseModel
    partner: models.BaseModel
    fees_offered: bool
    send_mode: str
    links: dict = field(default_factory=dict)

    @property
    def online(self):
        """Whether the customer pays on the website (Odoo's payment form), Alma's online
        origin and plans; a link sent from the till or an invoice keeps the in-store ones."""
        return bool(self.links.get('transaction_id')) and self.send_mode == 'here'

    def with_env(self, env):
        """The same ask, its records read in `env` (the creation's own transaction)."""
        return replace(self, **{name: getattr(self, name).with_env(env) for name in (
            'provider', 'currency', 'plan', 'contact', 'partner')})


class AlmaPaymentSend(models.Model):
    """An Alma payment created on Alma exactly once, whatever the channel, and its link sent to
    the customer's contact."""

    _inherit = 'alma.payment'

    # === Creation on Alma: the one entry point of every channel === #

    @api.model
    def _alma_create_for(self, ask):
        """Find or create the one live Alma payment of `ask.key`, and have Alma create it.

        The callers check who may ask. This runs in a transaction of its own, committed before
        Alma is called and once it answered, so that what was asked of Alma is never lost with
        the caller's transaction; a lock on the key in the database makes a double click, a
        retry or a second server wait and then find the same payment.

        :param PaymentAsk ask: what the channel asks of Alma
        :return: the payment as plain data (see `_alma_result`): the caller's own transaction
                 may not see the new record yet.
        """
        # su: the callers checked the user's rights; the record is the add-on's own books.
        with own_transaction_locked(self.env, ask.key, su=True) as env:
            payments = env['alma.payment']
            try:
                payment, existing, error = payments._alma_find_or_create(ask.with_env(env))
            except UserError as exception:  # Eligibility, a missing key, Alma unreachable.
                payment, existing, error = payments, False, exception.args[0]
            return payment._alma_result(error, existing)

    def _alma_find_or_create(self, ask):
        """Return (payment, whether it existed, error); runs under the lock of `ask.key`."""
        # A draft found here was being sent by a worker that died: `_alma_send` resumes it.
        payment = self.search([('sale_key', '=', ask.key), ('state', 'in', LIVE_STATES)],
                              limit=1)
        if payment.state in ('waiting', 'accepted'):
            return payment, True, ''
        if payment.creation_attempted_at:
            # That worker died while Alma was creating it: the answer is lost, as after a
            # timeout, and Alma may still be creating it (found by the drill, issue 13).
            payment.creation_unanswered = True
        if not payment:
            # An answer lost earlier: Alma may hold that payment; never create a twin of it.
            payment = self.search([('sale_key', '=', ask.key), ('state', '=', 'error'),
                                   ('creation_attempted_at', '!=', False)], limit=1)
            if payment:
                payment.write({'state_reason_code': False, 'state_reason': False})  # Draft.
        if not payment:
            pos_config = self.env['pos.config'].browse(ask.links.get('pos_config_id'))
            problem = ask.contact._alma_contact_problem(ask.provider.company_id, pos_config)
            if problem:
                return payment, False, problem
            values = self._alma_new_values(ask)
            if ask.links.get('pos_payment_uuid'):
                values['transaction_id'] = self.env['payment.transaction']._alma_till_transaction(
                    ask.provider, ask.amount, ask.currency, ask.partner,
                    ask.links.get('pos_order_name')).id
            payment = self.create(values)
        return payment, False, payment._alma_send()

    @api.model
    def _alma_new_values(self, ask):
        """A new payment's values, every figure recomputed on the server from Alma's plans."""
        contact, partner = ask.contact, ask.partner
        if not contact._alma_contact_data()['is_complete']:
            raise UserError(self.env._("The contact's details are incomplete."))
        offers = ask.provider._alma_get_offers(
            ask.amount, ask.currency, fees_offered=ask.fees_offered, online=ask.online,
            country=contact.country_id or partner.country_id)
        offer = next((offer for offer in offers if offer['plan_id'] == ask.plan.id), None)
        if not offer or not offer['eligible']:
            raise UserError(offer['reason'] if offer else self.env._(
                "This plan is not offered."))
        return {
            'provider_id': ask.provider.id,
            'mode': 'live' if ask.provider.state == 'enabled' else 'test',
            'currency_id': ask.currency.id,
            'plan_id': ask.plan.id,
            'partner_id': partner.id,
            'contact_id': contact.id,
            'send_mode': ask.send_mode,
            'price_cents': to_cents(ask.amount),
            'purchase_amount_cents': offer['purchase_amount_cents'],
            'customer_fee_cents': offer['customer_fee_cents'],
            'fees_offered': offer['fees_offered'],
            'absorbed_fee_cents': offer['absorbed_fee_cents'],
            'merchant_fee_cents': offer['merchant_fee_cents'],
            'merchant_fee_vat_cents': offer['merchant_fee_vat_cents'],
            'schedule': schedule_as_json(offer['schedule']),
            'sale_key': ask.key,
            **ask.links,
        }

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
                'ipn_callback_url': urljoin(base_url, AlmaController._ipn_url),
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
        if self.transaction_id and self.channel != 'pos':  # Odoo's payment form, an invoice.
            payload['payment'].update(
                self.env['payment.transaction']._alma_payment_values(self))
        elif self.send_mode == 'here':  # The till's window: back to a page that closes it.
            return_url = f'{base_url}{AlmaController._return_url}'
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
                try:
                    self._alma_send_sms()
                except UserError as sms_error:
                    # The payment is made: the cashier shows the link instead, and reads why.
                    # sudo: Alma payments are read-only for everyone.
                    self.sudo().sms_error = sms_error.args[0]
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
            # Alma's own words: the reason is not rendered again per reader.
            self.write({'state_reason_code': const.NOT_SENT, 'state_reason': error})
            self._alma_checkpoint()
            return error
        self._alma_apply(data, source='create', learnt={
            'alma_id': data['id'],
            'url': data.get('url'),
            'expires_at': self._alma_deadline(data),
        })
        return ''

    def _alma_deadline(self, data):
        """When the link expires: Alma's `expired_at` stays empty until it has expired."""
        created = data.get('created') or int(fields.Datetime.now().timestamp())
        return from_alma_timestamp(data.get('expired_at')) or from_alma_timestamp(
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

    # === The link, sent again === #

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

        :raise UserError: too early (the message says in how many seconds it will be
            possible), or why Alma did not text it: the caller's transaction is rolled back
            with the time noted, so that the next click may try again at once.
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
        else:
            self._alma_send_sms()

    def _alma_send_sms(self):
        """Have Alma text the link to the contact.

        :raise UserError: why Alma did not text it
        """
        self.ensure_one()
        try:
            self.provider_id._alma_client().send_sms(self.alma_id)
        except AlmaError as error:
            if error.kind == 'forbidden':
                raise UserError(self.env._(
                    "Alma cannot send SMS for this account: show the link or its QR code to "
                    "the customer instead.")) from None
            raise
        # sudo: Alma payments are read-only for everyone; an earlier failure is forgotten.
        self.sudo().sms_error = False
