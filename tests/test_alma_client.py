import socket
import time

from odoo.tests import tagged

from odoo.addons.payment_alma.tests.common import AlmaCommon
from odoo.addons.payment_alma.utils.alma_client import AlmaClient, AlmaError


def payment_payload(amount=39900, installments_count=3, **customer):
    address = {
        'first_name': 'Jean', 'last_name': 'Martin', 'line1': "20 rue d'Alsace",
        'postal_code': '75002', 'city': 'Paris', 'country': 'FR',
    }
    return {
        'payment': {
            'purchase_amount': amount,
            'installments_count': installments_count,
            'deferred_days': 0,
            'deferred_months': 0,
            'origin': 'pos_sms',
            'billing_address': address,
        },
        'customer': {
            'first_name': 'Jean', 'last_name': 'Martin', 'email': 'jean.martin@example.com',
            'phone': '+33612345678', 'addresses': [address], **customer,
        },
        'order': {'merchant_reference': 'Order 0001-001-0001'},
    }


@tagged('post_install', '-at_install')
class TestAlmaClient(AlmaCommon):

    def client(self, **kwargs):
        kwargs.setdefault('backoff', 0)
        base_url = kwargs.pop('base_url', self.standin.url)
        api_key = kwargs.pop('api_key', 'sk_test_standin')
        return AlmaClient(self.env, base_url, api_key, **kwargs)

    def assertAlmaError(self, kind, call, *args):
        with self.assertRaises(AlmaError) as caught:
            call(*args)
        self.assertEqual(caught.exception.kind, kind, caught.exception.args[0])
        return caught.exception

    def test_reads_the_merchant(self):
        merchant = self.client().get_merchant()
        self.assertEqual(merchant['id'], 'merchant_11standinclinic')
        self.assertEqual(merchant['name'], "Clinique des Lilas (Alma stand-in)")

    def test_401_bad_key(self):
        error = self.assertAlmaError('auth', self.client(api_key='sk_test_wrong').get_merchant)
        self.assertEqual(error.status, 401)
        self.assertIn("refused the API key", error.args[0])

    def test_400_field_by_field(self):
        payload = payment_payload(email='not-an-email')
        payload['customer']['phone'] = '612345678'  # Neither + nor 0: unreadable.
        error = self.assertAlmaError('validation', self.client().create_payment, payload)
        fields = {field_error['field'] for field_error in error.field_errors}
        self.assertEqual(fields, {'customer.email', 'customer.phone'})
        self.assertIn("customer.email", error.args[0])
        self.assertIn("customer.phone", error.args[0])
        self.assertFalse(self.standin.payments, "nothing may be created from invalid data")

    def test_400_merchant_cannot_create_payments(self):
        client = self.client(api_key='sk_test_nopayments')
        error = self.assertAlmaError('validation', client.create_payment, payment_payload())
        self.assertEqual(error.error_code, 'merchant_cant_create_payments')
        self.assertIn("cannot create payments yet", error.args[0])

    def test_403_feature_not_enabled(self):
        self.standin.configure(sms_enabled=False)
        payment = self.client().create_payment(payment_payload())
        error = self.assertAlmaError('forbidden', self.client().send_sms, payment['id'])
        self.assertIn("not enabled on your Alma account", error.args[0])
        self.assertFalse(self.standin.sms_outbox)

    def test_404_unknown_payment(self):
        error = self.assertAlmaError('not_found', self.client().get_payment, 'payment_unknown')
        self.assertEqual(error.status, 404)

    def test_429_then_success_is_retried_for_reads(self):
        self.standin.fail(429, method='GET', path_prefix='/v1/me', times=1)
        self.assertEqual(self.client().get_merchant()['id'], 'merchant_11standinclinic')
        self.assertEqual(self.alma_requests('GET', '/v1/me'), 2)

    def test_500_on_reads_gives_up_after_the_retries(self):
        self.standin.fail(500, method='GET', path_prefix='/v1/me', times=10)
        error = self.assertAlmaError('server', self.client(retries=3).get_merchant)
        self.assertIn("temporarily unavailable (error 500)", error.args[0])
        self.assertEqual(self.alma_requests('GET', '/v1/me'), 4)

    def test_500_on_payment_creation_is_never_retried(self):
        self.standin.fail(500, method='POST', path_prefix='/v1/payments', times=1)
        self.assertAlmaError('server', self.client().create_payment, payment_payload())
        self.assertEqual(self.alma_requests('POST', '/v1/payments'), 1)
        self.assertFalse(self.standin.payments)
        # The next, deliberate attempt goes through.
        self.assertTrue(self.client().create_payment(payment_payload())['id'])

    def test_timeout(self):
        self.standin.configure(timeout_seconds=2)
        self.standin.fail('timeout', method='GET', path_prefix='/v1/me', times=1)
        client = self.client(timeouts=(1, 0.3), retries=0)
        error = self.assertAlmaError('timeout', client.get_merchant)
        self.assertIn("did not answer in time", error.args[0])

    def test_connection_dropped(self):
        self.standin.fail('disconnect', method='GET', path_prefix='/v1/me', times=1)
        self.assertAlmaError('connection', self.client(retries=0).get_merchant)

    def test_connection_refused(self):
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            closed_port = sock.getsockname()[1]
        client = self.client(base_url=f'http://127.0.0.1:{closed_port}', retries=1)
        error = self.assertAlmaError('connection', client.get_merchant)
        self.assertIn("Alma cannot be reached", error.args[0])

    def test_messages_in_french(self):
        self.env['res.lang']._activate_lang('fr_FR')
        self.env['ir.module.module']._load_module_terms(['payment_alma'], ['fr_FR'])
        client = AlmaClient(self.env(context={'lang': 'fr_FR'}), self.standin.url, 'sk_test_bad')
        error = self.assertAlmaError('auth', client.get_merchant)
        self.assertIn("Alma a refusé la clé d'API", error.args[0])

    # === Alma's own words, and its pace (issue 9) === #

    def test_400_shows_alma_s_errors_even_without_a_message(self):
        # As Alma's sandbox answers a refund of an unpaid payment (alma/alma-php-client,
        # tests/Integration/Infrastructure/Endpoint/PaymentEndpointTest.php): a value, no text.
        self.standin.fail(400, method='POST', path_prefix='/v1/payments', body={
            'error_code': 'validation_error',
            'errors': [
                {'field': 'payment.origin', 'error_code': 'invalid_value', 'value': 'web'},
                {'error_code': 'invalid_value', 'value': 'not_started'},
            ],
        })
        error = self.assertAlmaError('validation', self.client().create_payment, payment_payload())
        self.assertIn("payment.origin: is not a valid value (value sent: web)", error.args[0])
        self.assertIn("is not a valid value (value sent: not_started)", error.args[0])
        self.assertNotIn("?", error.args[0])
        self.assertNotIn("invalid_value", error.args[0])

    def test_400_with_alma_s_messages_field_by_field(self):
        answer = self.client().check_eligibility
        error = self.assertAlmaError('validation', answer, 39900, [], 'web')
        self.assertIn("origin: origin must be online, online_in_page or start with pos_",
                      error.args[0])

    def test_an_error_that_says_only_error_is_never_shown_alone(self):
        self.standin.fail(400, method='GET', path_prefix='/v1/me', body={'error': 'error'})
        error = self.assertAlmaError('validation', self.client().get_merchant)
        self.assertIn("HTTP error 400 Bad Request", error.args[0])
        self.standin.fail(418, method='GET', path_prefix='/v1/me', body={'error_code': 'teapot'})
        error = self.assertAlmaError('bad_response', self.client().get_merchant)
        self.assertIn("Alma's code: teapot", error.args[0])

    def test_429_waits_as_long_as_alma_asks(self):
        self.standin.fail(429, method='GET', path_prefix='/v1/me', retry_after=1)
        started = time.monotonic()
        self.assertEqual(self.client(backoff=0).get_merchant()['id'], 'merchant_11standinclinic')
        self.assertGreaterEqual(time.monotonic() - started, 1)
        self.assertEqual(self.alma_requests('GET', '/v1/me'), 2)

    def test_429_asking_a_long_wait_tells_how_long(self):
        self.standin.fail(429, method='GET', path_prefix='/v1/me', retry_after=120, times=5)
        started = time.monotonic()
        error = self.assertAlmaError('rate_limited', self.client().get_merchant)
        self.assertLess(time.monotonic() - started, 5)
        self.assertEqual(error.retry_after, 120)
        self.assertIn("asks to wait 120 s.", error.args[0])
        self.assertEqual(self.alma_requests('GET', '/v1/me'), 1)

    def test_a_live_key_gets_401_on_the_sandbox(self):
        error = self.assertAlmaError('auth', self.client(api_key='sk_live_standin').get_merchant)
        self.assertIn("live keys (sk_live_…) on the live API only", error.args[0])
        live = self.client(base_url=self.standin.live_url, api_key='sk_live_standin')
        self.assertEqual(live.get_merchant()['id'], 'merchant_11standinclinic')
