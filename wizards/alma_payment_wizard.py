import re

import phonenumbers

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.payment_alma.utils.money import from_cents, to_cents

EMAIL_RE = re.compile(r'^[^@\s]+@[^@\s]+\.[^@\s]+$')
REQUIRED_CONTACT_FIELDS = ('first_name', 'last_name', 'mobile', 'email', 'street', 'zip', 'city',
                           'country_id')


class AlmaPaymentWizard(models.TransientModel):
    """The Alma dialog: plan, customer's contact, fees, sending. Used by the POS and invoices."""

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
    allowed_plan_ids = fields.Many2many('payment.alma.plan', compute='_compute_allowed_plan_ids')
    payment_id = fields.Many2one('alma.payment', readonly=True)
    payment_url = fields.Char(related='payment_id.url')

    @api.depends('provider_id', 'amount', 'currency_id')
    def _compute_allowed_plan_ids(self):
        for wizard in self:
            offers = wizard.provider_id._alma_get_offers(
                wizard.amount, wizard.currency_id) if wizard.amount and wizard.provider_id else []
            wizard.allowed_plan_ids = [offer['plan_id'] for offer in offers if offer['eligible']]

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
            'customer_total': cents('customer_total_cents'),
            'clinic_fee': cents('merchant_fee_cents'),
            'clinic_fee_vat': cents('merchant_fee_vat_cents'),
            'clinic_fee_total': cents('clinic_fee_total_cents'),
            'fees_offered': offer['fees_offered'],
            'absorbed_fee': cents('absorbed_fee_cents'),
        }

    # === Contacts === #

    @api.model
    def _alma_contacts(self, partner):
        """The customer and its contacts: whoever may receive the link."""
        if not partner:
            return []
        partner = partner.commercial_partner_id
        contacts = partner | partner.child_ids.filtered(lambda c: c.type in ('contact', 'other'))
        return [contact._alma_contact_data() for contact in contacts]

    @api.model
    def _alma_save_contact(self, partner, values, company, pos_config=None):
        """Create or update a contact of `partner` from the dialog; return errors per field."""
        values = {key: (value.strip() if isinstance(value, str) else value)
                  for key, value in values.items()}
        errors = self._alma_contact_errors(values, company, pos_config)
        if errors:
            return {'errors': errors}
        vals = {
            'name': f"{values['first_name']} {values['last_name']}",
            'mobile': values['mobile'],
            'email': values['email'],
            'street': values['street'],
            'zip': values['zip'],
            'city': values['city'],
            'country_id': int(values['country_id']),
        }
        # A cashier may lack "Contact Creation": adding the customer's contact is part of the
        # sale, and only a contact of that customer can be touched.
        Partner = self.env['res.partner'].sudo()
        partner = partner.sudo()
        contact = Partner.browse(int(values['id'])).exists() if values.get('id') else Partner
        allowed = partner.commercial_partner_id | partner.commercial_partner_id.child_ids
        if contact and contact in allowed:
            contact.write(vals)
        elif partner:
            contact = Partner.create({**vals, 'parent_id': partner.commercial_partner_id.id,
                                      'type': 'other'})
        else:
            contact = Partner.create(vals)
        return {'contact': contact._alma_contact_data()}

    @api.model
    def _alma_contact_errors(self, values, company, pos_config=None):
        errors = {}
        for key in REQUIRED_CONTACT_FIELDS:
            if not values.get(key):
                errors[key] = self.env._("Required by Alma.")
        country = self.env['res.country'].browse(int(values['country_id'])).exists() \
            if values.get('country_id') else self.env['res.country']
        if values.get('mobile') and 'mobile' not in errors:
            mobile = _alma_mobile_e164(values['mobile'], country.code or 'FR')
            if not mobile:
                errors['mobile'] = self.env._(
                    "Not a valid mobile number for %s. Alma texts the payment code to it.",
                    country.name or 'France')
            else:
                values['mobile'] = mobile
        if values.get('email') and not EMAIL_RE.match(values['email']):
            errors['email'] = self.env._("Not a valid e-mail address.")
        errors.update(self._alma_shop_details_errors(values, company, pos_config))
        return errors

    @api.model
    def _alma_shop_details_errors(self, values, company, pos_config=None):
        """Refuse the shop's or the seller's own details: Alma must reach the customer."""
        message = self.env._("This is the shop's. Alma needs the customer's own details.")
        shop = company.partner_id
        seller = self.env.user.partner_id
        errors = {}
        shop_phones = {_alma_mobile_e164(number, company.country_id.code or 'FR')
                       for number in (shop.phone, shop.mobile, seller.phone, seller.mobile)
                       if number} - {None}
        if values.get('mobile') and values['mobile'] in shop_phones:
            errors['mobile'] = message
        shop_emails = {email.strip().lower() for email in (shop.email, seller.email) if email}
        if values.get('email') and values['email'].lower() in shop_emails:
            errors['email'] = message
        names = {_normalize(name) for name in (shop.name, seller.name,
                                                pos_config and pos_config.name) if name}
        if _normalize(f"{values.get('first_name')} {values.get('last_name')}") in names:
            errors['last_name'] = message
        if (values.get('street') and shop.street and _normalize(values['street'])
                == _normalize(shop.street) and values.get('zip') == shop.zip):
            errors['street'] = message
        return errors

    # === Sending === #

    @api.model
    def _alma_start(self, provider, *, amount, currency, plan, contact, partner, fees_offered,
                    send_mode, **links):
        """Create the Alma payment for an amount, recomputing every figure on the server.

        :return: the `alma.payment` record; its state says whether Alma has it.
        """
        if not contact._alma_contact_data()['is_complete']:
            raise UserError(self.env._("The contact's details are incomplete."))
        offers = provider._alma_get_offers(amount, currency, fees_offered=fees_offered)
        offer = next((offer for offer in offers if offer['plan_id'] == plan.id), None)
        if not offer or not offer['eligible']:
            raise UserError(offer['reason'] if offer else self.env._(
                "This plan is not offered."))
        payment = self.env['alma.payment'].create({
            'provider_id': provider.id,
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
            'schedule': self._alma_offer_data(offer)['schedule'],
            **links,
        })
        payment._alma_send()
        return payment

    # === Back office (invoices) === #

    def action_send_link(self):
        """Create the Alma payment of the invoice and show its link."""
        self.ensure_one()
        if not self.plan_id or not self.contact_id:
            raise UserError(self.env._("Choose a plan and a contact."))
        self.payment_id = self._alma_start(
            self.provider_id, amount=self.amount, currency=self.currency_id, plan=self.plan_id,
            contact=self.contact_id, partner=self.partner_id, fees_offered=self.fees_offered,
            send_mode='link', invoice_id=self.invoice_id.id,
        )
        if self.payment_id.state == 'error':
            raise UserError(self.payment_id.state_reason)
        return {'type': 'ir.actions.act_window', 'res_model': self._name, 'res_id': self.id,
                'view_mode': 'form', 'target': 'new'}


def _alma_mobile_e164(number, country_code):
    """Return a valid mobile number of `country_code` in E.164, or None."""
    try:
        parsed = phonenumbers.parse(number, country_code)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed) or phonenumbers.number_type(parsed) not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _normalize(text):
    return ' '.join((text or '').lower().split())

