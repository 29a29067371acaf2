"""Issue 19, items 2, 5, 6 and 11: Alma as an Odoo payment provider online, from the victim's
side (the invoice, the books, what Alma was asked)."""
import time
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.tests.common import AlmaWebCommon
from odoo.addons.website.tools import MockRequest

ELIGIBILITY = ('POST', '/v2/payments/eligibility')
# The payment form's eligibility cache (`const.ELIGIBILITY_TTL_SECONDS`).
TTL = getattr(const, 'ELIGIBILITY_TTL_SECONDS', 180)


@tagged('post_install', '-at_install')
class TestTrustOnline(AlmaWebCommon):
    """The payment form, the payment links and the portal, as customers and visitors use them."""

    # === What the customer's browser does === #

    def pay_invoice_form(self, invoice):
        """"Pay" in the invoice's payment form: the transaction, through Odoo's route."""
        return self.make_jsonrpc_request(f'/invoice/transaction/{invoice.id}', {
            'provider_id': self.alma.id,
            'payment_method_id': self.alma_method.id,
            'token_id': None,
            'amount': invoice.amount_residual,
            'flow': 'direct',
            'tokenization_requested': False,
            'landing_route': invoice.get_portal_url(),
            'is_validation': False,
            'access_token': invoice._portal_ensure_token(),
        })

    def create_alma_payment(self, values, plan='payment_alma.plan_3x'):
        """The plan chosen in the form: the Alma payment of the transaction."""
        return self.make_jsonrpc_request('/payment/alma/payment', {
            'reference': values['reference'],
            'plan_id': self.env.ref(plan).id,
            'access_token': values['alma_access_token'],
        })

    def transaction(self, values):
        return self.env['payment.transaction'].search([('reference', '=', values['reference'])])

    def alma_payment(self, values):
        return self.env['alma.payment'].search(
            [('transaction_id.reference', '=', values['reference'])])

    ipn = AlmaWebCommon.alma_notify

    def overdue_invoice(self, amount):
        """An invoice of Jean's, due 40 days ago, which Jean reads in the portal."""
        invoice = self.init_invoice(
            'out_invoice', partner=self.jean, amounts=[amount], taxes=self.env['account.tax'],
            invoice_date=fields.Date.today() - timedelta(days=40), post=True)
        invoice.message_subscribe(self.jean.ids)  # As when it is sent: the portal's rule.
        return invoice

    def pay_overdue_invoices(self, invoices, amount):
        """The portal's "pay overdue invoices": one transaction for them all, for the amount
        the page asks (Odoo's `total_amount`: their total), as `/invoice/transaction/overdue`
        makes it; its processing values, as the payment form receives them."""
        Transaction = self.env['payment.transaction']
        links = {'invoice_ids': [Command.set(invoices.ids)]}
        tx = Transaction.create({
            'provider_id': self.alma.id, 'payment_method_id': self.alma_method.id,
            'reference': Transaction._compute_reference('alma', prefix="BATCH", **links),
            'amount': amount, 'currency_id': invoices.currency_id.id,
            'partner_id': self.jean.id, 'operation': 'online_direct', **links,
        })
        with MockRequest(self.env):  # The access token is signed in a request.
            return tx._get_processing_values()

    # === 2. A disabled provider sells nothing, anywhere === #

    def test_2_a_disabled_provider_sells_nothing_online(self):
        invoice = self.invoice_for(399.0)
        values = self.pay_invoice_form(invoice)  # The form was opened while Alma was in test.
        self.alma.state = 'disabled'
        answer = self.create_alma_payment(values)
        self.assertIn("Alma is disabled", answer.get('error') or '')
        # A new transaction of the disabled provider (a forged or older form) is refused.
        with self.assertRaises(JsonRpcException), mute_logger('odoo.http'):
            self.pay_invoice_form(invoice)
        with self.assertRaisesRegex(UserError, "Alma is disabled"):
            self.alma._alma_client()
        self.assertFalse(self.standin.requests, "No key is used while Alma is disabled")
        self.assertFalse(self.standin.payments)
        self.assertFalse(self.alma_payment(values))
        self.assertEqual(invoice.payment_state, 'not_paid')

    def test_2_a_sandbox_payment_paid_once_alma_is_live_is_refused_and_flagged(self):
        invoice = self.invoice_for(399.0)
        values = self.pay_invoice_form(invoice)
        self.assertTrue(self.create_alma_payment(values).get('url'))
        payment = self.alma_payment(values)
        self.assertEqual(payment.mode, 'test')
        self.alma.write({'state': 'enabled', 'alma_api_key_live': 'sk_live_standin'})
        self.customer_pays(payment.alma_id)  # On the sandbox's page: no money moves.
        self.assertEqual(self.ipn(payment.alma_id).status_code, 200)
        self.env.invalidate_all()
        tx = self.transaction(values)
        self.assertEqual((payment.state, payment.state_reason_code), ('refused', 'test_mode'))
        self.assertEqual(tx.state, 'error')
        tx._post_process()
        self.assertEqual(invoice.payment_state, 'not_paid')
        self.assertFalse(self.env['account.payment'].search([('payment_transaction_id', '=',
                                                              tx.id)]))
        self.assertFalse(self.env['alma.fee.line'].search([('alma_payment_id', '=', payment.id)]),
                         "no Alma fee on a sandbox payment")
        flags = invoice.activity_ids.filtered(lambda a: a.summary == "Alma test payment")
        self.assertEqual(len(flags), 1, "The bookkeeper is told")
        self.assertIn("no money was taken", str(flags.note))

    # === 5. One online payment for several invoices === #

    def test_5_the_overdue_invoices_paid_at_once_are_all_paid(self):
        first, second = self.overdue_invoice(399.0), self.overdue_invoice(200.0)
        # 50 € of the second were paid in cash meanwhile.
        self.env['account.payment.register'].with_context(
            active_model='account.move', active_ids=second.ids,
        ).create({'amount': 50.0})._create_payments()
        self.assertEqual(second.payment_state, 'partial')
        values = self.pay_overdue_invoices(first | second, 599.0)
        tx = self.transaction(values)
        self.assertEqual(tx.invoice_ids, first | second)
        self.assertTrue(self.create_alma_payment(values).get('url'))
        payment = self.alma_payment(values)
        self.customer_pays(payment.alma_id)
        self.assertEqual(self.ipn(payment.alma_id).status_code, 200)
        self.env.invalidate_all()
        self.assertEqual(tx.state, 'done')
        tx._post_process()
        self.assertIn(first.payment_state, ('paid', 'in_payment'))
        self.assertIn(second.payment_state, ('paid', 'in_payment'))
        self.assertAlmostEqual(tx.payment_id.amount, 599.0)
        self.assertEqual(tx.payment_id.journal_id, self.alma.journal_id)
        # Only the real excess is the bookkeeper's: the 50 € paid twice.
        notes = self.env['mail.activity'].search([
            ('res_model', '=', 'account.move'), ('res_id', 'in', (first | second).ids),
            ('summary', '=', "Paid twice")]).mapped('note')
        self.assertTrue(notes)
        for note in notes:
            self.assertIn("50.00", str(note))
            self.assertNotIn("which was already paid", str(note))

    def test_5_several_invoices_paid_exactly_flag_nothing(self):
        first, second = self.overdue_invoice(399.0), self.overdue_invoice(200.0)
        values = self.pay_overdue_invoices(first | second, 599.0)
        self.assertTrue(self.create_alma_payment(values).get('url'))
        payment = self.alma_payment(values)
        self.customer_pays(payment.alma_id)
        self.assertEqual(self.ipn(payment.alma_id).status_code, 200)
        self.env.invalidate_all()
        self.transaction(values)._post_process()
        self.assertIn(first.payment_state, ('paid', 'in_payment'))
        self.assertIn(second.payment_state, ('paid', 'in_payment'))
        self.assertFalse((first | second).activity_ids.filtered(
            lambda a: a.summary == "Paid twice"))

    # === 6. Two tabs, one invoice, one live link === #

    def test_6_a_second_tab_cancels_the_first_link_at_alma(self):
        invoice = self.invoice_for(399.0)
        first = self.pay_invoice_form(invoice)
        self.assertTrue(self.create_alma_payment(first).get('url'))
        second = self.pay_invoice_form(invoice)  # The back button, or a second tab.
        self.assertTrue(self.create_alma_payment(second).get('url'))
        self.env.invalidate_all()
        earlier, later = self.alma_payment(first), self.alma_payment(second)
        self.assertIn(('PUT', f'/v1/payments/{earlier.alma_id}/cancel'), self.standin.requests)
        self.assertEqual((earlier.state, later.state), ('cancelled', 'waiting'))
        self.assertEqual(self.transaction(first).state, 'cancel')
        live = [alma_id for alma_id, remote in self.standin.payments.items()
                if not remote['expired_at']]
        self.assertEqual(live, [later.alma_id], "One live Alma link for the invoice")

    def test_6_the_first_tab_paid_meanwhile_leaves_nothing_to_pay(self):
        invoice = self.invoice_for(399.0)
        first = self.pay_invoice_form(invoice)
        self.assertTrue(self.create_alma_payment(first).get('url'))
        self.customer_pays(self.alma_payment(first).alma_id)  # Not back from Alma yet.
        second = self.pay_invoice_form(invoice)
        answer = self.create_alma_payment(second)
        self.assertIn("nothing left to pay", answer.get('error') or '')
        self.assertEqual(len(self.standin.payments), 1, "No second payment at Alma")
        self.assertFalse(self.alma_payment(second))
        self.env.invalidate_all()
        tx = self.transaction(first)
        self.assertEqual(tx.state, 'done')
        tx._post_process()
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))

    # === 11. Anonymous visitors cannot make us call Alma at will === #

    def test_11_reloading_the_payment_form_asks_alma_once(self):
        invoice = self.invoice_for(399.0)
        url = invoice.get_portal_url()  # With its access token: anyone holding the link.
        period = int(time.time() // TTL)
        for _reload in range(3):
            # Each request has its own cursor in production; the test's requests share one.
            self.env.cr.cache.pop('alma_web_offers', None)
            page = self.url_open(url).text
            self.assertIn('name="o_alma_plan"', page)
        # Three reloads within one cache period: one question to Alma.
        periods = int(time.time() // TTL) - period + 1
        self.assertEqual(self.alma_requests(*ELIGIBILITY), periods)

    def test_11_the_public_path_neither_retries_nor_waits(self):
        invoice = self.invoice_for(399.0)
        self.standin.fail(429, path_prefix='/v2/payments/eligibility', times=1, retry_after=3)
        page = self.url_open(invoice.get_portal_url()).text
        self.assertNotIn('name="o_alma_plan"', page, "Alma hidden at once")
        self.assertEqual(self.alma_requests(*ELIGIBILITY), 1, "Neither retried nor waited for")
        self.url_open(invoice.get_portal_url())  # Reloaded: Alma is not asked again.
        self.assertEqual(self.alma_requests(*ELIGIBILITY), 1)
        # Creating the payment: Alma's 429 is told at once, nothing is created.
        values = self.pay_invoice_form(invoice)
        self.standin.fail(429, path_prefix='/v2/payments/eligibility', times=1, retry_after=3)
        answer = self.create_alma_payment(values)
        self.assertIn("3 s", answer.get('error') or '')
        self.assertEqual(self.alma_requests(*ELIGIBILITY), 2)
        self.assertEqual(self.alma_requests('POST', '/v1/payments'), 0)
        self.assertFalse(self.standin.payments)
