import contextlib
import time
import uuid
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.controllers.main import AlmaController
from odoo.addons.payment_alma.tests.common import AlmaPosCommon
from odoo.addons.payment_alma.utils.alma_client import AlmaClient


class WorkerKilled(BaseException):
    """A worker killed (SIGKILL, Odoo's time limit) as the code sees it: nothing runs after."""


@tagged('post_install', '-at_install')
class TestAlmaPayment(AlmaPosCommon):
    """The server's truth about Alma payments: created once, state from every channel."""

    def setUp(self):
        super().setUp()
        # Alma's own notification is sent by the tests themselves, at a known moment.
        self.standin.configure(ipn_delay=600)
        self.method = self.alma_pos_method.with_user(self.pos_user)
        self.order_uuid = str(uuid.uuid4())

    def poll(self):
        """Run the cron; it commits in transactions of its own: forget what this one cached."""
        self.env['alma.payment']._cron_alma_poll_pending()
        self.env.invalidate_all()

    def alma_creations(self):
        return self.alma_requests('POST', '/v1/payments')

    def send(self, line_uuid=None, amount=399.0, plan='payment_alma.plan_3x', **values):
        values.setdefault('send_mode', 'sms')
        return self.till_send(line_uuid, amount, plan, till=self.method,
                              pos_order_uuid=self.order_uuid, **values)

    def payment(self, answer):
        self.assertFalse(answer.get('error'), answer.get('error'))
        return self.env['alma.payment'].browse(answer['payment']['id'])

    def ipn(self, payment, api_key='sk_test_standin'):
        return self.alma_notify(payment.alma_id, key=api_key)

    # === Creation === #

    def test_send_by_sms(self):
        payment = self.payment(self.send())
        self.assertEqual(payment.state, 'waiting')
        remote = self.standin.payments[payment.alma_id]
        self.assertEqual(remote['purchase_amount'], 39900)
        self.assertEqual(remote['customer']['phone'], '+33612345678')
        self.assertEqual(remote['custom_data']['odoo_reference'], payment.reference)
        self.assertEqual([sms['payment_id'] for sms in self.standin.sms_outbox], [payment.alma_id])
        self.assertEqual(payment.schedule, [
            {'date': line['date'], 'amount': 133.0} for line in payment.schedule])
        self.assertEqual(len(payment.schedule), 3)

    def test_double_send_creates_one_alma_payment(self):
        line_uuid = str(uuid.uuid4())
        first = self.payment(self.send(line_uuid))
        second = self.payment(self.send(line_uuid))
        self.assertEqual(first, second)
        self.assertEqual(len(self.standin.payments), 1)
        self.assertEqual(len(self.standin.sms_outbox), 1)

    def test_amounts_are_recomputed_on_the_server(self):
        payment = self.payment(self.send(amount=399.0))
        self.assertEqual((payment.price_cents, payment.merchant_fee_cents,
                          payment.merchant_fee_vat_cents), (39900, 1157, 231))

    def test_link_sent_by_email_from_odoo(self):
        line_uuid = str(uuid.uuid4())
        payment = self.payment(self.send(line_uuid, send_mode='link'))
        self.assertFalse(self.standin.sms_outbox)
        self.method.alma_send_email(line_uuid)
        mail = self.env['mail.mail'].search([('email_to', 'ilike', 'jean.martin@example.com')])
        self.assertEqual(len(mail), 1)
        self.assertIn(payment.url, mail.body_html)
        self.assertIn("399.00", mail.body_html)

    def test_sms_not_enabled_falls_back_to_the_link(self):
        self.standin.configure(sms_enabled=False)
        answer = self.send()
        self.assertEqual(answer['payment']['state'], 'waiting')
        self.assertIn("show the link", answer['payment']['sms_error'])
        self.assertTrue(answer['payment']['url'].startswith(self.standin.url))

    def test_a_resend_alma_refuses_leaves_no_trace(self):
        """The till's Resend when Alma will not text: the cashier reads why, and may press it
        again at once (a refused attempt does not count in the once-a-minute throttle)."""
        line_uuid = str(uuid.uuid4())
        payment = self.payment(self.send(line_uuid))
        self.standin.configure(sms_enabled=False)
        for _click in range(2):
            self.assertIn("show the link", self.method.alma_resend(line_uuid)['error'])
        self.assertFalse(payment.sms_resent_at)
        self.assertEqual(payment.state, 'waiting')

    def test_alma_down_during_creation_then_retry(self):
        line_uuid = str(uuid.uuid4())
        self.standin.fail(500, method='POST', path_prefix='/v1/payments', times=1)
        answer = self.send(line_uuid)
        self.assertIn("temporarily unavailable", answer['error'])
        self.assertFalse(self.standin.payments)
        retried = self.payment(self.send(line_uuid))  # Alma answered: it can be retried.
        self.assertEqual(retried.state, 'waiting')
        self.assertEqual(len(self.standin.payments), 1)

    def test_lost_answer_is_found_again_not_doubled(self):
        line_uuid = str(uuid.uuid4())
        self.standin.configure(timeout_seconds=1.0)
        self.standin.fail('timeout', method='POST', path_prefix='/v1/payments', times=1)
        with patch.object(const, 'TIMEOUTS', (2, 0.3)):
            answer = self.send(line_uuid)
        self.assertIn("did not answer in time", answer['error'])
        for _wait in range(30):  # Alma finishes creating it after our client gave up.
            if self.standin.payments:
                break
            time.sleep(0.1)
        payment = self.payment(self.send(line_uuid))
        self.assertEqual(len(self.standin.payments), 1)
        self.assertEqual(payment.alma_id, next(iter(self.standin.payments)))

    def test_a_worker_killed_while_alma_creates_never_doubles_the_payment(self):
        """Found by scripts/drill: a worker killed while Alma was still creating the payment
        leaves a draft; the cashier's retry must not create a twin of what Alma is creating."""
        line_uuid = str(uuid.uuid4())
        with patch.object(AlmaClient, 'create_payment', side_effect=WorkerKilled), \
                contextlib.suppress(WorkerKilled):
            self.send(line_uuid)
        payment = self.env['alma.payment'].search([('sale_key', '=', f'pos:{line_uuid}')])
        self.assertEqual(payment.state, 'draft')  # On record before Alma was asked.
        answer = self.send(line_uuid)  # The cashier clicks again at once.
        self.assertIn("has not confirmed the first attempt yet", answer['error'])
        self.assertFalse(self.standin.payments, "no twin while Alma may be creating it")
        # Alma finishes creating the killed worker's payment: the next click finds it.
        self.alma._alma_client().create_payment(payment._alma_payload())
        found = self.payment(self.send(line_uuid))
        self.assertEqual(len(self.standin.payments), 1)
        self.assertEqual(found.alma_id, next(iter(self.standin.payments)))
        self.assertEqual(found.state, 'waiting')

    def test_lost_answer_and_alma_still_down_creates_nothing(self):
        line_uuid = str(uuid.uuid4())
        self.standin.fail(500, method='POST', path_prefix='/v1/payments', times=1)
        self.send(line_uuid)
        self.standin.fail(503, method='GET', path_prefix='/v1/payments', times=10)
        answer = self.send(line_uuid)  # Reads are retried: about 3.5 s of backoff.
        self.assertIn("could not tell whether the first attempt created the payment",
                      answer['error'])
        self.assertFalse(self.standin.payments, "nothing created while Alma cannot be asked")

    def test_ineligible_amount_is_refused_before_alma(self):
        answer = self.send(amount=30.0)
        self.assertIn("Below the minimum of 50.00", answer['error'])
        self.assertFalse(self.standin.payments)

    # === State: notification, cron, POS polling === #

    def test_notification_with_a_forged_signature_changes_nothing(self):
        payment = self.payment(self.send())
        self.standin.pay(payment.alma_id)
        response = self.ipn(payment, api_key='sk_test_forged')
        self.assertEqual(response.status_code, 403)
        payment.invalidate_recordset()
        self.assertEqual(payment.state, 'waiting')
        response = self.url_open(f'{AlmaController._ipn_url}?pid={payment.alma_id}')
        self.assertEqual(response.status_code, 403)

    def test_notification_accepts_the_payment_and_tells_the_till(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        payment = self.payment(self.send())
        self.standin.pay(payment.alma_id)
        self.assertEqual(self.ipn(payment).status_code, 200)
        payment.invalidate_recordset()
        self.assertEqual(payment.state, 'accepted')
        told = self.env['bus.bus'].sudo().search(
            [('message', 'like', payment.pos_payment_uuid)])
        self.assertTrue(any('ALMA_PAYMENT_STATUS' in message and '"state":"accepted"' in message
                            for message in told.mapped('message')), told.mapped('message'))
        self.assertTrue(payment.accepted_date)
        self.assertTrue(any("Accepted" in body for body in payment.message_ids.mapped('body')))
        self.assertEqual(self.ipn(payment).status_code, 200, "a repeated notification is fine")

    def test_declined_card(self):
        payment = self.payment(self.send())
        self.standin.pay(payment.alma_id, card='4000000000000002')
        self.poll()
        self.assertEqual(payment.state, 'refused')
        self.assertEqual(payment.state_reason, "Alma refused the payment.")

    def test_cron_polls_every_pending_payment_despite_one_failure(self):
        broken = self.payment(self.send())
        paid = self.payment(self.send())
        expired = self.payment(self.send())
        broken.sudo().alma_id = 'payment_unknown_to_alma'  # Read-only but for the add-on.
        self.standin.pay(paid.alma_id)
        self.standin.expire(expired.alma_id)
        self.poll()
        self.assertEqual((broken.state, paid.state, expired.state),
                         ('waiting', 'accepted', 'expired'))

    def test_pos_polling_fallback(self):
        line_uuid = str(uuid.uuid4())
        payment = self.payment(self.send(line_uuid))
        self.standin.pay(payment.alma_id)
        status = self.method.alma_get_status(line_uuid)['payment']
        self.assertEqual(status['state'], 'accepted')
        self.assertEqual([line['amount'] for line in status['schedule']], [133.0] * 3)

    def test_amount_mismatch_is_refused_flagged_and_refunded_at_alma(self):
        """Issue 20, item 7: Alma charged the customer for another amount than the sale's. Odoo
        refuses the sale, and the customer is refunded in full at Alma by the regular check,
        as Alma's Sylius plugin does; the bookkeepers' activity closes; the books stay empty."""
        payment = self.payment(self.send())
        remote = self.standin.payments[payment.alma_id]
        remote['purchase_amount'] = 10000
        self.standin.pay(payment.alma_id)
        self.poll()
        self.assertEqual(payment.state, 'refused')
        self.assertIn("differs", payment.state_reason)
        self.assertEqual(remote['potential_fraud'][0]['reason'], 'amount_mismatch')
        self.assertEqual(self.alma_requests('POST', f'/v1/payments/{payment.alma_id}/refund'), 1)
        self.assertEqual(remote['amount_already_refunded'], 10000)
        self.assertEqual(payment.amount_refunded_cents, 10000)
        self.assertFalse(payment.sudo().activity_ids)
        self.assertIn("Refunded in full at Alma.", "".join(payment.message_ids.mapped('body')))
        self.assertFalse(self.env['alma.fee.line'].search([('alma_payment_id', '=', payment.id)]))
        self.poll()  # Once: never refunded twice.
        self.assertEqual(self.alma_requests('POST', f'/v1/payments/{payment.alma_id}/refund'), 1)

    def test_amount_mismatch_refund_one_click_away(self):
        """Told by Alma's notification before the regular check: the accounting manager has an
        activity, and the payment's "Refund at Alma" refunds it at once; a cashier cannot."""
        payment = self.payment(self.send())
        remote = self.standin.payments[payment.alma_id]
        remote['purchase_amount'] = 10000
        self.standin.pay(payment.alma_id)
        self.ipn(payment)
        self.env.invalidate_all()
        self.assertEqual(payment.state, 'refused')
        # The accounting manager's to-do (the clinic's manager first: a user of the clinic).
        [activity] = payment.sudo().activity_ids
        self.assertTrue(activity.user_id.has_group('account.group_account_manager'))
        self.assertIn(self.env['mail.activity'].with_user(activity.user_id).search(
            [('res_model', '=', 'alma.payment'), ('res_id', '=', payment.id)]), activity)
        self.assertEqual(activity.summary, "Refund at Alma")
        with self.assertRaises(AccessError):
            payment.with_user(self.pos_user).action_alma_refund_mismatch()
        # Another clinic's accounting manager, with this payment's id: not theirs.
        other = self.setup_other_company(name="Autre clinique")['company']
        stranger = self.env['res.users'].create({
            'name': "Autre comptable", 'login': 'alma_other_manager',
            'company_id': other.id, 'company_ids': other.ids,
            'groups_id': [(6, 0, self.env.ref('account.group_account_manager').ids)],
        })
        with self.assertRaises(AccessError):
            payment.with_user(stranger).action_alma_refund_mismatch()
        self.assertEqual(self.alma_requests('POST', f'/v1/payments/{payment.alma_id}/refund'), 0)
        payment.with_user(self.accounting_manager).action_alma_refund_mismatch()
        self.env.invalidate_all()
        self.assertEqual(remote['amount_already_refunded'], 10000)
        self.assertFalse(payment.sudo().activity_ids)
        with self.assertRaises(UserError):  # Nothing left to refund: Alma is not asked again.
            payment.with_user(self.accounting_manager).action_alma_refund_mismatch()
        self.assertEqual(self.alma_requests('POST', f'/v1/payments/{payment.alma_id}/refund'), 1)

    def test_cancel_while_waiting(self):
        line_uuid = str(uuid.uuid4())
        payment = self.payment(self.send(line_uuid))
        reads = self.alma_requests('GET', f'/v1/payments/{payment.alma_id}')
        answer = self.method.alma_cancel(line_uuid)
        self.assertEqual(answer['payment']['state'], 'cancelled')
        # Read again after the cancellation (issue 20, item 8: a cancel may answer nothing).
        self.assertEqual(self.alma_requests('GET', f'/v1/payments/{payment.alma_id}'), reads + 1)
        # The customer can no longer pay.
        self.assertEqual(self.standin.pay(payment.alma_id)['state'], 'not_started')

    def test_cancel_after_the_first_installment(self):
        line_uuid = str(uuid.uuid4())
        payment = self.payment(self.send(line_uuid))
        self.standin.pay(payment.alma_id)
        answer = self.method.alma_cancel(line_uuid)
        self.assertIn("can no longer be cancelled", answer['error'])
        self.assertEqual(payment.state, 'accepted')

    def test_a_new_send_after_a_refusal(self):
        line_uuid = str(uuid.uuid4())
        refused = self.payment(self.send(line_uuid))
        self.standin.pay(refused.alma_id, card='4000000000000002')
        self.method.alma_get_status(line_uuid)
        second = self.payment(self.send(line_uuid))
        self.assertNotEqual(refused, second)
        self.assertEqual(len(self.standin.payments), 2)

    # === Fees offered to the client === #

    def test_fees_offered_customer_pays_the_price(self):
        offers = self.method.alma_get_offers(399.0, self.jean.id, True)['offers']
        offer = next(offer for offer in offers if offer['plan_code'] == 'P4X')
        self.assertTrue(offer['fees_offered'])
        self.assertEqual(offer['customer_total'], 399.0)
        self.assertEqual((offer['purchase_amount'], offer['customer_fee']), (399.0, 0.0))
        self.assertEqual(offer['absorbed_fee'], 5.79)  # 1.45 % of 399 €, now the clinic's.
        self.assertAlmostEqual(sum(line['amount'] for line in offer['schedule']), 399.0)
        payment = self.payment(self.send(plan='payment_alma.plan_4x', fees_offered=True))
        self.assertEqual((payment.purchase_amount_cents, payment.customer_fee_cents), (39900, 0))
        remote = self.standin.payments[payment.alma_id]
        self.assertEqual((remote['purchase_amount'], remote['customer_fee'],
                          remote['merchant_covers_all_fees']), (39900, 0, True))

    # === Contacts === #

    def save_contact(self, **values):
        return self.method.alma_save_contact(self.jean.id, {
            'first_name': "Marie", 'last_name': "Martin", 'mobile': '06 11 22 33 44',
            'email': 'marie.martin@example.com', 'street': "20 rue d'Alsace", 'zip': '75002',
            'city': 'Paris', 'country_id': self.env.ref('base.fr').id, **values,
        })

    def test_new_contact_of_the_customer(self):
        contact = self.save_contact()['contact']
        self.assertEqual(contact['mobile'], '+33611223344')
        self.assertTrue(contact['is_complete'])
        partner = self.env['res.partner'].browse(contact['id'])
        self.assertEqual(partner.parent_id, self.jean)
        offers = self.method.alma_get_offers(399.0, self.jean.id)
        self.assertIn(contact['id'], [c['id'] for c in offers['contacts']])

    def test_contact_errors(self):
        self.assertIn('mobile', self.save_contact(mobile='0123')['errors'])
        landline = self.save_contact(mobile='01 23 45 67 89')
        self.assertIn("landline", landline['errors']['mobile'])
        self.assertIn('email', self.save_contact(email='marie@')['errors'])
        self.assertEqual(set(self.save_contact(city='', zip='')['errors']), {'city', 'zip'})

    def test_shop_details_are_refused(self):
        errors = self.save_contact(mobile='06 99 88 77 66',
                                   email='contact@clinique-lilas.example')['errors']
        self.assertIn("Alma needs the customer's", errors['mobile'])
        self.assertIn("Alma needs the customer's", errors['email'])
        seller_first, _space, seller_last = self.pos_user.name.partition(' ')
        seller = self.save_contact(first_name=seller_first, last_name=seller_last)
        self.assertIn("Alma needs the customer's", seller['errors']['last_name'])

    # === Rights === #

    def test_no_secret_reaches_the_pos(self):
        answer = str(self.method.alma_get_offers(399.0, self.jean.id))
        self.assertNotIn('sk_test', answer)
        self.assertFalse(self.env['alma.payment'].with_user(self.pos_user).has_access('read'))

    # === The order and the session === #

    def sync_order(self, session, line_uuid):
        self.assertEqual(session, self.main_pos_config.current_session_id)
        return self.sync_alma_order(line_uuid, self.order_uuid)

    def test_session_close_books_alma_receipts_on_alma_account(self):
        self.close_session_with_an_alma_sale()

    def test_session_close_identifies_the_customer(self):
        self.alma_pos_method.split_transactions = True
        booked = self.close_session_with_an_alma_sale()
        self.assertEqual(booked.partner_id, self.jean)

    def close_session_with_an_alma_sale(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        session = self.main_pos_config.current_session_id
        line_uuid = str(uuid.uuid4())
        payment = self.payment(self.send(line_uuid))
        self.standin.pay(payment.alma_id)
        self.method.alma_get_status(line_uuid)
        order = self.sync_order(session, line_uuid)
        self.assertEqual(order.state, 'paid')
        self.assertEqual(order.payment_ids.transaction_id, payment.alma_id)
        session.post_closing_cash_details(0)
        session.close_session_from_ui()
        self.assertEqual(session.state, 'closed')
        outstanding = self.alma._alma_outstanding_account()
        booked = self.env['account.move.line'].search([('account_id', '=', outstanding.id)])
        self.assertEqual(sum(booked.mapped('balance')), 399.0)
        self.assertEqual(booked.journal_id, self.alma.journal_id)
        return booked

    def test_order_with_an_alma_line_not_accepted_is_refused(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        session = self.main_pos_config.current_session_id
        line_uuid = str(uuid.uuid4())
        self.payment(self.send(line_uuid))  # Sent, but the customer has not paid.
        with self.assertRaisesRegex(UserError, "Alma has not accepted it"):
            self.sync_order(session, line_uuid)

    # === Back office: a phone sale on an invoice === #

    def test_invoice_paid_when_alma_accepts(self):
        invoice = self.posted_invoice()
        action = invoice.action_alma_pay()
        wizard = self.env['alma.payment.wizard'].browse(action['res_id'])
        self.assertIn(self.env.ref('payment_alma.plan_3x'), wizard.allowed_plan_ids)
        wizard.write({'plan_id': self.env.ref('payment_alma.plan_3x').id, 'send_mode': 'link'})
        wizard.action_send_link()
        payment = self.env['alma.payment'].search([('invoice_id', '=', invoice.id)])
        self.assertTrue(wizard.payment_url.startswith(self.standin.url))
        self.standin.pay(payment.alma_id)
        self.assertEqual(self.ipn(payment).status_code, 200)
        tx = invoice.transaction_ids
        self.assertEqual((tx.state, tx.provider_reference), ('done', payment.alma_id))
        tx._post_process()  # What Odoo's cron, triggered by the state path, does.
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        self.assertEqual(tx.payment_id.journal_id, self.alma.journal_id)
