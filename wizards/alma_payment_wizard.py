from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.payment_alma.utils.money import from_cents


class AlmaPaymentWizard(models.TransientModel):
    """The Alma dialog of an invoice (a phone sale): gathers the plan and the contact only."""

    _name = 'alma.payment.wizard'
    _description = "Pay with Alma"

    provider_id = fields.Many2one('payment.provider', required=True, domain=[('code', '=', 'alma')])
    invoice_id = fields.Many2one('account.move')
    partner_id = fields.Many2one('res.partner', string="Customer")
    contact_id = fields.Many2one('res.partner')
    currency_id = fields.Many2one('res.currency')
    amount = fields.Monetary()
    plan_id = fields.Many2one('payment.alma.plan')
    fees_offered = fields.Boolean(string="Offered to the client")
    # Filled when the wizard opens: asking Alma is no job for a compute.
    allowed_plan_ids = fields.Many2many('payment.alma.plan')
    # The payment is recorded in a transaction of its own: the wizard keeps what it showed.
    payment_reference = fields.Char(string="Alma Payment", readonly=True)
    payment_url = fields.Char(string="Payment Link", readonly=True)
    payment_note = fields.Char(string="Note", readonly=True)

    # === Plans === #

    @api.model
    def _alma_offers_data(self, provider, amount, currency, fees_offered=False):
        """Return the offers as plain data (amounts in currency units, ISO dates)."""
        offers = provider._alma_get_offers(amount, currency, fees_offered=fees_offered)
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
            'schedule': [{'date': fields.Date.to_string(line['date']), 'amount': line['amount']}
                         for line in offer['schedule']],
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

    # === Back office (invoices) === #

    def action_send_link(self):
        """Create the Alma payment of the invoice (or show the one still waiting) and its link."""
        self.ensure_one()
        if not self.plan_id or not self.contact_id:
            raise UserError(self.env._("Choose a plan and a contact."))
        # The wizard's fields come from the browser: check them as the invoice's own.
        invoice = self.invoice_id
        invoice.check_access('write')
        if self.provider_id.company_id != invoice.company_id \
                or self.contact_id not in invoice.partner_id._alma_family():
            raise UserError(self.env._("Choose a contact of the invoice's customer."))
        result = self.env['alma.payment']._alma_create_for(
            self.provider_id, key=f'invoice:{invoice.id}', amount=invoice.amount_residual,
            currency=invoice.currency_id, plan=self.plan_id, contact=self.contact_id,
            partner=invoice.partner_id.commercial_partner_id, fees_offered=self.fees_offered,
            send_mode='link', invoice_id=invoice.id,
        )
        if result['error']:
            raise UserError(result['error'])
        self.write({
            'payment_reference': result['reference'],
            'payment_url': result['url'],
            'payment_note': result['existing'] and self.env._(
                "A link made earlier for this invoice is still waiting for the customer: here "
                "it is. Cancel it on the Alma payment to make another."),
        })
        return {'type': 'ir.actions.act_window', 'res_model': self._name, 'res_id': self.id,
                'view_mode': 'form', 'target': 'new'}
