from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.tests.common import AlmaCommon


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
            {'P1X_D+15', 'P1X_D+30', 'P1X_D+45', 'P2X', 'P3X', 'P4X'},
        )
        self.assertEqual(provider.support_refund, 'partial')

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

    def test_check_connection_with_test_and_live_keys_of_one_merchant(self):
        self.alma.alma_api_key_live = 'sk_live_standin'
        self.alma.action_alma_check_connection()
        self.assertEqual(self.alma_requests('GET', '/v1/me'), 2)

    def test_check_connection_refuses_keys_of_two_merchants(self):
        self.alma.alma_api_key_live = 'sk_live_other'
        with self.assertRaisesRegex(UserError, "same Alma account"):
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

    def test_api_url_follows_the_state(self):
        self.alma.alma_api_url = False
        self.assertEqual(self.alma._alma_get_api_url(), const.API_URL_TEST)
        self.alma.alma_api_key_live = 'sk_live_standin'
        self.alma.state = 'enabled'
        self.assertEqual(self.alma._alma_get_api_url(), const.API_URL_LIVE)
        self.assertEqual(self.alma._alma_get_api_key(), 'sk_live_standin')

    def test_missing_key_is_explained(self):
        self.alma.alma_api_key_test = False
        with self.assertRaisesRegex(UserError, "no test API key"):
            self.alma._alma_get_api_key()

    def test_api_keys_are_for_administrators_only(self):
        for field in ('alma_api_key_test', 'alma_api_key_live', 'alma_api_url'):
            self.assertEqual(self.alma._fields[field].groups, 'base.group_system')
        for group in ('account.group_account_manager', 'point_of_sale.group_pos_manager'):
            user = self.env['res.users'].create({
                'name': group, 'login': group,
                'groups_id': [(6, 0, self.env.ref(group).ids)],
            })
            with self.assertRaises(AccessError):
                self.alma.with_user(user).read(['alma_api_key_test'])
