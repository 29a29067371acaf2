"""Issue 20: *Check against Alma's sandbox*, run against the stand-in (as Alma's sandbox), and
against the stand-in with a behaviour changed."""
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.tests.common import AlmaCommon


@tagged('post_install', '-at_install')
class TestSandboxCheck(AlmaCommon):

    def setUp(self):
        super().setUp()
        # Each key to its own host, as on Alma: the stand-in's sandbox and live faces.
        self.alma.alma_api_url = False
        self.alma.alma_api_key_live = 'sk_live_standin'
        hosts = patch.multiple(const, API_URL_TEST=self.standin.url,
                               API_URL_LIVE=self.standin.live_url)
        hosts.start()
        self.addCleanup(hosts.stop)

    def results(self):
        return {line.code: (line.result, line.detail or '')
                for line in self.alma.alma_sandbox_check_ids}

    def test_the_check_confirms_what_the_sandbox_does_and_cancels_what_it_made(self):
        action = self.alma.action_alma_sandbox_check()
        results = self.results()
        self.assertEqual({code: result for code, (result, _detail) in results.items()}, {
            'host': 'confirmed', 'me': 'confirmed', 'fee_plans_pos': 'confirmed',
            'eligibility_keyed': 'confirmed', 'origin_pos': 'confirmed',
            'covers_all_fees': 'confirmed', 'expired_at': 'confirmed', 'fee_fields': 'confirmed',
            'cancel': 'confirmed', 'list': 'confirmed', 'send_sms': 'not_tested',
            'data_export': 'confirmed', 'ipn': 'not_tested',
        })
        self.assertIn("= merchant_target_fee", results['fee_fields'][1])
        self.assertIn("Frais Alma", results['data_export'][1])
        self.assertEqual(action['params']['type'], 'success')
        self.assertIn("merchant_11standinclinic", results['me'][1])
        # The one payment it made is cancelled; nothing was texted; the live key was not sent
        # (the live face answered the test key's one call with a 401).
        [made] = self.standin.payments.values()
        self.assertTrue(made['expired_at'], "cancelled at once")
        self.assertFalse(self.standin.sms_outbox)
        self.assertEqual(self.alma_requests('GET', '/live/v1/me'), 1)
        self.assertEqual([path for _method, path in self.standin.requests
                          if path.startswith('/live')], ['/live/v1/me'])
        # A second check replaces the first one's lines.
        self.alma.action_alma_sandbox_check()
        self.assertEqual(len(self.alma.alma_sandbox_check_ids), len(results))

    def test_a_behaviour_alma_changed_is_reported_different(self):
        self.standin.fail(500, method='PUT', path_prefix='/v1/payments')
        self.standin.fail(404, method='POST', path_prefix='/v1/data-exports')
        action = self.alma.action_alma_sandbox_check()
        results = self.results()
        self.assertEqual(results['cancel'][0], 'different')
        self.assertIn("temporarily unavailable", results['cancel'][1])
        self.assertEqual(results['data_export'][0], 'different')
        self.assertEqual(results['covers_all_fees'][0], 'confirmed', "the others go on")
        self.assertEqual(action['params']['type'], 'warning')

    def test_only_administrators_and_only_the_test_key(self):
        bookkeeper = new_test_user(self.env, login='alma_check_bookkeeper',
                                   groups='account.group_account_manager')
        with self.assertRaises(AccessError):
            self.alma.with_user(bookkeeper).action_alma_sandbox_check()
        self.alma.alma_api_key_test = False
        with self.assertRaisesRegex(UserError, "test API key"):
            self.alma.action_alma_sandbox_check()
        self.assertFalse(self.standin.requests, "Alma was not asked")
