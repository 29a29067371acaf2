from urllib.parse import urlencode

import psycopg2

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.utils.money import from_cents, schedule_as_json

# How the clinic sends an invoice's link: the customer is on the phone, not at the counter.
SEND_MODES = [('sms', "SMS"), ('email', "E-mail"), ('link', "Link and QR code")]


class AlmaPaymentWizard(models.TransientModel):
    """The Alma dialog of an invoice (a phone sale), input only: the plan, the contact and how
    to send the link; then the invoice's Alma payment, to follow, send again or cancel.

    The payment is made and followed by `account.move` through a payment transaction; this
    dialog only reads it from the invoice (`_alma_payment`).
    """

    _name = 'alma.payment.wizard'
    _description = "Pay with Alma"

    invoice_id = fields.Many2one('account.move', required=True, readonly=True,
                                 ondelete='cascade')
    partner_id = fields.Many2one(related='invoice_id.commercial_partner_id', string="Customer")
    currency_id = fields.Many2one(related='invoice_id.currency_id')
    amount = fields.Monetary(related='invoice_id.amount_residual', string="Amount to Pay")
    step = fields.Selection([('choose', "Choose"), ('sent', "Sent")], default='choose',
                            required=True, readonly=True)

    # Filled when the dialog opens and when the fees are offered: asking Alma is no job for a
    # compute. Shown only: the server recomputes every figure when the payment is created.
    offers = fields.Json(readonly=True)
    offers_error = fields.Char(readonly=True)
    allowed_plan_ids = fields.Many2many('payment.alma.plan', readonly=True)
    plan_id = fields.Many2one('payment.alma.plan')
    fees_offered = fields.Boolean(
        string="Offered to the client",
        help="The clinic takes on the customer's fees: the customer pays the invoice's amount.")
    allowed_contact_ids = fields.Many2many('res.partner', compute='_compute_allowed_contact_ids')
    contact_id = fields.Many2one('res.partner')
    contact_errors = fields.Text(compute='_compute_contact_errors')
    send_mode = fields.Selection(SEND_MODES, string="Send by", default='sms', required=True)

    # The invoice's Alma payment once sent.
    payment_note = fields.Char(readonly=True)
    payment_reference = fields.Char(string="Alma Payment", compute='_compute_payment')
    payment_state = fields.Selection(const.PAYMENT_STATES, string="Status",
                                     compute='_compute_payment')
    payment_state_reason = fields.Char(string="Reason", compute='_compute_payment')
    payment_url = fields.Char(string="Payment Link", compute='_compute_payment')
    payment_qr_code = fields.Char(string="QR Code", compute='_compute_payment')
    payment_sms_error = fields.Char(string="SMS Error", compute='_compute_payment')
    payment_send_mode = fields.Selection(const.SEND_MODES, string="Sent by",
                                         compute='_compute_payment')
    payment_contact = fields.Char(string="Sent to", compute='_compute_payment')
    # Where the link went: the clinic checks it with the customer on the phone.
    payment_contact_mobile = fields.Char(string="Mobile", compute='_compute_payment')
    payment_contact_email = fields.Char(string="E-mail", compute='_compute_payment')
    payment_expires_at = fields.Datetime(string="Link Expires", compute='_compute_payment')
    payment_summary = fields.Json(compute='_compute_payment')

    # === Plans === #

    @api.model
    def _alma_offers_data(self, provider, amount, currency, fees_offered=False, country=None):
        """Return the offers as plain data (amounts in currency units, ISO dates)."""
        offers = provider._alma_get_offers(amount, currency, fees_offered=fees_offered,
                                           country=country)
        return [self._alma_offer_data(offer) for offer in offers]

    @api.model
    def _alma_offer_data(self, offer):
        def cents(key):
            return from_cents(offer.get(key) or 0)

        return {
            'plan_id': offer['plan_id'],
            'plan_code': offer['plan_code'],
            'name': offer['name'],
            'installments_count': offer['installments_count'],
            'deferred_days': offer['deferred_days'],
            'eligible': offer['eligible'],
            'reason': offer['reason'],
            'schedule': schedule_as_json(offer['schedule']),
            'purchase_amount': cents('purchase_amount_cents'),
            'customer_fee': cents('customer_fee_cents'),
            # The whole cost of the credit (fees and interest) and what the customer pays in all.
            'customer_interest': cents('customer_interest_cents'),
            'customer_total_cost': cents('customer_total_cost_cents'),
            'customer_total': cents('customer_total_cents'),
            # Percent a year (TAEG) when Alma gives one, else None.
            'annual_interest_rate': offer.get('annual_interest_rate'),
            'clinic_fee': cents('merchant_fee_cents'),
            'clinic_fee_vat': cents('merchant_fee_vat_cents'),
            'clinic_fee_total': cents('clinic_fee_total_cents'),
            'fees_offered': offer['fees_offered'],
            'absorbed_fee': cents('absorbed_fee_cents'),
        }

    def _alma_load_offers(self):
        """Ask Alma which plans it takes for what is left to pay, with their schedules and fees."""
        invoice = self.invoice_id
        invoice._alma_check_access()  # An onchange's invoice comes from the browser.
        try:
            offers = self._alma_offers_data(
                invoice._alma_provider(), invoice.amount_residual, invoice.currency_id,
                fees_offered=self.fees_offered, country=invoice.partner_id.country_id)
            error = False
        except UserError as exception:  # Alma unreachable, a currency Alma does not take.
            offers, error = [], exception.args[0]
        eligible = [offer['plan_id'] for offer in offers if offer['eligible']]
        self.offers = offers
        self.offers_error = error
        self.allowed_plan_ids = [Command.set(eligible)]
        if self.plan_id.id not in eligible:
            self.plan_id = eligible[0] if len(eligible) == 1 else False

    @api.onchange('fees_offered')
    def _onchange_fees_offered(self):
        """Offered fees price each plan so that the customer pays the invoice: ask Alma again."""
        if self.step == 'choose' and self.invoice_id:
            self._alma_load_offers()

    # === Contact === #

    @api.depends('invoice_id')
    def _compute_allowed_contact_ids(self):
        for wizard in self:
            company = wizard.invoice_id.company_id
            wizard.allowed_contact_ids = wizard.invoice_id.partner_id._alma_family().filtered(
                lambda contact, company=company: contact._alma_in_company(company))

    @api.depends('invoice_id', 'contact_id', 'contact_id.name', 'contact_id.mobile',
                 'contact_id.phone', 'contact_id.email', 'contact_id.street', 'contact_id.zip',
                 'contact_id.city', 'contact_id.country_id')
    def _compute_contact_errors(self):
        for wizard in self:
            wizard.contact_errors = wizard._alma_contact_errors() or False

    def _alma_contact_errors(self):
        """What keeps the contact from receiving the link, each broken rule with its field."""
        self.ensure_one()
        contact, invoice = self.contact_id, self.invoice_id
        if not contact or not invoice:
            return ''
        if contact not in invoice.partner_id._alma_family() \
                or not contact._alma_in_company(invoice.company_id):
            return self.env._("Choose a contact of the invoice's customer.")
        errors = self.env['res.partner']._alma_contact_errors(
            dict(contact._alma_contact_data()), invoice.company_id)
        labels = self._alma_contact_labels()
        return '\n'.join(f"{labels.get(key, key)}: {message}" for key, message in errors.items())

    def _alma_contact_labels(self):
        return {
            'first_name': self.env._("First name"),
            'last_name': self.env._("Last name"),
            'mobile': self.env._("Mobile phone"),
            'email': self.env._("E-mail"),
            'street': self.env._("Street"),
            'zip': self.env._("ZIP"),
            'city': self.env._("City"),
            'country_id': self.env._("Country"),
        }

    # === The invoice's Alma payment === #

    def _alma_payment(self):
        """The invoice's latest Alma payment once sent, if the user may pay that invoice.

        Read from the invoice, never from the browser (sudo, see `account.move._alma_payments`).
        """
        self.ensure_one()
        invoice = self.invoice_id
        if self.step != 'sent' or not invoice or not invoice.has_access('write') \
                or not self.env.user.has_group('account.group_account_invoice'):
            return self.env['alma.payment']
        return invoice._alma_payments()[:1]

    @api.depends('step', 'invoice_id')
    def _compute_payment(self):
        for wizard in self:
            payment = wizard._alma_payment()
            contact = payment.contact_id
            url = payment.url or False
            wizard.update({
                'payment_reference': payment.reference or False,
                'payment_state': payment.state or False,
                'payment_state_reason': payment.state_reason or False,
                'payment_url': url,
                'payment_qr_code': url and '/report/barcode/?' + urlencode({
                    'barcode_type': 'QR', 'value': url, 'width': 200, 'height': 200}),
                'payment_sms_error': payment.sms_error or False,
                'payment_send_mode': payment.send_mode or False,
                'payment_contact': payment.contact_id.name or False,
                'payment_contact_mobile': (contact and contact._alma_mobile_display()) or False,
                'payment_contact_email': contact.email or False,
                'payment_expires_at': payment.expires_at or False,
                'payment_summary': [wizard._alma_payment_summary(payment)] if payment else False,
            })

    @api.model
    def _alma_payment_summary(self, payment):
        """The payment's plan, schedule and fees as the offers show them."""
        schedule = payment.schedule or []
        return {
            'plan_id': payment.plan_id.id,
            'plan_code': payment.plan_id.code,
            'name': payment.plan_id.name,
            'eligible': True,
            'schedule': schedule,
            'customer_fee': from_cents(payment.customer_fee_cents),
            'customer_total': sum(line['amount'] for line in schedule),
            'clinic_fee': from_cents(payment.merchant_fee_cents),
            'clinic_fee_vat': from_cents(payment.merchant_fee_vat_cents),
            'clinic_fee_total': payment.clinic_fee_total,
            'fees_offered': payment.fees_offered,
            'absorbed_fee': from_cents(payment.absorbed_fee_cents),
        }

    def _alma_existing_note(self):
        return self.env._(
            "A link made earlier for this invoice is still waiting for the customer: here it is. "
            "Cancel it to make another.")

    def _alma_action(self):
        self.ensure_one()
        self.invalidate_recordset()  # The payment may have changed: read it again.
        return {
            'type': 'ir.actions.act_window',
            'name': self.env._("Pay with Alma"),
            'res_model': self._name,
            'res_id': self.id,
            'view_mode': 'form',
            'views': [(False, 'form')],
            'target': 'new',
        }

    # === Actions === #

    def action_send_link(self):
        """Send the invoice's Alma link the way chosen (or show the payment still waiting)."""
        self.ensure_one()
        invoice = self.invoice_id
        invoice._alma_check_access()  # The dialog's fields come from the browser.
        if self.step == 'sent':
            return self._alma_action()
        invoice._alma_check_payable()
        if not self.plan_id and not self.contact_id:
            raise UserError(self.env._("Choose a plan and a contact."))
        if not self.plan_id:
            raise UserError(self.env._("Choose a plan."))
        if not self.contact_id:
            raise UserError(self.env._("Choose the customer's contact for Alma."))
        if self.send_mode not in dict(SEND_MODES):
            raise UserError(self.env._("Choose how to send the link."))
        errors = self._alma_contact_errors()
        if errors:
            raise UserError(self.env._(
                "The contact %(name)s cannot receive the Alma link:\n%(errors)s",
                name=self.contact_id.name, errors=errors))
        if self.plan_id not in self.allowed_plan_ids:
            raise UserError(self.env._("Choose one of the plans offered."))
        existing = invoice._alma_send_link(
            self.plan_id, self.contact_id, self.fees_offered, self.send_mode)
        self.write({'step': 'sent', 'payment_note': existing and self._alma_existing_note()})
        return self._alma_action()

    def _alma_checked_payment(self, waiting=False):
        """The invoice's Alma payment, for a user who may pay that invoice (sudo)."""
        self.ensure_one()
        self.invoice_id._alma_check_access()
        payment = self._alma_payment()
        if not payment:
            raise UserError(self.env._("This invoice has no Alma payment."))
        if waiting and payment.state != 'waiting':
            raise UserError(self.env._(
                "Only a payment waiting for the customer can be sent again or cancelled."))
        return payment

    def action_refresh(self):
        """Ask Alma where the payment is; an accepted payment pays the invoice now."""
        self._alma_follow(self._alma_checked_payment())
        self.payment_note = False
        return self._alma_action()

    def alma_poll(self):
        """The dialog's own polling, every few seconds while the link waits, as the till's:
        ask Alma where the payment is; an accepted payment pays the invoice now.

        :return: the payment's state
        """
        return self._alma_follow(self._alma_checked_payment())

    def _alma_follow(self, payment):
        """Ask Alma where a waiting payment is, then have its invoice paid if it is accepted.

        Each in a transaction of its own, committed at once: when Alma's notification is being
        applied at the same moment, this request neither waits on the payment's lock nor fails
        on it, to be replayed by Odoo after a random sleep of up to 2, then 4 s (what made
        *Refresh* take 5 s; see scripts/bench_refresh). The dialog is read again in a new
        request, which sees both.

        :return: the payment's state as committed
        """
        if payment.state == 'waiting':
            payment._alma_apply_apart(payment._alma_fetch(), 'invoice')
        with self.env.registry.cursor() as cr:
            state = payment.with_env(payment.env(cr=cr)).state
            if state == 'accepted':
                try:
                    with cr.savepoint():
                        self.invoice_id.with_env(self.env(cr=cr))._alma_post_process()
                except psycopg2.OperationalError as error:
                    if error.pgcode not in PG_CONCURRENCY_ERRORS_TO_RETRY:
                        raise
                    # Odoo's cron, asked when the transaction was done, is posting it now.
        self.env.invalidate_all()  # Other transactions changed what this one may have read.
        return state

    def action_resend_sms(self):
        """Have Alma text the link to the contact again."""
        payment = self._alma_checked_payment(waiting=True)
        payment._alma_resend('sms')
        self.payment_note = self.env._("Alma texted the link to %s again.",
                                       payment.contact_id.name)
        return self._alma_action()

    def action_resend_email(self):
        """E-mail the link to the contact again, from Odoo."""
        payment = self._alma_checked_payment(waiting=True)
        payment._alma_resend('email')
        self.payment_note = self.env._("The link was e-mailed to %s.", payment.contact_id.email)
        return self._alma_action()

    def action_cancel_payment(self):
        """Cancel the link on Alma: the customer can no longer pay, the transaction is cancelled."""
        payment = self._alma_checked_payment(waiting=True)
        try:
            payment._alma_cancel()
            self.payment_note = False
        except UserError as error:  # Shown in the dialog; what Alma said meanwhile is kept.
            self.payment_note = error.args[0]
        return self._alma_action()

    def action_new_link(self):
        """After a payment that ended without being paid: choose again and send a new link."""
        payment = self._alma_checked_payment()
        if payment.state in ('draft', 'waiting', 'accepted'):
            raise UserError(self._alma_existing_note())
        self.invoice_id._alma_check_payable()
        self.write({'step': 'choose', 'payment_note': False})
        self._alma_load_offers()
        return self._alma_action()
