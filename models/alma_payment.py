import uuid
from datetime import datetime, timezone

from odoo import api, fields, models

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.utils.money import (
    from_cents,
    left_to_refund,
    with_vat,
    without_cents_fields,
)


class AlmaPayment(models.Model):
    """One payment asked of Alma, whatever the channel: what Alma says of it, beside its
    transaction (the sale's record, whose state it reads).

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
    # Read from its transaction, never written (`_compute_state`).
    state = fields.Selection(const.PAYMENT_STATES, compute='_compute_state', store=True,
                             tracking=True, index=True)
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
    transaction_id = fields.Many2one(
        'payment.transaction', readonly=True, index=True, ondelete='restrict',
        help="Odoo's transaction of this payment (the payment form, an invoice's link, the till).")

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
                with_vat(payment.merchant_fee_cents, payment.merchant_fee_vat_cents))

    @api.depends('alma_id', 'state_reason_code', 'accepted_date', 'transaction_id.state')
    def _compute_state(self):
        """What the payment is: what its transaction, Odoo's record of the sale, is; what only
        this attempt knows comes from its reason (never created at Alma, cancelled before it
        was, expired rather than cancelled)."""
        for payment in self:
            own = const.STATE_OF_REASON.get(payment.state_reason_code)
            if own == 'error' or not payment.alma_id:
                payment.state = own or 'draft'
            elif payment.transaction_id:
                state = const.STATE_OF_TRANSACTION[payment.transaction_id.state]
                payment.state = own if state == 'cancelled' and own == 'expired' else state
            else:  # A till's payment of before transactions that the upgrade could not give one.
                payment.state = own or ('accepted' if payment.accepted_date else 'waiting')

    @api.depends('pos_payment_uuid', 'send_mode', 'transaction_id')
    def _compute_channel(self):
        for payment in self:
            if payment.pos_payment_uuid:
                payment.channel = 'pos'
            elif payment.transaction_id and payment.send_mode == 'here':
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
            payment.clinic_fee_charged = payment.clinic_fee_total if accepted else 0.0

    @api.depends('amount_refunded_cents', 'purchase_amount_cents')
    def _compute_refund_state(self):
        for payment in self:
            refunded = payment.amount_refunded_cents
            payment.refund_state = 'none' if not refunded else (
                'full' if refunded >= payment.purchase_amount_cents else 'partial')

    # === What the payment is for === #

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
        if self.transaction_id:
            # sudo: whoever learnt that Alma accepted it (the public user, the cron) only names
            # the documents of the payment's own transaction.
            tx = self.transaction_id.sudo()
            documents |= tx.invoice_ids.sorted('id')
            if not documents and 'sale_order_ids' in tx._fields:
                documents = tx.sale_order_ids.sorted('id')
        return ', '.join(documents.mapped('name')) or self.reference

    def _alma_locale(self):
        """The language Alma speaks to the customer (`locale`, e.g. 'fr'): the contact's, else
        the customer's, else the business's."""
        lang = self.contact_id.lang or self.partner_id.lang or self.company_id.partner_id.lang
        return (lang or 'fr_FR').split('_')[0]

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
            'left': from_cents(left_to_refund(self.purchase_amount_cents, refunded)),
        }


def from_alma_timestamp(value):
    """Alma's unix timestamps as Odoo's naive UTC datetimes."""
    if not value:
        return False
    return datetime.fromtimestamp(int(value), tz=timezone.utc).replace(tzinfo=None)
