import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY
from odoo.tools import split_every

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.models.alma_payment import from_alma_timestamp
from odoo.addons.payment_alma.utils.alma_client import AlmaError
from odoo.addons.payment_alma.utils.money import from_cents, split_vat_included

_logger = logging.getLogger(__name__)

# A signed notification re-reads its payment from Alma at most this often (replays).
NOTIFICATION_INTERVAL_SECONDS = 5
# The cron commits the payments it polled by chunks: a till or a notification waits that long.
CRON_CHUNK = 20
# A chunk applied in a transaction of its own is tried again on a fresh snapshot when another
# transaction (a notification, a till, another server) changed one of its payments meanwhile.
APPLY_TRIES = 3
# Pages of Alma's waiting payments the cron reads (const.LIST_LIMIT per page) before reading
# one by one.
CRON_MAX_PAGES = 250
# The payments that left Alma's waiting list are read this many at a time: Alma answers in
# 100-300 ms, so one by one 1,000 of them would take longer than the cron's period.
CRON_PARALLEL_READS = 4


def _is_cents(value):
    """Whether Alma gave `value` as an amount in cents (an integer, not a boolean, not negative)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


class AlmaPaymentState(models.Model):
    """What Alma says of a payment, from its notification, the customer's return, the till's
    poll or the regular check, applied in one place."""

    _inherit = 'alma.payment'

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

    def _alma_apply(self, data, source, learnt=None):
        """Apply Alma's view of the payment; idempotent, whatever the order things arrive in.

        Its transaction is told first, through Odoo's notification path: the payment's state
        is read from it. What it writes (the payment, the transaction, the invoice and their
        chatter) is the business's books: in the business's language, whoever learnt the news
        (the public user for a notification, OdooBot for the cron).

        :param dict learnt: more of what Alma said to write first (its id and link, at creation)
        """
        self.ensure_one()
        if not self.env.su:
            # sudo: Alma payments are read-only for everyone; what Alma says is recorded
            # whoever learnt it (the callers checked who may ask Alma).
            return self.sudo()._alma_apply(data, source, learnt)
        lang = self.company_id.partner_id.lang or self.env.lang
        if self.env.lang != lang:
            return self.with_context(lang=lang)._alma_apply(data, source, learnt)
        self._alma_lock()
        before = self.state
        if before in const.FINAL_STATES:
            return
        values = dict(learnt or {})
        if data.get('state') != self.alma_state:
            values['alma_state'] = data.get('state')
        verdict, code, args = self._alma_state_from(data)
        if verdict != before:
            values.update(self._alma_reason_values(code, args))
            if verdict == 'accepted':
                values.update(accepted_date=fields.Datetime.now(), **self._alma_fee_values(data))
        if not values:
            return  # Nothing new: a waiting payment polled again.
        self.write(values)
        if verdict != before:
            self._alma_tell_transaction(verdict)
        self.flush_recordset()  # The one-live-payment-per-line index reads the database.
        if self.state != before:
            self._alma_note_state(source)
            if self.state_reason_code == 'test_mode':
                self._alma_flag_test_mode()
            if self.state_reason_code == 'amount_mismatch':
                self._alma_plan_mismatch_refund()
            self._alma_on_state_change()

    def _alma_tell_transaction(self, verdict):
        """Tell the transaction what Alma's news makes of the payment (`verdict`, one of
        `const.PAYMENT_STATES`), through Odoo's notification path."""
        # sudo: the state path runs for whoever told the change (IPN, cron, till, the customer's
        # return): the transaction of this payment follows it.
        self.env['payment.transaction'].sudo()._alma_sync_from_payments(self, verdict)

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
        expired_at = from_alma_timestamp(data.get('expired_at'))
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
            if self.state_reason_code in (False, const.NOT_SENT):
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
        """Its fee line once accepted; tell the tills that may wait (bus)."""
        for payment in self.filtered(lambda p: p.state == 'accepted'):
            self.env['alma.fee.line'].sudo()._alma_create_for_payment(payment)
        for payment in self.filtered('pos_payment_method_id'):
            tills = payment.pos_payment_method_id.config_ids.filtered('current_session_id')
            for till in tills | payment.pos_config_id:
                # The till's channel is public (pos_self_order hands its token to customers):
                # only the line and the state go there; the till reads the rest by RPC.
                till._notify('ALMA_PAYMENT_STATUS', {
                    'pos_payment_uuid': payment.pos_payment_uuid, 'state': payment.state})

    def _alma_notification_data(self, verdict):
        """What its transaction is told of this payment (`payment.transaction`'s notification
        path): what Alma's news makes of it (`verdict`), and what its amount check needs."""
        self.ensure_one()
        return {
            'reference': self.transaction_id.reference,
            'provider_reference': self.alma_id,
            'status': verdict,
            'alma_state': self.alma_state,
            'reason': self.state_reason,
            'currency': self.currency_id.name,
            'price_cents': self.price_cents,
            'purchase_amount_cents': self.purchase_amount_cents,
        }

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

    # === The regular check === #

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
