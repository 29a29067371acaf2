import re

from odoo.tests import tagged

from odoo.addons.payment_alma.tests.common import AlmaPosCommon


@tagged('post_install', '-at_install', 'alma_tours')
class TestAlmaPosTours(AlmaPosCommon):
    """The cashier's Alma flow in the Point of Sale, in a real browser, against the stand-in."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The cashier sees the green pill and validates the order herself (the tours check
        # both); with Odoo's default the order would validate itself on acceptance.
        cls.main_pos_config.auto_validate_terminal_payment = False

    def test_sms_happy_path(self):
        self.start_pos_tour('AlmaSmsHappyPath')
        alma_payment = self._only_alma_payment()
        self.assertEqual(alma_payment.state, 'accepted')
        self.assertEqual(alma_payment.send_mode, 'sms')
        self.assertAlmostEqual(alma_payment.purchase_amount, 399.0)
        standin_payment = self.standin.payments[alma_payment.alma_id]
        self.assertEqual(standin_payment['purchase_amount'], 39900)
        self.assertEqual(standin_payment['installments_count'], 3)
        self.assertEqual(len(self.standin.sms_outbox), 2, "The SMS, then the one resent")
        for sms in self.standin.sms_outbox:
            self.assertEqual(sms['phone'].replace(' ', ''), '+33612345678')
            self.assertEqual(sms['url'], alma_payment.url)
        _order, pos_payment = self._assert_paid_with_alma(alma_payment)
        self.assertIn(alma_payment.plan_id.name, pos_payment.ticket)
        self.assertEqual(len(re.findall(r'\b133[.,]00\b', pos_payment.ticket)), 3,
                         pos_payment.ticket)

    def test_link_qr(self):
        self.start_pos_tour('AlmaLinkQr')
        alma_payment = self._only_alma_payment()
        self.assertEqual(alma_payment.state, 'accepted')
        self.assertEqual(alma_payment.send_mode, 'link')
        self.assertFalse(self.standin.sms_outbox, "No SMS in link mode")
        mail = self.env['mail.mail'].sudo().search([('email_to', 'ilike', self.jean.email)])
        self.assertEqual(len(mail), 1, "The link e-mailed from Odoo")
        self.assertIn(alma_payment.url, mail.body_html)
        self._assert_paid_with_alma(alma_payment)

    def test_pay_here(self):
        self.start_pos_tour('AlmaPayHere')
        alma_payment = self._only_alma_payment()
        self.assertEqual(alma_payment.state, 'accepted')
        self.assertEqual(alma_payment.send_mode, 'here')
        self._assert_paid_with_alma(alma_payment)
        # Alma sends the customer back to the page that closes the till's window.
        standin_payment = self.standin.payments[alma_payment.alma_id]
        for key in ('return_url', 'failure_return_url', 'customer_cancel_url'):
            self.assertTrue(standin_payment[key].endswith('/payment/alma/return'), key)

    def test_cancel_waiting(self):
        self.start_pos_tour('AlmaCancelWaiting')
        alma_payment = self._only_alma_payment()
        self.assertEqual(alma_payment.state, 'cancelled')
        self.assertIn(('PUT', f'/v1/payments/{alma_payment.alma_id}/cancel'), self.standin.requests)
        self.assertFalse(self.env['pos.order'].search([
            ('config_id', '=', self.main_pos_config.id), ('state', '=', 'paid')]))

    def test_declined_card(self):
        self.start_pos_tour('AlmaDeclinedCard')
        refused, accepted = self._alma_payments()
        self.assertEqual(refused.state, 'refused')
        self.assertEqual(self.standin.payments[refused.alma_id]['state'], 'scored_no')
        # Sent again from the same line: a second Alma payment, paid with another card.
        self.assertEqual(len(self.standin.payments), 2)
        self.assertEqual(accepted.state, 'accepted')
        self.assertEqual(accepted.pos_payment_uuid, refused.pos_payment_uuid)
        self._assert_paid_with_alma(accepted)

    def test_expired_link(self):
        self.start_pos_tour('AlmaExpiredLink')
        alma_payment = self._only_alma_payment()
        self.assertEqual(alma_payment.state, 'expired')

    def test_below_minimum(self):
        self.start_pos_tour('AlmaBelowMinimum')
        self.assertFalse(self._alma_payments())
        self.assertFalse(self.standin.payments)

    def test_invalid_phone(self):
        self.start_pos_tour('AlmaInvalidPhone')
        self.assertFalse(self._alma_payments())
        self.assertFalse(self.standin.payments)

    def test_shop_phone_refused(self):
        self.assertEqual(self.shop_mobile, '+33699887766', "The number the tour types in")
        self.start_pos_tour('AlmaShopPhoneRefused')
        self.assertFalse(self._alma_payments())
        self.assertFalse(self.standin.payments)

    def test_fees_offered(self):
        self.start_pos_tour('AlmaFeesOffered')
        alma_payment = self._only_alma_payment()
        self.assertEqual(alma_payment.state, 'accepted')
        self.assertTrue(alma_payment.fees_offered)
        self.assertAlmostEqual(alma_payment.price, 399.0)
        self.assertGreater(alma_payment.absorbed_fee_cents, 0)
        standin_payment = self.standin.payments[alma_payment.alma_id]
        self.assertEqual(standin_payment['installments_count'], 4)
        # The customer pays exactly the price: Alma's purchase amount, no customer fee
        # (merchant_covers_all_fees).
        self.assertEqual((standin_payment['purchase_amount'], standin_payment['customer_fee'],
                          standin_payment['merchant_covers_all_fees']), (39900, 0, True))
        self.assertEqual(alma_payment.purchase_amount_cents, 39900)
        self.assertEqual(alma_payment.merchant_fee_cents,
                         standin_payment['fees']['merchant']['total_excluding_tax'])
        self._assert_paid_with_alma(alma_payment)

    def test_reload_waiting(self):
        self.start_pos_tour('AlmaReloadWaiting')
        alma_payment = self._only_alma_payment()
        self.assertEqual(alma_payment.state, 'accepted')
        self._assert_paid_with_alma(alma_payment)

    def test_double_send(self):
        self.start_pos_tour('AlmaDoubleSend')
        alma_payment = self._only_alma_payment()
        self.assertEqual(alma_payment.state, 'accepted')
        self.assertEqual(len(self.standin.sms_outbox), 1, "One SMS only")
        self._assert_paid_with_alma(alma_payment)

    def test_down_on_create(self):
        self.standin.fail(500, method='POST', path_prefix='/v1/payments', times=1)
        self.start_pos_tour('AlmaDownOnCreate')
        # The retry looked for the first attempt at Alma, then sent the same payment again.
        alma_payment = self._only_alma_payment()
        self.assertEqual(self.alma_requests('POST', '/v1/payments'), 2)
        self.assertGreaterEqual(self.alma_requests('GET', '/v1/payments'), 1)
        self.assertEqual(alma_payment.state, 'accepted')
        self._assert_paid_with_alma(alma_payment)

    def test_incomplete_contact(self):
        paul = self.env['res.partner'].create({
            'name': "Paul Durand", 'mobile': '+33611223344',
            'street': "3 rue des Lilas", 'zip': '69002', 'city': 'Lyon',
            'country_id': self.env.ref('base.fr').id,
        })
        self.start_pos_tour('AlmaIncompleteContact')
        self.assertEqual(paul.email, 'paul.durand@example.com', "The contact was completed")
        alma_payment = self._only_alma_payment()
        self.assertEqual(alma_payment.state, 'waiting')
        self.assertEqual(alma_payment.contact_id, paul)
        customer = self.standin.payments[alma_payment.alma_id]['customer']
        self.assertEqual(customer['email'], 'paul.durand@example.com')

    def test_sms_fallback(self):
        self.standin.configure(sms_enabled=False)
        self.start_pos_tour('AlmaSmsFallback')
        alma_payment = self._only_alma_payment()
        self.assertEqual(alma_payment.state, 'accepted')
        self.assertTrue(alma_payment.sms_error)
        self.assertFalse(self.standin.sms_outbox)
        self._assert_paid_with_alma(alma_payment)

    def test_cancel_too_late(self):
        self.start_pos_tour('AlmaCancelTooLate')
        alma_payment = self._only_alma_payment()
        self.assertEqual(alma_payment.state, 'accepted')
        self._assert_paid_with_alma(alma_payment)

    def test_delete_order_waiting(self):
        self.start_pos_tour('AlmaDeleteOrderWaiting')
        alma_payment = self._only_alma_payment()
        self.assertEqual(alma_payment.state, 'cancelled', "The customer can no longer pay")
        self.assertIn(('PUT', f'/v1/payments/{alma_payment.alma_id}/cancel'), self.standin.requests)
