from datetime import date

from dateutil.relativedelta import relativedelta

from odoo.fields import Command
from odoo.tests import tagged

from odoo.addons.payment_alma.tests.common import AlmaCommon


@tagged('post_install', '-at_install')
class TestEligibility(AlmaCommon):

    def offers(self, amount):
        return {offer['plan_code']: offer
                for offer in self.alma._alma_get_offers(amount, self.currency_euro)}

    def test_399_in_3x_is_133_three_times(self):
        offer = self.offers(399)['P3X']
        self.assertTrue(offer['eligible'])
        self.assertEqual([line['amount_cents'] for line in offer['schedule']], [13300] * 3)
        today = date.today()
        self.assertEqual(
            [line['date'] for line in offer['schedule']],
            [today, today + relativedelta(months=1), today + relativedelta(months=2)],
        )
        # 2.90 % of 399 € = 11.571 € -> 11.57 €; VAT 20 % -> 2.314 € -> 2.31 €.
        self.assertEqual(offer['customer_fee_cents'], 0)
        self.assertEqual(offer['merchant_fee_cents'], 1157)
        self.assertEqual(offer['merchant_fee_vat_cents'], 231)
        self.assertEqual(offer['clinic_fee_total_cents'], 1388)
        self.assertEqual(offer['net_cents'], 39900 - 1388)

    def test_100_in_3x_puts_the_odd_cent_first(self):
        offer = self.offers(100)['P3X']
        self.assertEqual([line['amount_cents'] for line in offer['schedule']], [3334, 3333, 3333])
        self.assertEqual(sum(line['amount_cents'] for line in offer['schedule']), 10000)

    def test_customer_fee_is_paid_with_the_first_installment(self):
        offer = self.offers(200)['P4X']
        self.assertEqual(offer['customer_fee_cents'], 290)  # 1.45 % of 200 €
        self.assertEqual([line['amount_cents'] for line in offer['schedule']],
                         [5290, 5000, 5000, 5000])
        self.assertEqual(offer['customer_total_cents'], 20290)
        self.assertEqual(offer['merchant_fee_cents'], 660)
        self.assertEqual(offer['merchant_fee_vat_cents'], 132)

    def test_deferred_plan_is_one_payment_later(self):
        offer = self.offers(120)['P1X_D+30']
        self.assertEqual(len(offer['schedule']), 1)
        self.assertEqual(offer['schedule'][0]['amount_cents'], 12000)
        self.assertEqual(offer['schedule'][0]['date'], date.today() + relativedelta(days=30))

    def test_deferred_by_a_month_when_the_account_has_it(self):
        """Issue 20, item 4: Alma's fee plans carry `deferred_months` (alma/alma-php-client
        src/Entities/FeePlan.php). "Deferred 1 month" is offered only on an account that has
        it, and the payment is created deferred by a month."""
        plan = self.env.ref('payment_alma.plan_m1')
        self.alma.alma_plan_ids |= plan  # A new provider has it; an older database ticks it.
        self.assertNotIn('P1X_M+1', self.offers(120))
        self.standin.add_plan(1, deferred_months=1)
        self.alma._alma_clear_fee_plans_cache()
        offer = self.offers(120)['P1X_M+1']
        self.assertTrue(offer['eligible'])
        self.assertEqual(offer['name'], "Deferred 1 month")
        self.assertEqual([(line['date'], line['amount_cents']) for line in offer['schedule']],
                         [(date.today() + relativedelta(months=1), 12000)])
        # sudo: Alma payments are read-only for everyone; the add-on's channels create them.
        payment = self.env['alma.payment'].sudo().create({
            'provider_id': self.alma.id, 'currency_id': self.currency_euro.id,
            'plan_id': plan.id, 'price_cents': 12000, 'purchase_amount_cents': 12000,
            'partner_id': self.partner.id, 'contact_id': self.partner.id,
        })
        self.assertEqual(payment._alma_payload()['payment']['deferred_months'], 1)

    def test_vat_rate_comes_from_the_provider(self):
        self.alma.alma_fee_vat_rate = 10
        offer = self.offers(399)['P3X']
        self.assertEqual(offer['merchant_fee_vat_cents'], 116)  # 10 % of 11.57 € = 1.157 €

    def test_below_the_minimum(self):
        offers = self.offers(49.99)
        self.assertEqual(len(offers), 6)
        for offer in offers.values():
            self.assertFalse(offer['eligible'])
            self.assertIn("Below the minimum of 50.00", offer['reason'])
            self.assertFalse(offer['schedule'])

    def test_at_the_limits(self):
        self.assertTrue(all(offer['eligible'] for offer in self.offers(50).values()))
        self.assertTrue(all(offer['eligible'] for offer in self.offers(2000).values()))

    def test_above_the_maximum(self):
        for offer in self.offers(2000.01).values():
            self.assertFalse(offer['eligible'])
            self.assertIn("Above the maximum of 2,000.00", offer['reason'])

    def test_only_enabled_plans_are_offered(self):
        self.alma.alma_plan_ids = [Command.set(self.env.ref('payment_alma.plan_3x').ids)]
        self.assertEqual(list(self.offers(399)), ['P3X'])

    def test_plan_not_activated_on_the_alma_account(self):
        self.standin.update_plan(installments_count=2, deferred_days=0, allowed=False)
        offer = self.offers(399)['P2X']
        self.assertFalse(offer['eligible'])
        self.assertIn("not activated on your Alma account", offer['reason'])

    def test_fee_plans_are_cached(self):
        self.offers(399)
        self.offers(150)
        self.assertEqual(self.alma_requests('GET', '/v1/me/fee-plans'), 1)
        self.assertEqual(self.alma_requests('POST', '/v2/payments/eligibility'), 2)
        # A new key is another account: ask again.
        self.alma.alma_api_key_test = 'sk_test_nopayments'
        self.offers(399)
        self.assertEqual(self.alma_requests('GET', '/v1/me/fee-plans'), 2)

    # === What the real Alma does (issue 9) === #

    def test_results_are_matched_by_plan_not_by_position(self):
        # Alma answers in its own order, and not at all for a plan the account does not have
        # (here taken off after the fee plans were read: they are kept a few minutes).
        self.offers(399)
        self.standin.remove_plan(1, 45)
        offers = self.offers(399)
        self.assertEqual(len(offers['P2X']['schedule']), 2)
        self.assertEqual([line['amount_cents'] for line in offers['P3X']['schedule']],
                         [13300] * 3)
        self.assertEqual(offers['P4X']['customer_fee_cents'], 579)
        self.assertEqual(offers['P1X_D+15']['schedule'][0]['date'],
                         date.today() + relativedelta(days=15))
        self.assertEqual(offers['P1X_D+30']['schedule'][0]['date'],
                         date.today() + relativedelta(days=30))
        missing = offers['P1X_D+45']
        self.assertFalse(missing['eligible'])
        self.assertFalse(missing['schedule'])
        self.assertIn("does not offer this plan", missing['reason'])

    def test_interest_is_part_of_what_the_customer_pays(self):
        self.standin.update_plan(4, customer_lending_rate=1200)  # 12 % a year
        offer = self.offers(400)['P4X']
        # Fee 1.45 % of 400 € = 5.80 €; interest 3 € + 2 € + 1 € (the stand-in's simple rule).
        self.assertEqual(offer['customer_fee_cents'], 580)
        self.assertEqual(offer['customer_interest_cents'], 600)
        self.assertEqual(offer['customer_total_cost_cents'], 1180)
        self.assertEqual(offer['customer_total_cents'], 40000 + 1180)
        self.assertEqual(sum(line['amount_cents'] for line in offer['schedule']), 41180)
        self.assertEqual(offer['annual_interest_rate'], 12.0)
        # The clinic's cost is unchanged: Alma's commission on the purchase amount.
        self.assertEqual(offer['merchant_fee_cents'], 1320)
        data = self.env['alma.payment.wizard']._alma_offers_data(
            self.alma, 400, self.currency_euro)
        [p4x] = [offer for offer in data if offer['plan_code'] == 'P4X']
        self.assertEqual((p4x['customer_total'], p4x['customer_total_cost']), (411.80, 11.80))
        self.assertEqual((p4x['customer_interest'], p4x['annual_interest_rate']), (6.0, 12.0))

    def test_no_rate_is_shown_for_a_plan_without_credit(self):
        offer = self.offers(399)['P3X']
        self.assertEqual(offer['customer_total_cost_cents'], 0)
        self.assertEqual(offer['customer_total_cents'], 39900)
        self.assertFalse(offer['annual_interest_rate'])
