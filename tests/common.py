import hashlib
import hmac
import uuid

import requests
from lxml import etree

from odoo import Command, fields, http
from odoo.tests import HttpCase, new_test_user
from odoo.tools.safe_eval import safe_eval

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.payment.tests.common import PaymentCommon
from odoo.addons.payment_alma.alma_standin import StandIn
from odoo.addons.payment_alma.controllers.main import AlmaController
from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon

_standin = None

# CPython 3.11.7's AST constructor is not thread-safe (python/cpython#106905, "AST constructor
# recursion depth mismatch"): a browser's first requests, served in parallel, each parse every
# add-on's manifest to find Odoo's static files, and one of them may fail (seen once in a
# tour). Parsed once here, before any browser: Odoo keeps them.
http.root.statics  # noqa: B018  # pylint: disable=pointless-statement


def get_standin():
    """Return the local Alma stand-in, started once per test run on a free port."""
    global _standin
    if _standin is None:
        _standin = StandIn(host='127.0.0.1', port=0).start()
    return _standin


def web_specification(model, arch):
    """The `specification` the web client sends to `web_read` / `web_search_read` for a view
    (`arch` as `get_views` gives it to the user): every field of the view, a many2one's name,
    an x2many's fields in its own subview (or its name)."""
    tree = etree.fromstring(arch) if isinstance(arch, str) else arch
    level = tree.xpath('count(ancestor::field)')
    spec = {}
    for node in tree.xpath(f'.//field[count(ancestor::field) = {level}]'):
        field = model._fields[node.get('name')]
        if field.type == 'many2one':
            spec[field.name] = {'fields': {'display_name': {}}}
        elif field.type in ('one2many', 'many2many'):
            subview = next(iter(node.xpath('./list | ./kanban')), None)
            comodel = model.env[field.comodel_name]
            spec[field.name] = {'fields': web_specification(comodel, subview)
                                if subview is not None else {'display_name': {}}}
        else:
            spec[field.name] = {}
    return spec


def web_open(model, action_xmlid):
    """What the web client reads when a user (`model.env.user`) opens a window action's list,
    then each listed record in its form: {'list': records read, 'form': [each record read]}."""
    action = model.env['ir.actions.act_window'].sudo()._for_xml_id(action_xmlid)
    view_types = action['view_mode'].split(',')
    views = model.get_views([(False, view_type) for view_type in [*view_types, 'search']])
    domain = safe_eval(action.get('domain') or '[]')
    listed = model.web_search_read(
        domain, web_specification(model, views['views']['list']['arch']), limit=80)['records']
    read = {'list': listed, 'form': []}
    if 'form' in views['views']:
        spec = {'display_name': {}, **web_specification(model, views['views']['form']['arch'])}
        read['form'] = [model.browse(record['id']).web_read(spec)[0] for record in listed]
    return read


class StandinMixin:
    """A fresh stand-in for each test; `alma` is the provider that talks to it."""

    def setUp(self):
        super().setUp()
        self.standin.reset()
        self.alma._alma_clear_fee_plans_cache()

    def alma_requests(self, method, path):
        """Count the requests the stand-in received for `method` and `path`."""
        return sum(1 for request in self.standin.requests if request == (method, path))

    def alma_notify(self, alma_id, key='sk_test_standin', signature=None):
        """Alma's notification of a payment, as the public user: `GET <ipn route>?pid=…`
        signed with the key of the account the payment is on (alma/alma-php-client
        src/Lib/RequestUtils.php: hex HMAC-SHA256 of the id), or with the `signature` given."""
        if signature is None:
            signature = hmac.new(key.encode(), alma_id.encode(), hashlib.sha256).hexdigest()
        return self.url_open(f'{AlmaController._ipn_url}?pid={alma_id}',
                             headers={'X-Alma-Signature': signature})


class FrenchChartMixin:
    """The French chart (627, 44566) where l10n_fr_account is installed, as scripts/test does;
    the generic one elsewhere: the add-on does not need l10n_fr_account."""

    chart_template = 'fr'
    # None: a test that needs the French chart is skipped (scripts/test counts it failed).
    chart_fallback = 'generic_coa'

    @classmethod
    def _use_chart_template(cls, company, chart_template_ref=None):
        """Override of `account` to fall back on `chart_fallback` without l10n_fr_account."""
        french = cls.env['ir.module.module']._get('l10n_fr_account').state == 'installed'
        if chart_template_ref == 'fr' and not french and cls.chart_fallback:
            chart_template_ref = cls.chart_fallback
        return super()._use_chart_template(company, chart_template_ref)


class AlmaCommon(StandinMixin, PaymentCommon):
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


class AlmaPosCommon(FrenchChartMixin, StandinMixin, TestPointOfSaleHttpCommon):
    """A French shop in euros whose till offers Alma, against the local Alma stand-in.

    Gives `main_pos_config` with the payment method `alma_pos_method`, the provider `alma`,
    the products `consultation` (399 €) and `vaccine` (30 €, below Alma's 50 € minimum), the
    customer `jean`, and the shop's own mobile `shop_mobile` (that Alma must never get).
    """

    country_code = 'FR'
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

        company = cls.alma.company_id

        def user(login, *groups):
            return cls.env['res.users'].create({
                'name': login.replace('_', ' ').title(), 'login': login,
                'email': f'{login}@clinique-lilas.example',
                'company_id': company.id, 'company_ids': company.ids,
                'groups_id': [(6, 0, [cls.env.ref(group).id for group in groups])],
            })
        cls.accounting_manager = user('alma_accounting_manager', 'account.group_account_manager')
        cls.accounting_reader = user('alma_accounting_reader', 'account.group_account_readonly')
        cls.invoicing_user = user('alma_invoicing_user', 'account.group_account_invoice')

    @classmethod
    def speak_french(cls, *users):
        """The clinic, and these users, in French (with the add-on's French terms loaded)."""
        cls.speak('fr_FR', *users)

    @classmethod
    def speak(cls, lang, *users):
        """The clinic, and these users, in `lang` (with the add-on's terms of it loaded)."""
        cls.env['res.lang']._activate_lang(lang)
        cls.env['ir.module.module']._load_module_terms(['payment_alma'], [lang])
        cls.alma.company_id.partner_id.lang = lang
        for user in users:
            user.lang = lang

    def posted_invoice(self):
        """A posted 399 € invoice of Jean Martin's consultation, left to pay."""
        invoice = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': self.jean.id,
            'invoice_line_ids': [(0, 0, {'name': "Consultation", 'price_unit': 399.0,
                                         'quantity': 1, 'tax_ids': False})],
        })
        invoice.action_post()
        return invoice

    # === After a tour: what the database and the stand-in hold === #

    def _alma_payments(self):
        return self.env['alma.payment'].search([], order='id')

    def _only_alma_payment(self, failed_attempts=0):
        """The one payment Alma holds, and its record in Odoo (plus the attempts Alma lost)."""
        payments = self._alma_payments()
        self.assertEqual(len(self.standin.payments), 1, "One payment created on Alma")
        self.assertEqual(len(payments.filtered(lambda p: p.state == 'error')), failed_attempts)
        sent = payments.filtered(lambda p: p.state != 'error')
        self.assertEqual(len(sent), 1, "One Alma payment in Odoo")
        self.assertIn(sent.alma_id, self.standin.payments)
        return sent

    def _paid_order(self):
        orders = self.env['pos.order'].search([('config_id', '=', self.main_pos_config.id)])
        self.assertEqual(len(orders), 1)
        self.assertIn(orders.state, ('paid', 'done', 'invoiced'))
        return orders

    def _assert_paid_with_alma(self, alma_payment, amount=399.0):
        order = self._paid_order()
        self.assertAlmostEqual(order.amount_total, amount)
        self.assertAlmostEqual(order.amount_paid, amount)
        pos_payment = order.payment_ids.filtered(
            lambda p: p.payment_method_id == self.alma_pos_method)
        self.assertEqual(len(pos_payment), 1)
        self.assertAlmostEqual(pos_payment.amount, amount)
        self.assertEqual(pos_payment.uuid, alma_payment.pos_payment_uuid)
        self.assertEqual(pos_payment.transaction_id, alma_payment.alma_id)
        self.assertEqual(pos_payment.payment_status, 'done')
        return order, pos_payment

    def sync_alma_order(self, line_uuid, order_uuid, amount=399.0, state='paid'):
        """Send the till's order of a consultation paid by the Alma line `line_uuid`."""
        return self.sync_pos_order([(self.consultation, 1, amount, None)],
                                   [(self.alma_pos_method, amount, line_uuid)],
                                   order_uuid=order_uuid, state=state)

    def till_send(self, line_uuid=None, amount=399.0, plan='payment_alma.plan_3x', till=None,
                  **values):
        """The till's `alma_send` of one payment line, as the cashier sends it (by default a
        link to Jean, the customer, for a 399 € consultation in 3x); `values` override what
        the till sends. Returns the till's answer."""
        till = till or self.alma_pos_method.with_user(self.pos_user)
        return till.alma_send({
            'pos_payment_uuid': line_uuid or str(uuid.uuid4()),
            'pos_order_uuid': str(uuid.uuid4()),
            'pos_order_name': "Order 00001-001-0001",
            'amount': amount,
            'plan_id': self.env.ref(plan).id,
            'contact_id': self.jean.id,
            'partner_id': self.jean.id,
            'fees_offered': False,
            'send_mode': 'link',
            **values,
        })

    def alma_sent(self, amount=399.0, line_uuid=None, order_uuid=None,
                  plan='payment_alma.plan_3x', fees_offered=False, till=None):
        """The Alma payment the cashier sent (as a link, to Jean) for the till's line."""
        answer = self.till_send(line_uuid, amount, plan, till=till,
                                pos_order_uuid=order_uuid or str(uuid.uuid4()),
                                fees_offered=fees_offered)
        self.assertFalse(answer.get('error'), answer.get('error'))
        return self.env['alma.payment'].browse(answer['payment']['id'])

    def alma_accepted(self, amount, line_uuid, order_uuid, plan='payment_alma.plan_3x',
                      fees_offered=False):
        """The Alma payment of the till's line `line_uuid`, paid by the customer."""
        payment = self.alma_sent(amount, line_uuid, order_uuid, plan, fees_offered)
        self.standin.pay(payment.alma_id)
        self.alma_pos_method.with_user(self.pos_user).alma_get_status(line_uuid)
        self.env.invalidate_all()
        self.assertEqual(payment.state, 'accepted')
        return payment

    def sync_pos_order(self, lines, payments, order_uuid=None, state='paid'):
        """Send an order as the till syncs it (in the open session of `main_pos_config`).

        :param lines: [(product, qty, price_unit, refunded pos.order.line or None)]
        :param payments: [(pos.payment.method, amount, line uuid)]
        """
        order_uuid = order_uuid or str(uuid.uuid4())
        total = sum(qty * price for _product, qty, price, _refunded in lines)
        paid = sum(amount for _method, amount, _uuid in payments)
        result = self.env['pos.order'].with_user(self.pos_user).sync_from_ui([{
            'uuid': order_uuid,
            'name': f"Order {order_uuid}",
            'session_id': self.main_pos_config.current_session_id.id,
            'pricelist_id': self.main_pos_config.pricelist_id.id,
            'partner_id': self.jean.id,
            'user_id': self.pos_user.id,
            'sequence_number': 1,
            'date_order': fields.Datetime.to_string(fields.Datetime.now()),
            'amount_paid': paid, 'amount_total': total, 'amount_tax': 0, 'amount_return': 0,
            'fiscal_position_id': False,
            'last_order_preparation_change': '{}',
            'to_invoice': False,
            'state': state,
            'lines': [(0, 0, {
                'product_id': product.id, 'qty': qty, 'price_unit': price,
                'price_subtotal': qty * price, 'price_subtotal_incl': qty * price,
                'tax_ids': [], 'pack_lot_ids': [],
                'refunded_orderline_id': refunded.id if refunded else False,
            }) for product, qty, price, refunded in lines],
            'payment_ids': [(0, 0, {
                'uuid': line_uuid, 'amount': amount, 'name': fields.Datetime.now(),
                'payment_method_id': method.id,
            }) for method, amount, line_uuid in payments],
        }])
        return self.env['pos.order'].browse(result['pos.order'][0]['id'])

    @property
    def cash_method(self):
        return self.main_pos_config.payment_method_ids.filtered('is_cash_count')[:1]


class AlmaWebCommon(FrenchChartMixin, AccountTestInvoicingCommon, HttpCase):
    """A French company in euros whose customers pay online with Alma (portal, links, shop).

    Gives the published provider `alma`, its payment method `alma_method`, the customer `jean`
    (complete French contact) with the portal user `jean_user`, and `invoice_for(amount)`.
    """

    country_code = 'FR'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.standin = get_standin()
        cls.company = cls.company_data['company']
        cls.company.write({'street': "1 place de la Mairie", 'zip': '69001', 'city': 'Lyon',
                           'email': 'contact@clinique-lilas.example'})
        cls.env.user.company_ids |= cls.company
        cls.alma_method = cls.env.ref('payment.payment_method_alma')
        cls.alma_method.active = True
        cls.alma = cls.env.ref('payment_alma.payment_provider_alma').sudo().copy({
            'company_id': cls.company.id,
            'state': 'test',
            'is_published': True,
            'alma_api_key_test': 'sk_test_standin',
            'alma_api_url': cls.standin.url,
            'payment_method_ids': [Command.set(cls.alma_method.ids)],
        })
        cls.alma._alma_ensure_journal()
        cls.jean_user = new_test_user(
            cls.env, login='jean', password='jean', groups='base.group_portal',
            name="Jean Martin", company_id=cls.company.id, company_ids=cls.company.ids)
        cls.jean = cls.jean_user.partner_id
        cls.jean.write({
            'mobile': '+33612345678', 'email': 'jean.martin@example.com',
            'street': "20 rue d'Alsace", 'zip': '75002', 'city': 'Paris',
            'country_id': cls.env.ref('base.fr').id, 'company_id': cls.company.id,
        })

    def setUp(self):
        super().setUp()
        self.standin.reset()
        # Alma's own notification is sent by the tests themselves, at a known moment.
        self.standin.configure(ipn_delay=600)
        self.alma._alma_clear_fee_plans_cache()
        # The offers are kept for a request; a test's cursor outlives many.
        self.env.cr.cache.pop('alma_web_offers', None)

    alma_requests = StandinMixin.alma_requests
    alma_notify = StandinMixin.alma_notify

    @classmethod
    def invoice_for(cls, amount, partner=None):
        return cls.init_invoice('out_invoice', partner=partner or cls.jean, amounts=[amount],
                                taxes=cls.env['account.tax'], post=True)

    def shop_website(self):
        """Odoo's default website, selling for the company in euros (`website_sale` installed).

        The test database of `scripts/test` installs `website_sale`; the add-on does not need it.
        """
        self.assertIn('website', self.env, "scripts/test installs website_sale in its database")
        website = self.env.ref('website.default_website')
        website.company_id = self.company
        pricelist = self.env['product.pricelist'].create({
            'name': "Clinique des Lilas (EUR)",
            'currency_id': self.company.currency_id.id,
            'company_id': self.company.id,
            'website_id': website.id,
            'sequence': 1,
        })
        self.jean.with_company(self.company).property_product_pricelist = pricelist
        # The shop asks for a phone in the address (Alma reads the mobile).
        self.jean.phone = '+33145000000'
        return website

    @classmethod
    def alma_service(cls, price, **values):
        """A published service (no delivery step at checkout) without taxes."""
        return cls.env['product.product'].create({
            'name': "Bilan complet",
            'type': 'service',
            'list_price': price,
            'taxes_id': [Command.clear()],
            'sale_ok': True,
            **values,
        })

    def customer_pays(self, alma_id, card='4242424242424242'):
        """The customer submits a card on the stand-in's payment page."""
        response = requests.post(f'{self.standin.url}/pay/{alma_id}',
                                 data={'card_number': card}, timeout=10)
        response.raise_for_status()
        return response


class ClinicCommon(StandinMixin, HttpCase):
    """The demo's clinic, as `scripts/demo` makes it: the world of the journey tests.

    `hooks.py` builds it with Odoo's demo data, on the French chart that `scripts/test` installs
    first as `scripts/demo` does: the company *Clinique vétérinaire des Lilas* in euros, its till
    *Accueil clinique* (Alma and cash), its products at French prices with 20 % VAT, its French
    customers, and its staff holding only their jobs' standard groups (`accueil`: Point of Sale
    user; `compta`: Billing; `admin`). Here the clinic, its staff and customers speak French on
    Paris time, and Alma is the local stand-in.
    """

    def setUp(self):
        super().setUp()
        # Alma's notification would reach this test's server while the test itself holds the
        # database: here the till's polling and the tests' reads learn of Alma's news.
        self.standin.configure(ipn_delay=600)

    # The terms a clinic reads in the journeys: ours and those of the screens around them.
    french_modules = ['web', 'mail', 'account', 'payment', 'account_payment', 'portal',
                      'point_of_sale', 'payment_alma']

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clinic = cls.env.ref('payment_alma.demo_clinic', raise_if_not_found=False)
        assert cls.clinic, "The clinic is the add-on's demo data: install it with Odoo's demo data."
        cls.env = cls.env(context=dict(cls.env.context, allowed_company_ids=cls.clinic.ids))
        cls.env['res.lang']._activate_lang('fr_FR')
        cls.env['ir.module.module']._load_module_terms(cls.french_modules, ['fr_FR'])
        cls.standin = get_standin()
        cls.alma = cls.env.ref('payment_alma.payment_provider_alma')
        cls.alma.alma_api_url = cls.standin.url
        users = cls.env['res.users'].search([('login', 'in', ('accueil', 'compta', 'admin'))])
        cls.cashier, cls.bookkeeper, cls.admin = (
            users.filtered(lambda user, login=login: user.login == login)
            for login in ('accueil', 'compta', 'admin'))
        cls.customers = cls.env['res.partner'].search([('company_id', '=', cls.clinic.id),
                                                       ('mobile', '!=', False)])
        french = {'lang': 'fr_FR', 'tz': 'Europe/Paris'}
        (cls.clinic.partner_id | cls.customers).write(french)
        users.write(french)
        cls.admin.write({'company_id': cls.clinic.id, 'company_ids': [Command.link(cls.clinic.id)]})
        cls.till = cls.env['pos.config'].search([('company_id', '=', cls.clinic.id)])
        cls.alma_pos_method = cls.till.payment_method_ids.filtered(
            lambda method: method.use_payment_terminal == 'alma')

    @property
    def jean(self):
        return self.customers.filtered(lambda partner: partner.name == "Jean Martin")

    def clinic_payment_accepted(self, amount=399.0, plan='payment_alma.plan_3x', line_uuid=None,
                                order_uuid=None):
        """An Alma payment of Jean Martin's, sent from the till by its cashier and paid."""
        self.till.with_user(self.cashier).open_ui()
        jean = self.jean
        line_uuid = line_uuid or str(uuid.uuid4())
        answer = self.alma_pos_method.with_user(self.cashier).alma_send({
            'pos_payment_uuid': line_uuid, 'pos_order_uuid': order_uuid or str(uuid.uuid4()),
            'amount': amount, 'plan_id': self.env.ref(plan).id, 'contact_id': jean.id,
            'partner_id': jean.id, 'send_mode': 'link',
        })
        self.assertFalse(answer.get('error'), answer.get('error'))
        payment = self.env['alma.payment'].browse(answer['payment']['id'])
        self.standin.pay(payment.alma_id)
        self.alma_pos_method.with_user(self.cashier).alma_get_status(line_uuid)
        self.assertEqual(payment.state, 'accepted')
        return payment

    def clinic_product(self, name):
        return self.env['product.product'].search(
            [('name', '=', name), ('company_id', '=', self.clinic.id)])

    @property
    def clinic_cash(self):
        """The till's "Espèces"."""
        return self.till.payment_method_ids.filtered('is_cash_count')

    def clinic_sync_order(self, lines, payments, order_uuid=None, name=None):
        """Jean Martin's order as the till syncs it (VAT included), in the cashier's open
        session: `lines` [(product name, quantity)] at the clinic's prices, `payments`
        [(pos.payment.method, amount, line uuid or None)]."""
        if not self.till.current_session_id:
            self.till.with_user(self.cashier).open_ui()
        session = self.till.current_session_id
        order_uuid = order_uuid or str(uuid.uuid4())
        products = [(self.clinic_product(product_name), qty) for product_name, qty in lines]
        taxes = [product.taxes_id.compute_all(product.list_price, quantity=qty, product=product)
                 for product, qty in products]
        total = sum(tax['total_included'] for tax in taxes)
        number = self.env['pos.order'].search_count([('session_id', '=', session.id)]) + 1
        result = self.env['pos.order'].with_user(self.cashier).sync_from_ui([{
            'uuid': order_uuid,
            # The ticket's number, as the till gives it.
            'name': name or f"Commande {session.id:05d}-001-{number:04d}",
            'session_id': session.id,
            'pricelist_id': self.till.pricelist_id.id, 'partner_id': self.jean.id,
            'user_id': self.cashier.id, 'sequence_number': number,
            'date_order': fields.Datetime.to_string(fields.Datetime.now()),
            'amount_paid': sum(amount for _method, amount, _uuid in payments),
            'amount_total': total,
            'amount_tax': total - sum(tax['total_excluded'] for tax in taxes),
            'amount_return': 0, 'fiscal_position_id': False,
            'last_order_preparation_change': '{}', 'to_invoice': False, 'state': 'paid',
            'lines': [Command.create({
                'product_id': product.id, 'qty': qty, 'price_unit': product.list_price,
                'price_subtotal': tax['total_excluded'],
                'price_subtotal_incl': tax['total_included'],
                'tax_ids': [Command.set(product.taxes_id.ids)], 'pack_lot_ids': [],
            }) for (product, qty), tax in zip(products, taxes, strict=True)],
            'payment_ids': [Command.create({
                'uuid': line_uuid or str(uuid.uuid4()), 'amount': amount,
                'name': fields.Datetime.now(), 'payment_method_id': method.id,
            }) for method, amount, line_uuid in payments],
        }])
        order = self.env['pos.order'].browse(result['pos.order'][0]['id'])
        self.assertEqual(order.state, 'paid')
        return order

    def clinic_till_sale(self, product_name, quantity=1, cash=0.0):
        """Jean Martin buys `quantity` of `product_name` at the till, paid with Alma (but `cash`
        in cash): the order as the till syncs it (VAT included), and its Alma payment."""
        product = self.clinic_product(product_name)
        total = product.taxes_id.compute_all(
            product.list_price, quantity=quantity, product=product)['total_included']
        line_uuid, order_uuid = str(uuid.uuid4()), str(uuid.uuid4())
        payment = self.clinic_payment_accepted(total - cash, line_uuid=line_uuid,
                                               order_uuid=order_uuid)
        payments = [(self.alma_pos_method, total - cash, line_uuid)]
        if cash:
            payments.append((self.clinic_cash, cash, None))
        order = self.clinic_sync_order([(product_name, quantity)], payments,
                                       order_uuid=order_uuid)
        self.assertEqual(payment.pos_payment_id.pos_order_id, order)
        return payment
