"""Issue 20, items 1, 2 and 9: Alma as its own sources say, seen from the victim's side."""
import uuid
from datetime import timedelta
from unittest.mock import patch

import requests

from odoo import fields
from odoo.tests import tagged

from odoo.addons.payment_alma.tests.common import AlmaPosCommon
from odoo.addons.payment_alma.utils.alma_client import AlmaClient


@tagged('post_install', '-at_install')
class TestAlmaSources(AlmaPosCommon):
    """The customer whose fees the clinic offered, the clinic's books, and a cashier's retry."""

    def setUp(self):
        super().setUp()
        self.standin.configure(ipn_delay=600)
        self.till = self.alma_pos_method.with_user(self.pos_user)

    def send(self, line_uuid, plan='payment_alma.plan_3x', fees_offered=False, mode='link'):
        return self.till_send(line_uuid, plan=plan, till=self.till, fees_offered=fees_offered,
                              send_mode=mode, pos_order_name="Order 00001-001-0042")

    def of_line(self, line_uuid):
        return self.env['alma.payment'].search([('sale_key', '=', f'pos:{line_uuid}')])

    # === 1. Fees offered: Alma's merchant_covers_all_fees, the purchase amount is the price === #

    def test_fees_offered_the_customer_pays_the_price_and_the_clinic_what_alma_charges(self):
        line_uuid = str(uuid.uuid4())
        with patch.object(AlmaClient, 'check_eligibility', autospec=True,
                          side_effect=AlmaClient.check_eligibility) as eligibility:
            answer = self.send(line_uuid, plan='payment_alma.plan_4x', fees_offered=True,
                               mode='sms')
        self.assertFalse(answer.get('error'), answer.get('error'))
        self.assertTrue(eligibility.call_args_list)
        self.assertTrue(all(call.kwargs.get('merchant_covers_all_fees')
                            for call in eligibility.call_args_list),
                        "asked as the payment is created (alma/widgets documentation.md)")
        payment = self.of_line(line_uuid)
        remote = self.standin.payments[payment.alma_id]
        # What Alma shows the customer: the price, no fee, in the SMS and on its page.
        self.assertEqual((remote['purchase_amount'], remote['customer_fee'],
                          remote['merchant_covers_all_fees']), (39900, 0, True))
        self.assertEqual(sum(line['total_amount'] for line in remote['payment_plan']), 39900)
        [sms] = self.standin.sms_outbox
        self.assertIn("399 €", sms['text'])
        page = requests.get(f"{self.standin.url}/pay/{payment.alma_id}", timeout=10).text
        self.assertNotIn("de frais", page)
        # The clinic's books: the gross is the price, the fee what Alma charges the clinic.
        self.standin.pay(payment.alma_id)
        self.till.alma_get_status(line_uuid)
        self.env.invalidate_all()
        self.assertEqual(payment.state, 'accepted')
        line = self.env['alma.fee.line'].search([('alma_payment_id', '=', payment.id)])
        self.assertEqual((line.gross_cents, line.fee_cents, line.customer_fee_cents),
                         (39900, remote['fees']['merchant']['total_excluding_tax'], 0))
        self.assertEqual(line.fee_source, 'alma')

    # === 1 and 9. A full refund is the price; Alma computes it (no `amount`) === #

    def test_fees_offered_full_refund_is_the_price(self):
        line_uuid = str(uuid.uuid4())
        payment = self.alma_accepted(399.0, line_uuid, str(uuid.uuid4()),
                                     plan='payment_alma.plan_4x', fees_offered=True)
        with patch.object(AlmaClient, 'refund', autospec=True,
                          side_effect=AlmaClient.refund) as refund:
            payment.with_user(self.accounting_manager).action_alma_refund()
        self.env.invalidate_all()
        [asked] = refund.call_args_list
        self.assertIsNone(asked.kwargs.get('amount'), "a full refund leaves the amount to Alma")
        remote = self.standin.payments[payment.alma_id]
        self.assertEqual(remote['amount_already_refunded'], 39900)
        self.assertEqual([listed['amount'] for listed in remote['refunds']], [39900])
        self.assertEqual((payment.amount_refunded, payment.refund_state), (399.0, 'full'))

    # === 2. Only the creation's own answer says nothing was created === #

    def lost_creation(self, line_uuid):
        """The cashier's first click: Alma created the payment but its answer was lost."""
        self.standin.fail('disconnect', method='POST', path_prefix='/v1/payments', times=1)
        self.assertTrue(self.send(line_uuid)['error'])
        lost = self.of_line(line_uuid)
        data = self.alma._alma_client().create_payment(lost._alma_payload())
        return lost, data['id']

    def test_an_error_of_the_list_never_leads_to_a_twin(self):
        for status in (429, 400):
            with self.subTest(status=status):
                line_uuid = str(uuid.uuid4())
                lost, alma_id = self.lost_creation(line_uuid)
                at_alma = len(self.standin.payments)
                self.standin.fail(status, method='GET', path_prefix='/v1/payments', times=1,
                                  retry_after=60 if status == 429 else None)
                refused = self.send(line_uuid)  # The list answers the status.
                self.assertIn("Try again in a moment", refused['error'])
                found = self.send(line_uuid)  # The next click.
                self.assertFalse(found.get('error'), found.get('error'))
                self.assertEqual(found['payment']['alma_id'], alma_id)
                self.assertEqual(len(self.standin.payments), at_alma, "no twin at Alma")
                self.assertEqual(self.of_line(line_uuid).filtered('alma_id'), lost)

    def test_a_lost_payment_not_ready_at_alma_is_found_again(self):
        line_uuid = str(uuid.uuid4())
        lost, alma_id = self.lost_creation(line_uuid)
        # alma/alma-python-client PaymentState: created, its payment plan not initialized yet.
        self.standin.payments[alma_id]['state'] = 'not_ready'
        # sudo: Alma payments are read-only for everyone but the add-on (issue 19, 13).
        lost.sudo().creation_attempted_at = fields.Datetime.now() - timedelta(minutes=5)
        at_alma = len(self.standin.payments)
        found = self.send(line_uuid)
        self.assertFalse(found.get('error'), found.get('error'))
        self.assertEqual(found['payment']['alma_id'], alma_id)
        self.assertEqual(len(self.standin.payments), at_alma, "no twin at Alma")

    # === 6. Alma speaks the customer's language, not the cashier's === #

    def test_alma_speaks_the_customers_language(self):
        self.env['res.lang']._activate_lang('fr_FR')
        self.pos_user.lang = 'fr_FR'  # The cashier reads French...
        self.jean.lang = 'en_US'  # ...the customer English: Alma's page and texts in English.
        english = self.of_line_sent(str(uuid.uuid4()))
        self.assertEqual(self.standin.payments[english.alma_id]['locale'], 'en')
        self.pos_user.lang = 'en_US'
        self.jean.lang = 'fr_FR'
        french = self.of_line_sent(str(uuid.uuid4()))
        self.assertEqual(self.standin.payments[french.alma_id]['locale'], 'fr')

    def of_line_sent(self, line_uuid):
        answer = self.send(line_uuid)
        self.assertFalse(answer.get('error'), answer.get('error'))
        return self.of_line(line_uuid)

    # === 10. A notification Alma signed for a payment this database does not hold === #

    def test_a_signed_notification_of_another_payment_is_answered_and_ignored(self):
        """Answered 200 (Alma need not notify it again), nothing created or asked of Alma;
        a notification nobody signed is still refused."""
        self.alma.alma_api_key_live = 'sk_live_standin'
        payments = self.env['alma.payment'].search_count([])
        for key in ('sk_test_standin', 'sk_live_standin'):
            with self.subTest(key=key):
                answer = self.alma_notify('payment_11ofanothershop', key=key)
                self.assertEqual(answer.status_code, 200)
                self.assertEqual(answer.json(), {'ok': True, 'ignored': True})
        self.assertEqual(self.alma_requests('GET', '/v1/payments/payment_11ofanothershop'), 0)
        self.assertEqual(self.env['alma.payment'].search_count([]), payments)
        forged = self.alma_notify('payment_11ofanothershop', key='sk_test_forged')
        self.assertEqual(forged.status_code, 403)
        unsigned = self.url_open('/payment/alma/ipn?pid=payment_11ofanothershop')
        self.assertEqual(unsigned.status_code, 403)

    # === 13. A refusal carries no reason Alma never gives === #

    def test_a_refusal_says_alma_refused_without_inventing_why(self):
        line_uuid = str(uuid.uuid4())
        payment = self.of_line_sent(line_uuid)
        self.standin.pay(payment.alma_id, card='4000000000000002')
        self.assertNotIn('state_reason', self.standin.payments[payment.alma_id])
        status = self.till.alma_get_status(line_uuid)['payment']
        self.assertEqual((status['state'], status['state_reason']),
                         ('refused', "Alma refused the payment."))

    # === 4. Eligibility asked as Alma's widgets ask it: with the customer's country === #

    def test_eligibility_is_asked_with_the_customers_country(self):
        self.jean.country_id = self.env.ref('base.be')  # A Belgian customer of the clinic.
        with patch.object(AlmaClient, 'check_eligibility', autospec=True,
                          side_effect=AlmaClient.check_eligibility) as eligibility:
            self.till.alma_get_offers(399.0, self.jean.id)
            self.of_line_sent(str(uuid.uuid4()))
            self.till.alma_get_offers(399.0, False)  # No customer yet: the clinic's country.
        countries = [call.kwargs.get('billing_country') for call in eligibility.call_args_list]
        self.assertEqual(countries, ['BE', 'BE', 'FR'])

    def test_a_fee_plan_alma_keeps_off_the_till_is_not_offered_there(self):
        self.standin.update_plan(3, available_in_pos=False)
        offers = {offer['plan_code']: offer for offer in
                  self.till.alma_get_offers(399.0, self.jean.id)['offers']}
        self.assertNotIn('P3X', offers)
        self.assertTrue(offers['P4X']['eligible'])
