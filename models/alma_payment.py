import logging
import uuid
from datetime import datetime, timedelta, timezone

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.modules import module as odoo_module
from odoo.sql_db import TestCursor

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.utils.alma_client import AlmaError
from odoo.addons.payment_alma.utils.money import from_cents

_logger = logging.getLogger(__name__)

# A creation still "draft" after this long died with its worker: a retry may then recover it.
STALE_DRAFT = timedelta(seconds=90)
# The cron holds the rows it polled until it commits: a till or a notification waits that long.
CRON_COMMIT_EVERY = 20


class AlmaPayment(models.Model):
    """One payment created on Alma, whatever the channel; the server's truth about its state.

    It is written (and committed) before Alma is called, so that a retry, a reload or a crash
    can always find what was sent, and never creates a second Alma payment for the same line.
    """

    _name = 'alma.payment'
    _description = "Alma Payment"
    _inherit = ['mail.thread']
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
    alma_state = fields.Char(string="State at Alma", readonly=True, tracking=True)
    alma_id = fields.Char(string="Alma Payment ID", readonly=True, copy=False, index=True)
    url = fields.Char(string="Payment Link", readonly=True)
    expires_at = fields.Datetime(readonly=True)
    accepted_date = fields.Datetime(readonly=True)
    creation_attempted = fields.Boolean(readonly=True, copy=False)

    plan_id = fields.Many2one('payment.alma.plan', required=True, readonly=True)
    installments_count = fields.Integer(related='plan_id.installments_count')
    schedule = fields.Json(readonly=True)
    partner_id = fields.Many2one('res.partner', string="Customer", readonly=True, index=True)
    contact_id = fields.Many2one('res.partner', readonly=True)
    send_mode = fields.Selection(const.SEND_MODES, readonly=True)
    sms_error = fields.Char(readonly=True)

    # Money: integer cents, as Alma counts. The price is what the customer pays in all.
    price_cents = fields.Integer(readonly=True)
    purchase_amount_cents = fields.Integer(readonly=True, help="The amount Alma pays out on.")
    customer_fee_cents = fields.Integer(readonly=True)
    fees_offered = fields.Boolean(readonly=True)
    absorbed_fee_cents = fields.Integer(
        readonly=True, help="The customer's fees the clinic took on: price - purchase amount.")
    merchant_fee_cents = fields.Integer(readonly=True)
    merchant_fee_vat_cents = fields.Integer(readonly=True)
    price = fields.Monetary(compute='_compute_amounts')
    purchase_amount = fields.Monetary(compute='_compute_amounts')
    clinic_fee_total = fields.Monetary(compute='_compute_amounts')

    pos_config_id = fields.Many2one('pos.config', readonly=True, index=True)
    pos_payment_method_id = fields.Many2one('pos.payment.method', readonly=True)
    pos_order_uuid = fields.Char(readonly=True)
    pos_order_name = fields.Char(readonly=True)
    pos_payment_uuid = fields.Char(readonly=True, index=True)
    invoice_id = fields.Many2one('account.move', readonly=True, index=True)

    _sql_constraints = [
        ('reference_unique', 'unique(reference)', "An Alma payment reference is unique."),
        ('alma_id_unique', 'unique(alma_id)', "This Alma payment is already recorded."),
    ]

    def init(self):
        # One live Alma payment per POS payment line, even for two requests at the same instant.
        self.env.cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS alma_payment_one_live_per_pos_line
                ON alma_payment (pos_payment_uuid)
             WHERE state IN ('draft', 'waiting', 'accepted') AND pos_payment_uuid IS NOT NULL
        """)

    @api.depends('price_cents', 'purchase_amount_cents', 'merchant_fee_cents',
                 'merchant_fee_vat_cents', 'absorbed_fee_cents')
    def _compute_amounts(self):
        for payment in self:
            payment.price = from_cents(payment.price_cents)
            payment.purchase_amount = from_cents(payment.purchase_amount_cents)
            payment.clinic_fee_total = from_cents(
                payment.merchant_fee_cents + payment.merchant_fee_vat_cents
                + payment.absorbed_fee_cents
            )

    # === Creation on Alma === #

    def _alma_commit(self):
        """Commit, so that what is about to be sent to Alma survives whatever happens next.

        A test transaction belongs to the test: there the savepoint of the test cursor is enough.
        """
        self.env.flush_all()
        if isinstance(self.env.cr, TestCursor) or not _in_test_transaction():
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _alma_payload(self):
        self.ensure_one()
        contact = self.contact_id
        first_name, last_name = contact._alma_split_name()
        address = {
            'first_name': first_name,
            'last_name': last_name,
            'email': contact.email,
            'phone': contact.mobile or contact.phone,
            'line1': contact.street,
            'line2': contact.street2 or '',
            'postal_code': contact.zip,
            'city': contact.city,
            'country': contact.country_id.code,
        }
        base_url = self.provider_id.get_base_url()
        reference = self.pos_order_name or self.invoice_id.name or self.reference
        return {
            'payment': {
                'purchase_amount': self.purchase_amount_cents,
                'installments_count': self.plan_id.installments_count,
                'deferred_days': self.plan_id.deferred_days,
                'deferred_months': 0,
                'origin': self.provider_id.alma_origin,
                'locale': (self.env.lang or 'fr_FR')[:2],
                'expires_after': const.LINK_EXPIRES_AFTER_MINUTES,
                'ipn_callback_url': f'{base_url}{const.IPN_ROUTE}',
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

    def _alma_send(self):
        """Create the payment on Alma, then text the link when asked to."""
        error = self._alma_create_remote()
        if not error and self.send_mode == 'sms' and self.state == 'waiting':
            self._alma_send_sms()
        return error

    def _alma_create_remote(self):
        """Create the payment on Alma once; a retry first looks for a payment a lost answer made.

        :return: an error message for the user, or '' when the payment exists on Alma.
        """
        self.ensure_one()
        client = self.provider_id._alma_client()
        try:
            data = self._alma_find_remote(client) if self.creation_attempted else None
            if not data:
                self.creation_attempted = True
                self._alma_commit()
                data = client.create_payment(self._alma_payload())
        except AlmaError as error:
            self.write({'state': 'error', 'state_reason': error.args[0]})
            self._alma_commit()
            return error.args[0]
        self.write({
            'alma_id': data['id'],
            'url': data.get('url'),
            'expires_at': _from_timestamp(data.get('expired_at')),
        })
        self._alma_apply(data, source='create')
        return ''

    def _alma_find_remote(self, client):
        """Return the Alma payment carrying this reference, if an earlier attempt created it."""
        answer = client.list_payments(limit=50)
        for data in answer.get('data', []):
            if (data.get('custom_data') or {}).get('odoo_reference') == self.reference:
                _logger.info("Alma payment %s found again for %s", data['id'], self.reference)
                return data
        return None

    # === State: the one place every channel goes through === #

    def _alma_lock(self):
        """Serialize the webhook, the cron and the POS on this payment until commit."""
        self.env.cr.execute(
            "SELECT id FROM alma_payment WHERE id IN %s FOR UPDATE", [tuple(self.ids)])
        self.invalidate_recordset()

    def _alma_refresh(self, source, clients=None):
        """Re-read each payment from Alma and apply what it says; one failure stops no other."""
        # One HTTP session per Alma account: the connection is kept alive.
        clients = {} if clients is None else clients
        for payment in self.filtered('alma_id'):
            provider = payment.provider_id
            if provider not in clients:
                clients[provider] = provider._alma_client()
            try:
                data = clients[provider].get_payment(payment.alma_id)
            except AlmaError as error:
                _logger.warning("Alma payment %s not refreshed: %s", payment.alma_id, error)
                continue
            payment._alma_apply(data, source=source)

    def _alma_apply(self, data, source):
        """Apply Alma's view of the payment; idempotent, whatever the order things arrive in."""
        self.ensure_one()
        self._alma_lock()
        if self.state in const.FINAL_STATES:
            return
        values = {}
        if data.get('state') != self.alma_state:
            values['alma_state'] = data.get('state')
        new_state, reason = self._alma_state_from(data)
        if new_state != self.state:
            values.update(state=new_state, state_reason=reason)
            if new_state == 'accepted':
                values['accepted_date'] = fields.Datetime.now()
        if not values:
            return  # Nothing new: a waiting payment polled again.
        self.write(values)
        self.flush_recordset()  # The one-live-payment-per-line index reads the database.
        if 'state' in values:
            self.message_post(body=self.env._(
                "%(state)s (learnt from: %(channel)s).",
                state=dict(self._fields['state']._description_selection(self.env))[new_state],
                channel=source,
            ))
            self._alma_on_state_change()

    def _alma_state_from(self, data):
        alma_state = data.get('state')
        if alma_state in const.ACCEPTED_STATES:
            if data.get('purchase_amount') != self.purchase_amount_cents:
                self._alma_flag_fraud('amount_mismatch')
                return 'refused', self.env._(
                    "Alma's amount (%(alma)s) differs from the sale's (%(expected)s): refused.",
                    alma=from_cents(data.get('purchase_amount') or 0),
                    expected=from_cents(self.purchase_amount_cents),
                )
            return 'accepted', ''
        if alma_state in const.REFUSED_STATES:
            if (data.get('state_reason') or {}).get('reason') == 'card_declined':
                return 'refused', self.env._("The customer's card was declined.")
            return 'refused', self.env._("Alma refused the payment.")
        expired_at = _from_timestamp(data.get('expired_at'))
        if expired_at and expired_at <= fields.Datetime.now():
            return 'expired', self.env._("The payment link has expired.")
        return 'waiting', ''

    def _alma_flag_fraud(self, reason):
        try:
            self.provider_id._alma_client().flag_potential_fraud(self.alma_id, reason)
        except AlmaError as error:
            _logger.warning("Could not flag Alma payment %s: %s", self.alma_id, error)

    def _alma_on_state_change(self):
        """Pay the invoice of an accepted phone sale; tell the tills that may wait (bus)."""
        for payment in self.filtered(lambda p: p.state == 'accepted'):
            self.env['alma.fee.line'].sudo()._alma_create_for_payment(payment)
            if payment.invoice_id:
                payment._alma_pay_invoice()
        for payment in self.filtered('pos_payment_method_id'):
            tills = payment.pos_payment_method_id.config_ids.filtered('current_session_id')
            for till in tills | payment.pos_config_id:
                till._notify('ALMA_PAYMENT_STATUS', payment._alma_pos_data())

    def _alma_pay_invoice(self):
        """Register the Alma receipt on the invoice, in the Alma journal."""
        self.ensure_one()
        line = self.provider_id.journal_id.inbound_payment_method_line_ids.filtered(
            lambda method_line: method_line.payment_provider_id == self.provider_id)[:1]
        self.env['account.payment.register'].with_company(self.company_id).with_context(
            active_model='account.move', active_ids=self.invoice_id.ids,
        ).create({
            'journal_id': self.provider_id.journal_id.id,
            'payment_method_line_id': line.id,
            'amount': self.price,
            'communication': f"{self.invoice_id.name} - Alma {self.alma_id}",
        })._create_payments()

    # === Actions === #

    def _alma_cancel(self):
        """Cancel on Alma so that the customer can no longer pay; refused once charged."""
        self.ensure_one()
        if self.state == 'draft' or not self.alma_id:
            self.write({'state': 'cancelled', 'state_reason': self.env._("Cancelled.")})
            self.flush_recordset()
            return ''
        try:
            data = self.provider_id._alma_client().cancel_payment(self.alma_id)
        except AlmaError as error:
            self._alma_refresh(source='cancel')
            if self.state == 'accepted':
                return self.env._(
                    "The customer has already paid the first installment: the payment can no "
                    "longer be cancelled. Refund it instead.")
            return error.args[0]
        if self._alma_state_from(data)[0] == 'accepted':  # Paid just before the cancellation.
            self._alma_apply(data, source='cancel')
        if self.state not in const.FINAL_STATES:
            self._alma_lock()
            self.write({'state': 'cancelled', 'alma_state': data.get('state'),
                        'state_reason': self.env._("Cancelled by %s.", self.env.user.name)})
            self.flush_recordset()
            self.message_post(body=self.env._("Cancelled by %s.", self.env.user.name))
            self._alma_on_state_change()
        return ''

    def action_alma_refund(self):
        """Refund what is left of an accepted payment; Alma takes it from the next payout."""
        self.ensure_one()
        if self.state != 'accepted':
            raise UserError(self.env._("Only an accepted Alma payment can be refunded."))
        known = set(self.env['alma.fee.line'].search(
            [('alma_payment_id', '=', self.id)]).mapped('refund_id'))
        client = self.provider_id._alma_client()
        current = client.get_payment(self.alma_id)
        if (current.get('amount_already_refunded') or 0) >= current.get('purchase_amount', 0):
            raise UserError(self.env._("This Alma payment is already fully refunded."))
        data = client.refund(self.alma_id, merchant_reference=self.reference)
        for refund in data.get('refunds') or []:
            if refund['id'] not in known:
                self.env['alma.fee.line'].sudo()._alma_create_for_refund(
                    self, refund['id'], int(refund['amount']))
                self.message_post(body=self.env._(
                    "Refunded %s.", self.currency_id.format(from_cents(refund['amount']))))
        return True

    def _alma_send_email(self):
        """Queue an e-mail with the payment link to the contact, in the contact's language."""
        self.ensure_one()
        env = self.with_context(lang=self.contact_id.lang or self.env.lang).env
        company = self.company_id
        amount = self.currency_id.format(self.price)
        body = Markup("<p>%s</p><p><a href='%s'>%s</a></p>") % (
            env._("Pay your purchase of %(amount)s at %(company)s with Alma (%(plan)s):",
                  amount=amount, company=company.name, plan=self.plan_id.with_env(env).name),
            self.url, self.url)
        self.env['mail.mail'].sudo().create({
            'subject': env._("Your Alma payment link - %s", company.name),
            'email_from': company.email_formatted or self.env.user.email_formatted,
            'email_to': self.contact_id.email_formatted,
            'body_html': body,
            'auto_delete': True,
        })
        self.message_post(body=self.env._("Link e-mailed to %s.", self.contact_id.email))

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
            self.sms_error = message
            return message
        self.sms_error = False
        return ''

    @api.model
    def _cron_alma_poll_pending(self, batch_size=200):
        """Poll Alma for every payment still waiting, oldest first, in batches."""
        pending = self.search([('state', '=', 'waiting'), ('alma_id', '!=', False)],
                              order='id', limit=batch_size)
        clients = {}
        for index, payment in enumerate(pending, start=1):
            payment._alma_refresh(source='cron', clients=clients)
            if index % CRON_COMMIT_EVERY == 0:
                self._alma_commit()  # Release the row locks; keep what was learnt so far.
        self._alma_commit()
        if len(pending) == batch_size:
            self.env.ref('payment_alma.ir_cron_alma_poll')._trigger()

    # === Data for the POS === #

    def _alma_pos_data(self):
        self.ensure_one()
        states = dict(self._fields['state']._description_selection(self.env))
        state = 'waiting' if self.state == 'draft' else self.state
        return {
            'id': self.id,
            'alma_id': self.alma_id or False,
            'pos_payment_uuid': self.pos_payment_uuid,
            'state': state,
            'state_label': states[self.state],
            'state_reason': self.state_reason or '',
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
            'receipt_text': self._alma_receipt_text(),
        }

    def _alma_receipt_text(self):
        lines = [f"Alma - {self.plan_id.name}"]
        currency = self.currency_id
        for installment in self.schedule or []:
            day = fields.Date.from_string(installment['date'])
            lines.append(f"{day.strftime('%d/%m/%Y')}  "
                         f"{currency.format(installment['amount'])}")
        return '\n'.join(lines)


def _from_timestamp(value):
    """Alma's unix timestamps as Odoo's naive UTC datetimes."""
    if not value:
        return False
    return datetime.fromtimestamp(int(value), tz=timezone.utc).replace(tzinfo=None)


def _in_test_transaction():
    return bool(getattr(odoo_module, 'current_test', False))
