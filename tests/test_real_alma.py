"""Issue 9 (points 4, 5, 8): the add-on reads Alma's payment as the real Alma writes it."""
from datetime import timedelta

from odoo import fields, sql_db
from odoo.tests import tagged

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.tests.common import AlmaPosCommon


@tagged('post_install', '-at_install')
class TestRealAlma(AlmaPosCommon):

    def setUp(self):
        super().setUp()
        self.standin.configure(ipn_delay=600)
        self.method = self.alma_pos_method.with_user(self.pos_user)

    def send(self):
        answer = self.till_send(till=self.method)
        self.assertFalse(answer.get('error'), answer.get('error'))
        return self.env['alma.payment'].browse(answer['payment']['id'])

    def poll(self):
        self.env['alma.payment']._cron_alma_poll_pending()

    def fee_lines(self, payment):
        return self.env['alma.fee.line'].search([('alma_payment_id', '=', payment.id)])

    # === 4. Expiry: a deadline from the creation, Alma's expired_at only once expired === #

    def test_4_the_deadline_comes_from_the_creation_not_from_expired_at(self):
        payment = self.send()
        remote = self.standin.payments[payment.alma_id]
        self.assertIsNone(remote['expired_at'])
        created = fields.Datetime.to_datetime(
            fields.Datetime.to_string(payment.create_date)).replace(microsecond=0)
        deadline = created + timedelta(minutes=const.LINK_EXPIRES_AFTER_MINUTES)
        self.assertLess(abs((payment.expires_at - deadline).total_seconds()), 5)
        self.assertTrue(self.method.alma_get_status(payment.pos_payment_uuid)
                        ['payment']['expires_at'], "the till's countdown has its deadline")
        self.poll()
        self.assertEqual(payment.state, 'waiting', "an empty expired_at is no expiry")
        self.standin.expire(payment.alma_id)
        self.poll()
        self.assertEqual(payment.state, 'expired')

    # === 5. The merchant's fee: Alma's own figure when it gives one (issue 20, item 3) === #

    def test_5_the_fee_and_its_vat_are_alma_fees_merchant(self):
        # alma/alma-php-client (feature/3.0) tests/Unit/Infrastructure/Endpoint/Entity/
        # PaymentTest.php: `fees.merchant` 989 + 197 tax = 1186 = `merchant_target_fee`.
        payment = self.send()
        self.assertEqual(payment.merchant_fee_source, 'estimate')
        self.standin.payments[payment.alma_id].update(
            fees={'merchant': {'total': 1186, 'total_excluding_tax': 989, 'tax': 197}},
            merchant_target_fee=1186)
        self.standin.pay(payment.alma_id)
        self.poll()
        line = self.fee_lines(payment)
        self.assertEqual((line.fee, line.fee_vat, line.fee_source), (9.89, 1.97, 'alma'))
        self.assertEqual(line.net, 399.0 - 11.86)

    def test_5_merchant_target_fee_includes_vat(self):
        payment = self.send()
        remote = self.standin.payments[payment.alma_id]
        del remote['fees']
        remote['merchant_target_fee'] = 1200
        self.standin.pay(payment.alma_id)
        self.poll()
        line = self.fee_lines(payment)
        self.assertEqual((line.fee, line.fee_vat, line.fee_source), (10.0, 2.0, 'alma_total'))
        self.assertEqual(line.net, 399.0 - 12.0)

    def test_5_the_estimate_stays_when_alma_gives_no_fee(self):
        payment = self.send()
        remote = self.standin.payments[payment.alma_id]
        del remote['fees'], remote['merchant_target_fee']
        self.standin.pay(payment.alma_id)
        self.poll()
        line = self.fee_lines(payment)
        self.assertEqual((line.fee, line.fee_source), (11.57, 'estimate'))

    # === 8. Refunds: what Alma refunded, not what we assumed === #

    def test_8_refunds_recorded_from_alma_refunds(self):
        payment = self.send()
        self.standin.pay(payment.alma_id)
        self.poll()
        # A partial refund made elsewhere (Alma's dashboard), then ours of what is left.
        self.alma._alma_client().refund(payment.alma_id, amount=10000, merchant_reference='X')
        payment.with_user(self.accounting_manager).action_alma_refund()
        refunds = self.fee_lines(payment).filtered('refund_id')
        self.assertEqual(sorted(refunds.mapped('gross')), [-299.0, -100.0])
        self.assertEqual(self.alma_requests('POST', f'/v1/payments/{payment.alma_id}/refund'), 2)
        self.assertEqual(self.standin.payments[payment.alma_id]['amount_already_refunded'], 39900)

    # === The cron at Alma's speed (issue 13): one scan, then only what changed === #

    def test_cron_reads_alma_s_list_then_only_the_payments_that_changed(self):
        payments = [self.send() for _index in range(5)]
        self.standin.pay(payments[0].alma_id)
        self.standin.requests.clear()
        self.poll()
        self.assertEqual([payment.state for payment in payments],
                         ['accepted'] + ['waiting'] * 4)
        reads = [path for method, path in self.standin.requests
                 if method == 'GET' and path.startswith('/v1/payments/')]
        self.assertEqual(reads, [f'/v1/payments/{payments[0].alma_id}'])

    def test_cron_never_runs_twice_at_once(self):
        payment = self.send()
        self.standin.pay(payment.alma_id)
        other_server = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:  # Another server holds the poll: this one leaves it alone.
            other_server.execute("SELECT pg_advisory_lock(hashtext('alma.payment.poll'))")
            self.standin.requests.clear()
            self.poll()
            self.assertFalse(self.standin.requests)
            self.assertEqual(payment.state, 'waiting')
        finally:
            other_server.execute("SELECT pg_advisory_unlock(hashtext('alma.payment.poll'))")
            other_server.close()
        self.poll()
        self.assertEqual(payment.state, 'accepted')
