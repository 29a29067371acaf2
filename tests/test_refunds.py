"""Issue 11 (first part): a refund answers on screen; the Alma journal takes only Alma's money."""
import time
import uuid
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.tests.common import AlmaPosCommon, AlmaWebCommon


@tagged('post_install', '-at_install')
class TestRefunds(AlmaPosCommon):

    def setUp(self):
        super().setUp()
        self.standin.configure(ipn_delay=600)

    def accepted(self):
        return self.alma_accepted(399.0, str(uuid.uuid4()), str(uuid.uuid4()))

    def test_the_refund_button_answers_and_the_payment_shows_it(self):
        payment = self.accepted()
        self.assertEqual(payment.refund_state, 'none')
        action = payment.with_user(self.accounting_manager).action_alma_refund()
        self.assertEqual(action['tag'], 'display_notification')
        self.assertIn("399.00", action['params']['message'])
        self.assertEqual((payment.refund_state, payment.amount_refunded), ('full', 399.0))
        refunded = self.env['alma.payment'].search([('refund_state', '!=', 'none')])
        self.assertEqual(refunded, payment, "the list's Refunded filter finds it")

    def test_the_list_totals_count_only_money_that_moved(self):
        accepted = self.accepted()
        cancelled = self.alma_sent()
        cancelled._alma_cancel()
        self.assertEqual(cancelled.state, 'cancelled')
        totals = self.env['alma.payment'].read_group(
            [('id', 'in', (accepted | cancelled).ids)],
            ['amount_collected:sum', 'clinic_fee_charged:sum'], [])[0]
        self.assertEqual(totals['amount_collected'], 399.0)
        self.assertEqual(totals['clinic_fee_charged'], accepted.clinic_fee_total)

    def test_a_payment_typed_by_hand_in_the_alma_journal_is_refused(self):
        invoice = self.posted_invoice()
        register = self.env['account.payment.register'].with_user(
            self.accounting_manager).with_context(
            active_model='account.move', active_ids=invoice.ids)
        with self.assertRaisesRegex(UserError, "Only Alma moves money"):
            register.create({'journal_id': self.alma.journal_id.id})._create_payments()
        self.assertEqual(invoice.payment_state, 'not_paid')
        bank = self.env['account.journal'].search([
            ('type', '=', 'bank'), ('company_id', '=', invoice.company_id.id),
            ('id', '!=', self.alma.journal_id.id)], limit=1)
        register.create({'journal_id': bank.id})._create_payments()
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))

    def test_a_payment_naming_a_till_s_transaction_is_refused(self):
        """Issue 21: a till's Alma transaction books nothing, its session does: a payment typed
        in the Alma journal that names it would book the sale a second time."""
        tx = self.accepted().transaction_id
        self.assertEqual((tx.state, tx.payment_id), ('done', self.env['account.payment']))
        typed = self.env['account.payment'].with_user(self.accounting_manager).create({
            'journal_id': self.alma.journal_id.id, 'payment_type': 'inbound',
            'partner_type': 'customer', 'partner_id': tx.partner_id.commercial_partner_id.id,
            'amount': tx.amount, 'payment_transaction_id': tx.id})
        with self.assertRaisesRegex(UserError, "Only Alma moves money"):
            typed.action_post()
        self.assertEqual(typed.state, 'draft')


@tagged('post_install', '-at_install')
class TestTransactionRefunds(AlmaWebCommon):
    """Issue 10, item 5: Odoo's Refund of a transaction refunds through Alma, in full or part.

    A credit note refunded with Alma in Chromium is a journey of the clinic
    (`test_journeys.TestClinicBackOffice`). These calls stay in a world of their own: they pay
    invoices of chosen amounts through a transaction made without a browser, then refund them
    as users the clinic does not have (an accounting manager who is not its administrator).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bookkeeper = new_test_user(
            cls.env, login='alma_refunder', groups='account.group_account_manager',
            company_id=cls.company.id, company_ids=cls.company.ids)
        cls.billing_clerk = new_test_user(
            cls.env, login='alma_billing_clerk', groups='account.group_account_invoice',
            company_id=cls.company.id, company_ids=cls.company.ids)

    def paid_transaction(self, amount=399.0):
        """A customer paid an invoice of `amount` with Alma through Odoo's payment form."""
        invoice = self.invoice_for(amount)
        tx = self.env['payment.transaction'].create({
            'provider_id': self.alma.id, 'payment_method_id': self.alma_method.id,
            'reference': f'INV-ALMA-{invoice.id}', 'amount': amount,
            'currency_id': invoice.currency_id.id, 'partner_id': self.jean.id,
            'operation': 'online_redirect', 'invoice_ids': [Command.set(invoice.ids)],
        })
        tx._alma_create_payment(self.env.ref('payment_alma.plan_3x'))
        payment = self.env['alma.payment'].search([('transaction_id', '=', tx.id)])
        self.customer_pays(payment.alma_id)
        self.env['alma.payment']._cron_alma_poll_pending()
        tx._post_process()
        self.assertEqual(tx.state, 'done')
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        return invoice, tx, payment

    def refund(self, tx, amount, user=None):
        tx.with_user(user or self.bookkeeper).action_refund(amount_to_refund=amount)
        return tx.child_transaction_ids.sorted('id')[-1:]

    def test_the_provider_says_it_refunds_in_part(self):
        self.assertEqual(self.alma.support_refund, 'partial')

    def test_partial_refunds_add_up_to_what_alma_took_then_stop(self):
        _invoice, tx, payment = self.paid_transaction()
        first = self.refund(tx, 100.0)
        self.assertEqual((first.state, first.amount), ('done', -100.0))
        self.assertTrue(first.provider_reference.startswith('refund_'))
        outgoing = first.payment_id
        self.assertEqual((outgoing.payment_type, outgoing.amount, outgoing.journal_id),
                         ('outbound', 100.0, self.alma.journal_id))
        self.assertEqual(outgoing.state, 'in_process', "posted, waiting for Alma's transfer")
        self.assertEqual((payment.refund_state, payment.amount_refunded), ('partial', 100.0))
        second = self.refund(tx, 299.0)
        self.assertEqual(second.state, 'done')
        self.assertEqual((payment.refund_state, payment.amount_refunded), ('full', 399.0))
        refunds = self.standin.payments[payment.alma_id]['refunds']
        self.assertEqual([refund['amount'] for refund in refunds], [10000, 29900])
        self.assertEqual(
            {refund['merchant_reference'] for refund in refunds}, set(payment.refund_ids.mapped(
                'reference')), "each refund carries its own reference to Alma")
        lines = self.env['alma.fee.line'].search([('alma_payment_id', '=', payment.id)])
        self.assertEqual(sorted(lines.mapped('gross_cents')), [-29900, -10000, 39900])
        with self.assertRaisesRegex(UserError, "already fully refunded"):
            self.refund(tx, 1.0)
        self.assertEqual(len(self.standin.payments[payment.alma_id]['refunds']), 2)

    def test_a_refund_made_on_alma_s_dashboard_gets_its_refund_transaction(self):
        """Issue 21: a refund made on Alma's dashboard, learnt with ours, is a refund
        transaction as ours are: its money leaves the Alma journal, so that Alma's transfer,
        short of it, settles to the cent; the bookkeeper is asked for its credit note."""
        invoice, tx, payment = self.paid_transaction()
        self.alma._alma_client().refund(payment.alma_id, amount=10000,
                                        merchant_reference='tableau-de-bord')
        ours = self.refund(tx, 299.0)
        dashboard = tx.child_transaction_ids - ours
        alma_refund_ids = [refund['id'] for refund in
                           self.standin.payments[payment.alma_id]['refunds']]
        self.assertEqual(
            (dashboard.operation, dashboard.state, dashboard.amount,
             dashboard.provider_reference), ('refund', 'done', -100.0, alma_refund_ids[0]))
        outgoing = dashboard.payment_id
        self.assertEqual((outgoing.payment_type, outgoing.amount, outgoing.journal_id,
                          outgoing.state), ('outbound', 100.0, self.alma.journal_id, 'in_process'))
        self.assertEqual(payment.refund_ids.transaction_id, dashboard | ours)
        self.assertEqual((payment.refund_state, payment.amount_refunded), ('full', 399.0))
        self.assertEqual(len(alma_refund_ids), 2, "Alma was asked for ours only")
        [activity] = invoice.activity_ids.filtered(
            lambda activity: activity.summary == "Credit note to make")
        self.assertIn(f"Alma refunded 100.00&nbsp;€ of {invoice.name} from its dashboard",
                      activity.note)

    def test_a_refund_beyond_what_is_left_names_the_amounts(self):
        _invoice, tx, payment = self.paid_transaction()
        self.refund(tx, 300.0)
        try:
            self.refund(tx, 100.0)
            self.fail("a refund beyond what is left must be refused")
        except UserError as error:
            self.assertIn("Only 99.00", error.args[0])
        self.assertEqual(payment.amount_refunded, 300.0)
        self.assertEqual(len(self.standin.payments[payment.alma_id]['refunds']), 1)

    def test_a_refund_alma_refuses_stays_on_its_refund_transaction(self):
        """The refund transaction is made with the refund, before Alma is asked: Alma's refusal
        leaves it in error, with the reason the bookkeeper was shown; nothing is booked."""
        _invoice, tx, payment = self.paid_transaction()
        self.standin.fail(400, method='POST', path_prefix=f'/v1/payments/{payment.alma_id}/')
        try:  # Not assertRaises: the refund's own transaction is kept, as in production.
            self.refund(tx, 50.0)
            self.fail("Alma refused the refund")
        except UserError as error:
            shown = error.args[0]
        refund_tx = tx.child_transaction_ids
        self.assertEqual((refund_tx.state, refund_tx.amount, refund_tx.state_message),
                         ('error', -50.0, shown))
        self.assertEqual((payment.refund_ids.state, payment.refund_ids.transaction_id),
                         ('refused', refund_tx))
        self.assertFalse(refund_tx.payment_id, "nothing booked")
        self.assertEqual(payment.amount_refunded, 0.0)

    def test_only_accounting_managers_refund(self):
        _invoice, tx, payment = self.paid_transaction()
        # Odoo's Refund button is shown only to them (Paul Girard, billing, is not offered it).
        self.assertEqual(
            tx.payment_id.with_user(self.billing_clerk).amount_available_for_refund, 0)
        self.assertEqual(
            tx.payment_id.with_user(self.bookkeeper).amount_available_for_refund, 399.0)
        before = len(self.standin.requests)
        for user in (self.billing_clerk, self.jean_user):
            with self.assertRaises(AccessError):
                self.refund(tx, 10.0, user=user)
        self.assertFalse(
            [request for request in self.standin.requests[before:] if request[1].endswith(
                '/refund')], "Alma got no refund request")
        self.assertFalse(payment.refund_ids)

    def test_a_lost_answer_is_found_again_and_the_refund_is_not_doubled(self):
        _invoice, tx, payment = self.paid_transaction()
        self.standin.configure(timeout_seconds=1.0)
        self.standin.fail('timeout', method='POST', path_prefix='/v1/payments/', times=1)
        with patch.object(const, 'TIMEOUTS', (2, 0.3)):
            refund_tx = self.refund(tx, 50.0)
        self.assertEqual(refund_tx.state, 'pending', "Alma may have refunded: not an error")
        self.assertEqual(payment.refund_ids.state, 'asked')
        for _wait in range(30):  # Alma finishes the refund after our client gave up.
            if self.standin.payments[payment.alma_id]['refunds']:
                break
            time.sleep(0.1)
        self.env['alma.payment']._cron_alma_poll_pending()
        self.assertEqual((refund_tx.state, payment.refund_ids.state), ('done', 'done'))
        self.assertEqual(refund_tx.payment_id.amount, 50.0)
        self.assertEqual(len(self.standin.payments[payment.alma_id]['refunds']), 1)

    def test_the_payment_refund_button_of_an_invoice_opens_the_credit_note(self):
        """Issue 19, item 4: the credit note takes back the sale and its VAT; its own *Refund
        with Alma* pays it back (a refund of the transaction alone would leave them booked)."""
        invoice, tx, payment = self.paid_transaction()
        action = payment.with_user(self.bookkeeper).action_alma_refund()
        self.assertEqual(action['res_model'], 'account.move.reversal')
        self.assertEqual(action['context'], {'active_model': 'account.move',
                                             'active_ids': invoice.ids})
        self.assertFalse(tx.child_transaction_ids)
        self.assertEqual(self.alma_requests('POST', f'/v1/payments/{payment.alma_id}/refund'), 0)

    # === Issue 11, item 2: a credit note refunded through Alma === #

    def credit_note(self, invoice, amount):
        """A posted credit note of `amount` on `invoice`, as Odoo's "Credit Note" makes it."""
        reversal = self.env['account.move.reversal'].with_context(
            active_model='account.move', active_ids=invoice.ids).create({
                'journal_id': invoice.journal_id.id, 'reason': "Retour"})
        credit_note = self.env['account.move'].browse(reversal.refund_moves()['res_id'])
        credit_note.invoice_line_ids[0].price_unit = amount
        credit_note.action_post()
        return credit_note

    def test_a_credit_note_is_refunded_through_alma_and_paid_in_the_alma_journal(self):
        invoice, tx, payment = self.paid_transaction()
        credit_note = self.credit_note(invoice, 100.0)
        self.assertTrue(credit_note.alma_refundable)
        action = credit_note.with_user(self.bookkeeper).action_alma_refund()
        self.assertEqual(action['params']['type'], 'success')
        self.assertIn("100.00", action['params']['message'])
        self.assertIn(credit_note.payment_state, ('paid', 'in_payment'))
        outgoing = credit_note.matched_payment_ids
        self.assertEqual((outgoing.payment_type, outgoing.amount, outgoing.journal_id),
                         ('outbound', 100.0, self.alma.journal_id))
        self.assertEqual(outgoing.payment_transaction_id.source_transaction_id, tx)
        self.assertEqual((payment.refund_state, payment.amount_refunded), ('partial', 100.0))
        self.assertEqual(self.standin.payments[payment.alma_id]['amount_already_refunded'], 10000)
        self.assertFalse(credit_note.alma_refundable)

    def test_a_credit_note_beyond_what_alma_holds_is_refused_and_stays_unpaid(self):
        invoice, tx, payment = self.paid_transaction()
        self.refund(tx, 350.0)
        credit_note = self.credit_note(invoice, 100.0)
        try:
            credit_note.with_user(self.bookkeeper).action_alma_refund()
            self.fail("Alma holds only 49 € of this payment")
        except UserError as error:
            self.assertIn("Only 49.00", error.args[0])
        self.assertEqual(credit_note.payment_state, 'not_paid')
        self.assertEqual(payment.amount_refunded, 350.0)

    def test_a_credit_note_of_an_invoice_not_paid_with_alma_offers_no_alma_refund(self):
        invoice = self.invoice_for(399.0)
        credit_note = self.credit_note(invoice, 399.0)
        self.assertFalse(credit_note.alma_refundable)
        with self.assertRaisesRegex(UserError, "paid with Alma"):
            credit_note.with_user(self.bookkeeper).action_alma_refund()
        with self.assertRaises(AccessError):
            credit_note.with_user(self.billing_clerk).action_alma_refund()
