import json
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.tests.common import AlmaCommon, web_specification


@tagged('post_install', '-at_install')
class TestPaymentProvider(AlmaCommon):

    def test_installed_provider(self):
        provider = self.env.ref('payment_alma.payment_provider_alma')
        self.assertEqual(provider.code, 'alma')
        self.assertEqual(provider.payment_method_ids, self.env.ref('payment.payment_method_alma'))
        self.assertEqual(provider.alma_cash_in_delay, 7)
        self.assertEqual(provider.alma_fee_vat_rate, 20)
        self.assertEqual(provider.alma_origin, 'pos_sms')
        self.assertEqual(
            set(provider.alma_plan_ids.mapped('code')),
            {'P1X_D+15', 'P1X_D+30', 'P1X_D+45', 'P1X_M+1', 'P2X', 'P3X', 'P4X'},
        )
        # Odoo's own Refund of a transaction goes through Alma, in full or in part.
        self.assertEqual(provider.support_refund, 'partial')

    def test_the_apps_description_is_oca_readme_not_the_developers_readme(self):
        """Issue 22, item 2: Odoo stores README.rst (made from readme/) as the description."""
        module = self.env['ir.module.module'].search([('name', '=', 'payment_alma')])
        self.assertIn("Frais Alma", module.description)
        self.assertIn("Known issues / Roadmap", module.description)
        self.assertNotIn("The two commands", module.description)

    def test_alma_journal_has_its_own_outstanding_account(self):
        journal = self.alma.journal_id
        self.assertEqual((journal.name, journal.type), ("Alma", 'bank'))
        line = journal.inbound_payment_method_line_ids.filtered(
            lambda line: line.payment_provider_id == self.alma)
        self.assertEqual(line.payment_account_id.name, "Alma Outstanding Receipts")
        other_lines = self.env['account.payment.method.line'].search([
            ('payment_provider_id', '!=', self.alma.id),
            ('payment_account_id', '=', line.payment_account_id.id),
        ])
        self.assertFalse(other_lines, "Alma's receipts must not mix with other methods'")

    def test_check_connection_shows_the_merchant(self):
        action = self.alma.action_alma_check_connection()
        self.assertEqual(self.alma.alma_merchant_name, "Clinique des Lilas (Alma stand-in)")
        self.assertEqual(self.alma.alma_merchant_id, 'merchant_11standinclinic')
        self.assertEqual(action['params']['type'], 'success')
        self.assertIn("Clinique des Lilas (Alma stand-in)", action['params']['message'])

    def alma_hosts(self):
        """Alma's two hosts, here the stand-in's two faces: the sandbox (its root), which knows
        test keys only, and the live API (under /live), which knows live keys only."""
        self.alma.alma_api_url = False
        return patch.multiple(const, API_URL_TEST=self.standin.url,
                              API_URL_LIVE=self.standin.live_url)

    def test_check_connection_sends_each_key_to_its_own_host(self):
        self.alma.alma_api_key_live = 'sk_live_standin'
        with self.alma_hosts():
            action = self.alma.action_alma_check_connection()
            self.assertEqual(self.alma_requests('GET', '/v1/me'), 1)
            self.assertEqual(self.alma_requests('GET', '/live/v1/me'), 1)
            self.assertEqual(action['params']['type'], 'success', action['params']['message'])
            # One account, two keys: one merchant id (what Alma's WooCommerce plugin checks).
            self.assertEqual(self.alma.alma_merchant_id, 'merchant_11standinclinic')
            self.alma.state = 'enabled'
            self.alma.action_alma_check_connection()
            self.assertEqual(self.alma._alma_client().get_merchant()['id'],
                             'merchant_11standinclinic')
            self.assertEqual(self.alma_requests('GET', '/live/v1/me'), 3)

    def test_check_connection_refuses_keys_of_two_accounts(self):
        """Issue 20, item 5: the merchant ids differ, as Alma's WooCommerce plugin checks
        (not the names); nothing is recorded as connected."""
        self.alma.alma_api_key_live = 'sk_live_other'
        with self.alma_hosts(), self.assertRaises(UserError) as refused:
            self.alma.action_alma_check_connection()
        self.assertIn("do not come from the same Alma account", str(refused.exception))
        self.assertIn("merchant_11otherstandin", str(refused.exception))
        self.assertFalse(self.alma.alma_merchant_id)

    def test_a_live_key_on_the_sandbox_is_refused_clearly(self):
        # An API URL set (a proxy, here the stand-in's sandbox face) receives both keys.
        self.alma.alma_api_key_live = 'sk_live_standin'
        with self.assertRaisesRegex(UserError, "live keys .* on the live API only"):
            self.alma.action_alma_check_connection()
        self.assertFalse(self.alma.alma_merchant_id)

    def test_check_connection_with_a_bad_key(self):
        self.alma.alma_api_key_test = 'sk_test_wrong'
        with self.assertRaisesRegex(UserError, "refused the API key"):
            self.alma.action_alma_check_connection()

    def test_merchant_without_payments_is_warned(self):
        self.alma.alma_api_key_test = 'sk_test_nopayments'
        action = self.alma.action_alma_check_connection()
        self.assertEqual(action['params']['type'], 'warning')
        self.assertIn("cannot create payments yet", action['params']['message'])

    def test_key_prefixes_are_checked(self):
        with self.assertRaisesRegex(ValidationError, "live API key must start with sk_live_"):
            self.alma.write({'alma_api_key_live': 'sk_test_standin'})
        with self.assertRaisesRegex(ValidationError, "test API key must start with sk_test_"):
            self.alma.write({'alma_api_key_live': 'sk_live_standin',
                             'alma_api_key_test': 'sk_live_standin'})

    def test_api_url_follows_the_key(self):
        self.alma.alma_api_url = False
        self.assertEqual(self.alma._alma_get_api_url(), const.API_URL_TEST)
        self.assertEqual(self.alma._alma_get_api_url('sk_live_standin'), const.API_URL_LIVE)
        self.alma.alma_api_key_live = 'sk_live_standin'
        self.alma.state = 'enabled'
        self.assertEqual(self.alma._alma_get_api_url(), const.API_URL_LIVE)
        self.assertEqual(self.alma._alma_get_api_url('sk_test_standin'), const.API_URL_TEST)
        self.assertEqual(self.alma._alma_get_api_key(), 'sk_live_standin')
        self.alma.alma_api_url = self.standin.url
        self.assertEqual(self.alma._alma_get_api_url('sk_live_standin'), self.standin.url)

    def test_in_store_origin_starts_with_pos(self):
        self.assertEqual(self.alma.alma_origin, const.DEFAULT_ORIGIN)
        with self.assertRaisesRegex(ValidationError, "must start with pos_"):
            self.alma.alma_origin = 'online'
        self.alma.alma_origin = 'pos_device'
        self.alma._alma_get_offers(399, self.currency_euro)
        self.assertEqual(self.alma_requests('POST', '/v2/payments/eligibility'), 1)

    def test_missing_key_is_explained(self):
        self.alma.alma_api_key_test = False
        with self.assertRaisesRegex(UserError, "no test API key"):
            self.alma._alma_get_api_key()

    def test_api_keys_are_for_administrators_only(self):
        for field in ('alma_api_key_test', 'alma_api_key_live'):
            self.assertEqual(self.alma._fields[field].groups, fields.NO_ACCESS)
        for field in ('alma_api_key_test_input', 'alma_api_key_live_input', 'alma_api_url'):
            self.assertEqual(self.alma._fields[field].groups, 'base.group_system')
        for group in ('account.group_account_manager', 'point_of_sale.group_pos_manager',
                      'base.group_system'):
            user = self.env['res.users'].create({
                'name': group, 'login': group,
                'groups_id': [(6, 0, self.env.ref(group).ids)],
            })
            with self.assertRaises(AccessError):
                self.alma.with_user(user).read(['alma_api_key_test'])

    def test_keys_never_reach_the_administrators_browser(self):
        """The provider's form, as the web client reads and saves it for the administrator,
        tells whether a key is saved and its prefix, never its value; a key is still set,
        replaced, used and removed through the form."""
        admin = new_test_user(self.env, login='alma_admin',
                              groups='base.group_system,account.group_account_manager')
        provider = self.alma.with_user(admin)
        form = provider.get_views([(False, 'form')])['views']['form']['arch']
        spec = {'display_name': {}, **web_specification(provider, form)}

        def form_read(answer=None):
            values = answer or provider.web_read(spec)
            text = json.dumps(values, default=str)
            self.assertNotIn('sk_test_standin', text)
            self.assertNotIn('sk_test_nopayments', text)
            return values[0]

        values = form_read()
        self.assertEqual(values['alma_api_key_test_hint'], "sk_test_… (saved)")
        self.assertFalse(values['alma_api_key_live_hint'])
        self.assertFalse(values['alma_api_key_test_input'])
        self.assertNotIn('alma_api_key_test', provider.fields_get())
        with self.assertRaises(AccessError):
            provider.read(['alma_api_key_test'])

        # Replaced through the form: the saved key is the new one, which the answer omits.
        form_read(provider.web_save({'alma_api_key_test_input': ' sk_test_nopayments '}, spec))
        self.env.invalidate_all()
        self.assertEqual(self.alma.alma_api_key_test, 'sk_test_nopayments')
        action = provider.action_alma_check_connection()
        self.assertIn("cannot create payments yet", action['params']['message'])
        # Saved again with the field left empty: the key stays.
        form_read(provider.web_save({'alma_api_key_test_input': False, 'alma_cash_in_delay': 8},
                                    spec))
        self.assertEqual(self.alma.alma_api_key_test, 'sk_test_nopayments')
        # As the web client's request would: the refused save is rolled back.
        with self.assertRaisesRegex(ValidationError, "must start with sk_test_"), \
                self.env.cr.savepoint():
            provider.web_save({'alma_api_key_test_input': 'sk_live_standin'}, spec)
        self.assertEqual(self.alma.alma_api_key_test, 'sk_test_nopayments')

        # Removed with the field's button.
        provider.web_save({'alma_api_key_live_input': 'sk_live_standin'}, spec)
        self.assertEqual(form_read()['alma_api_key_live_hint'], "sk_live_… (saved)")
        provider.with_context(alma_key='live').action_alma_clear_api_key()
        self.assertFalse(self.alma.alma_api_key_live)
        self.assertFalse(form_read()['alma_api_key_live_hint'])
        # An accounting administrator who is no Settings administrator changes no key.
        accountant = new_test_user(self.env, login='alma_accountant',
                                   groups='account.group_account_manager')
        with self.assertRaises(AccessError):
            self.alma.with_user(accountant).with_context(
                alma_key='test').action_alma_clear_api_key()
        with self.assertRaises(AccessError):
            self.alma.with_user(accountant).write({'alma_api_key_test_input': 'sk_test_x'})
        self.assertEqual(self.alma.alma_api_key_test, 'sk_test_nopayments')
