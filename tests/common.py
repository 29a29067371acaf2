from odoo.addons.payment.tests.common import PaymentCommon
from odoo.addons.payment_alma.alma_standin import StandIn
from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon

_standin = None


def get_standin():
    """Return the local Alma stand-in, started once per test run on a free port."""
    global _standin
    if _standin is None:
        _standin = StandIn(host='127.0.0.1', port=0).start()
    return _standin


class AlmaCommon(PaymentCommon):
    """An Alma provider in test state, talking over HTTP to a fresh local Alma stand-in."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.standin = get_standin()
        cls.alma = cls._prepare_provider('alma', update_values={
            'state': 'test',
            'alma_api_key_test': 'sk_test_standin',
            'alma_api_key_live': False,
            'alma_api_url': cls.standin.url,
        })
        cls.alma._alma_ensure_journal()
        cls.provider = cls.alma
        cls.currency = cls.currency_euro

    def setUp(self):
        super().setUp()
        self.standin.reset()
        self.alma._alma_clear_fee_plans_cache()

    def alma_requests(self, method, path):
        """Count the requests the stand-in received for `method` and `path`."""
        return sum(1 for request in self.standin.requests if request == (method, path))


class AlmaPosCommon(TestPointOfSaleHttpCommon):
    """A French shop in euros whose till offers Alma, against the local Alma stand-in.

    Gives `main_pos_config` with the payment method `alma_pos_method`, the provider `alma`,
    the products `consultation` (399 €) and `vaccine` (30 €, below Alma's 50 € minimum), the
    customer `jean`, and the shop's own mobile `shop_mobile` (that Alma must never get).
    """

    country_code = 'FR'
    chart_template = 'generic_coa'  # l10n_fr_account is not a dependency
    shop_mobile = '+33699887766'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.standin = get_standin()
        company = cls.company_data['company']
        company.partner_id.write({
            'mobile': cls.shop_mobile, 'email': 'contact@clinique-lilas.example',
            'street': "1 place de la Mairie", 'zip': '69001', 'city': 'Lyon',
        })
        cls.alma = cls.env.ref('payment_alma.payment_provider_alma').sudo().copy({
            'company_id': company.id,
            'state': 'test',
            'alma_api_key_test': 'sk_test_standin',
            'alma_api_url': cls.standin.url,
        })
        cls.alma._alma_ensure_journal()
        cls.alma_pos_method = cls.env['pos.payment.method'].create(
            cls.alma._alma_pos_method_values())
        cls.main_pos_config.payment_method_ids |= cls.alma_pos_method
        product_values = {'type': 'service', 'available_in_pos': True, 'taxes_id': False}
        cls.consultation = cls.env['product.product'].create(
            {**product_values, 'name': "Consultation", 'list_price': 399.0})
        cls.vaccine = cls.env['product.product'].create(
            {**product_values, 'name': "Vaccin", 'list_price': 30.0})
        cls.jean = cls.env['res.partner'].create({
            'name': "Jean Martin", 'mobile': '+33612345678', 'email': 'jean.martin@example.com',
            'street': "20 rue d'Alsace", 'zip': '75002', 'city': 'Paris',
            'country_id': cls.env.ref('base.fr').id,
        })

    def setUp(self):
        super().setUp()
        self.standin.reset()
        self.alma._alma_clear_fee_plans_cache()
