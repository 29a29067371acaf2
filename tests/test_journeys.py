"""Issue 18: the journeys of the demo clinic, in French, as its staff and customers live them.

The world is the one `scripts/demo` makes (`ClinicCommon`): the clinic of `hooks.py` on the
French chart, Paris time, its staff holding only their jobs' standard groups. Each journey runs
in Chromium, then checks the records and the books.
"""
from types import SimpleNamespace
from unittest.mock import patch

from werkzeug.urls import url_parse

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.payment_alma.tests.common import ClinicCommon


@tagged('post_install', '-at_install', 'alma_tours')
class TestClinicWorld(ClinicCommon):

    def test_the_world_is_the_demos(self):
        """What the journeys rely on: a French clinic in euros, its staff with standard groups."""
        self.assertEqual(self.clinic.currency_id, self.env.ref('base.EUR'))
        self.assertEqual(self.clinic.chart_template, 'fr')
        self.assertEqual(self.alma.company_id, self.clinic)
        self.assertEqual(self.till.name, "Accueil clinique")
        self.assertTrue(self.alma_pos_method)
        self.assertTrue(self.cashier.has_group('point_of_sale.group_pos_user'))
        for group in ('point_of_sale.group_pos_manager', 'account.group_account_invoice',
                      'account.group_account_user', 'base.group_system'):
            self.assertFalse(self.cashier.has_group(group), group)
        self.assertTrue(self.bookkeeper.has_group('account.group_account_invoice'))
        for group in ('account.group_account_user', 'account.group_account_manager',
                      'point_of_sale.group_pos_user', 'base.group_system'):
            self.assertFalse(self.bookkeeper.has_group(group), group)
        self.assertEqual(set((self.cashier | self.bookkeeper).mapped('tz')), {'Europe/Paris'})
        # Odoo installs its French POS certification with the French chart and the till: the
        # clinic's paid orders are chained and may not be altered (issue 23, item 3).
        self.assertEqual(self.env['ir.module.module']._get('l10n_fr_pos_cert').state,
                         'installed')
        self.assertTrue(self.clinic._is_accounting_unalterable())
        self.assertTrue(self.clinic.l10n_fr_pos_cert_sequence_id)


@tagged('post_install', '-at_install', 'alma_tours')
class TestClinicTill(ClinicCommon):
    """Journey 1: the cashier at the counter, "Accueil clinique"."""

    def start_till_tour(self, tour):
        self.start_tour(f'/pos/ui?config_id={self.till.id}', tour, login=self.cashier.login)

    def alma_payment(self):
        payments = self.env['alma.payment'].search([('company_id', '=', self.clinic.id)])
        self.assertEqual(len(payments), 1)
        return payments

    def test_a_sale_by_sms_paid_on_almas_page(self):
        self.start_till_tour('AlmaClinicSmsSale')
        payment = self.alma_payment()
        self.assertEqual((payment.state, payment.send_mode, payment.price), ('accepted', 'sms',
                                                                             399.0))
        self.assertEqual([sms['phone'] for sms in self.standin.sms_outbox], ['+33612345678'])
        order = self.env['pos.order'].search([('config_id', '=', self.till.id)])
        self.assertEqual((order.state, order.amount_total), ('paid', 399.0))
        self.assertEqual(order.payment_ids.payment_method_id, self.alma_pos_method)
        line = self.env['alma.fee.line'].search([('alma_payment_id', '=', payment.id)])
        self.assertEqual(line.gross, 399.0)
        self.assertIn(line.origin, order.pos_reference)

        # The books once the cashier closes the till: Alma owes the clinic the price (its fees
        # are booked when its transfer arrives).
        session = order.session_id
        session.post_closing_cash_details(0)
        session.close_session_from_ui()
        self.assertEqual(session.state, 'closed')
        outstanding = self.alma._alma_outstanding_account()
        balance = sum(self.env['account.move.line'].search([
            ('account_id', '=', outstanding.id), ('parent_state', '=', 'posted'),
            ('company_id', '=', self.clinic.id)]).mapped('balance'))
        self.assertAlmostEqual(balance, 399.0)

    def test_a_declined_card(self):
        self.start_till_tour('AlmaClinicDeclinedCard')
        payment = self.alma_payment()
        self.assertEqual((payment.state, payment.state_reason_code), ('refused', 'refused'))
        self.assertFalse(self.env['pos.order'].search([('config_id', '=', self.till.id),
                                                       ('state', '=', 'paid')]))
        self.assertFalse(self.env['alma.fee.line'].search([('alma_payment_id', '=', payment.id)]))

    def test_a_cancel_while_waiting(self):
        self.start_till_tour('AlmaClinicCancelWaiting')
        payment = self.alma_payment()
        self.assertEqual((payment.state, payment.state_reason_code), ('cancelled', 'cancelled_by'))
        # Alma's link no longer works: the stand-in's payment expired when cancelled.
        self.assertTrue(self.standin.payments[payment.alma_id]['expired_at'])
        self.assertEqual(self.alma_requests('PUT', f'/v1/payments/{payment.alma_id}/cancel'), 1)


@tagged('post_install', '-at_install', 'alma_tours')
class TestClinicTillRefunds(ClinicCommon):
    """Journey 2: refunds at the counter, as the cashier (`accueil`, Point of Sale user only)."""

    def outstanding_balance(self):
        outstanding = self.alma._alma_outstanding_account()
        return sum(self.env['account.move.line'].search([
            ('account_id', '=', outstanding.id), ('parent_state', '=', 'posted'),
            ('company_id', '=', self.clinic.id)]).mapped('balance'))

    def test_a_partial_alma_refund_then_the_rest_and_a_cash_refund_warned(self):
        """A cash refund of an Alma sale is warned (about the ticket, not the till's sequence)
        and turned into an Alma refund; a second refund up to what Alma took; a third refused
        with the amounts, then refunded in cash; a sale paid in cash refused by Alma."""
        payment = self.clinic_till_sale(
            "Vaccination annuelle chien (CHPPiL + rage)", quantity=4, cash=72.0)
        sale = payment.pos_payment_id.pos_order_id
        self.assertEqual((sale.amount_total, payment.price), (288.0, 216.0))
        cash_sale = self.clinic_sync_order([("Consultation", 1)],
                                           [(self.clinic_cash, 45.0, None)])
        self.assertEqual(cash_sale.amount_total, 45.0)

        self.start_tour(f'/pos/ui?config_id={self.till.id}', 'AlmaClinicTillRefunds',
                        login=self.cashier.login)
        self.env.invalidate_all()

        # Two refunds at Alma, up to what it took; none for the third one or the cash sale.
        refunds = self.standin.payments[payment.alma_id]['refunds']
        self.assertEqual([refund['amount'] for refund in refunds], [7200, 14400])
        self.assertEqual(self.alma_requests('POST', f'/v1/payments/{payment.alma_id}/refund'), 2)
        self.assertEqual((payment.refund_state, payment.amount_refunded), ('full', 216.0))
        self.assertEqual((sale.alma_refund_state, sale.alma_amount_refunded), ('full', 216.0))
        refund_orders = self.env['pos.order'].search(
            [('lines.refunded_orderline_id.order_id', '=', sale.id)])
        self.assertEqual(len(refund_orders), 3)
        self.assertTrue(all(order.state == 'paid' for order in refund_orders))
        alma_lines = refund_orders.payment_ids.filtered(
            lambda line: line.payment_method_id == self.alma_pos_method)
        self.assertEqual(sorted(alma_lines.mapped('amount')), [-144.0, -72.0])
        self.assertEqual(set(alma_lines.mapped('transaction_id')),
                         set(payment.refund_ids.mapped('alma_refund_id')))
        self.assertEqual(payment.refund_ids.pos_payment_id, alma_lines)
        for line in alma_lines:
            self.assertIn("Remboursé par Alma", line.ticket)
        third = refund_orders.filtered(lambda order: not (order.payment_ids & alma_lines))
        self.assertEqual(third.payment_ids.payment_method_id, self.clinic_cash)
        cash_refund = self.env['pos.order'].search(
            [('lines.refunded_orderline_id.order_id', '=', cash_sale.id)])
        self.assertEqual(cash_refund.payment_ids.payment_method_id, self.clinic_cash)
        self.assertFalse(self.env['alma.refund'].search([('payment_id', '!=', payment.id)]))

        # The books: "Frais Alma" takes both refunds back from Alma's transfer, and once the
        # till is closed Alma owes the clinic nothing of this sale.
        lines = self.env['alma.fee.line'].search([('alma_payment_id', '=', payment.id)])
        self.assertEqual(sorted(lines.mapped('gross')), [-144.0, -72.0, 216.0])
        session = sale.session_id
        session.post_closing_cash_details(0)
        session.close_session_from_ui()
        self.assertEqual(session.state, 'closed')
        self.assertAlmostEqual(self.outstanding_balance(), 0.0)


@tagged('post_install', '-at_install', 'alma_tours')
class TestClinicBackOffice(ClinicCommon):
    """Journey 3: the back office. The bookkeeper (`compta`, Billing only) sends "Payer avec
    Alma" by SMS for Sophie Bernard's invoice; the administrator refunds a credit note of it."""

    def outstanding_balance(self):
        outstanding = self.alma._alma_outstanding_account()
        return sum(self.env['account.move.line'].search([
            ('account_id', '=', outstanding.id), ('parent_state', '=', 'posted'),
            ('company_id', '=', self.clinic.id)]).mapped('balance'))

    def credit_note(self, invoice, amount_excluded):
        """A posted credit note of `invoice`, of `amount_excluded` before VAT, as the
        bookkeeper's "Avoir" makes it."""
        reversal = self.env['account.move.reversal'].with_user(self.bookkeeper).with_context(
            active_model='account.move', active_ids=invoice.ids).create({
                'journal_id': invoice.journal_id.id, 'reason': "Geste commercial"})
        credit_note = self.env['account.move'].browse(reversal.refund_moves()['res_id'])
        credit_note.invoice_line_ids[0].price_unit = amount_excluded
        credit_note.action_post()
        return credit_note

    def test_an_invoice_paid_by_sms_then_a_credit_note_refunded_with_alma(self):
        """Issue 18, item 5: the dialog changes by itself when the customer pays; the plan sent
        takes the dialog's width; the contact's mobile and e-mail are shown."""
        invoice = self.env['account.move'].search([
            ('company_id', '=', self.clinic.id), ('move_type', '=', 'out_invoice'),
            ('partner_id.name', '=', "Sophie Bernard")])
        self.assertEqual((invoice.amount_total, invoice.payment_state), (1200.0, 'not_paid'))
        self.start_tour(f'/odoo/action-account.action_move_out_invoice_type/{invoice.id}',
                        'AlmaClinicInvoiceBySms', login=self.bookkeeper.login)

        payment = self.env['alma.payment'].search([('invoice_id', '=', invoice.id)])
        self.assertEqual((payment.state, payment.plan_id.code, payment.send_mode, payment.price),
                         ('accepted', 'P3X', 'sms', 1200.0))
        self.assertEqual(self.alma_requests('POST', '/v1/payments'), 1)
        self.assertEqual([(sms['phone'].replace(' ', ''), sms['url'])
                          for sms in self.standin.sms_outbox], [('+33623456789', payment.url)])
        tx = invoice.transaction_ids
        self.assertEqual((tx.state, tx.is_post_processed), ('done', True))
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        # The books: the invoice paid in the Alma journal, which Alma owes the clinic;
        # "Frais Alma" names the invoice.
        self.assertEqual(tx.payment_id.journal_id, self.alma.journal_id)
        self.assertAlmostEqual(self.outstanding_balance(), 1200.0)
        fee_line = self.env['alma.fee.line'].search([('alma_payment_id', '=', payment.id)])
        self.assertEqual((fee_line.origin, fee_line.gross), (invoice.name, 1200.0))

        # 300 € back to Sophie Bernard: a credit note. The bookkeeper may not refund through
        # Alma (only accounting managers do); the clinic's administrator does.
        credit_note = self.credit_note(invoice, 250.0)
        self.assertEqual(credit_note.amount_total, 300.0)
        self.assertTrue(credit_note.alma_refundable)
        with self.assertRaises(AccessError):
            credit_note.with_user(self.bookkeeper).action_alma_refund()
        self.assertEqual(self.alma_requests('POST', f'/v1/payments/{payment.alma_id}/refund'), 0)
        self.start_tour(f'/odoo/account.move/{credit_note.id}', 'AlmaClinicCreditNoteRefund',
                        login=self.admin.login)
        self.env.invalidate_all()
        self.assertIn(credit_note.payment_state, ('paid', 'in_payment'))
        self.assertEqual((payment.refund_state, payment.amount_refunded), ('partial', 300.0))
        self.assertEqual(self.standin.payments[payment.alma_id]['amount_already_refunded'], 30000)
        self.assertEqual(self.alma_requests('POST', f'/v1/payments/{payment.alma_id}/refund'), 1)
        outgoing = credit_note.matched_payment_ids
        self.assertEqual((outgoing.payment_type, outgoing.amount, outgoing.journal_id),
                         ('outbound', 300.0, self.alma.journal_id))
        self.assertAlmostEqual(self.outstanding_balance(), 900.0)
        refund_line = self.env['alma.fee.line'].search([('alma_payment_id', '=', payment.id),
                                                        ('refund_id', '!=', False)])
        self.assertEqual(refund_line.gross, -300.0)


@tagged('post_install', '-at_install', 'alma_tours')
class TestClinicCustomer(ClinicCommon):
    """Journey 4: a customer pays an invoice online, on its page, in French: Alma refuses the
    card, the customer gives up on Alma's page, then pays; the page says so each time."""

    def setUp(self):
        super().setUp()
        # The scripts/test database has a website (website_sale, for the shop's tour), which
        # then serves the portal in its own languages: the clinic's customers read French.
        self.assertIn('website', self.env, "scripts/test installs website_sale in its database")
        french = self.env['res.lang']._lang_get('fr_FR')
        self.env.ref('website.default_website').write({
            'language_ids': [Command.set(french.ids)], 'default_lang_id': french.id})

    def invoice_of(self, name):
        return self.env['account.move'].search([
            ('company_id', '=', self.clinic.id), ('move_type', '=', 'out_invoice'),
            ('partner_id.name', '=', name)])

    def assert_refused_given_up_then_paid(self, invoice):
        """Three transactions, three Alma payments: refused, given up (cancelled at Alma, its
        link dead), then paid; the invoice paid once, in the Alma journal."""
        txs = invoice.transaction_ids.sorted('id')
        self.assertEqual(txs.mapped('state'), ['error', 'cancel', 'done'])
        payments = txs.alma_payment_ids.sorted('id')
        self.assertEqual([(payment.state, payment.state_reason_code) for payment in payments], [
            ('refused', 'refused'), ('cancelled', 'gave_up'), ('accepted', False)])
        self.assertTrue(self.standin.payments[payments[1].alma_id]['expired_at'])
        self.assertEqual(self.alma_requests('POST', '/v1/payments'), 3)
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        paid = txs[-1]
        self.assertTrue(paid.is_post_processed)
        self.assertEqual(invoice.matched_payment_ids, paid.payment_id)
        self.assertEqual(paid.payment_id.journal_id, self.alma.journal_id)
        # Issue 18, item 6: *Paiements Alma* and "Frais Alma" name the invoice.
        self.assertEqual(payments.invoice_id, invoice)
        fee_lines = self.env['alma.fee.line'].search([('alma_payment_id', 'in', payments.ids)])
        self.assertEqual((fee_lines.alma_payment_id, fee_lines.origin, fee_lines.gross),
                         (payments[-1], invoice.name, invoice.amount_total))
        self.assertFalse(self.env['payment.transaction'].search([
            ('provider_id', '=', self.alma.id), ('state', '=', 'draft')]),
            "No draft transaction left behind")
        return paid

    def test_jean_pays_his_invoice_in_the_portal(self):
        """Jean Martin, logged in, opens his invoice from his portal (no token in the URL)."""
        invoice = self.invoice_of("Jean Martin")
        jean = self.env['res.users'].search([('partner_id', '=', self.jean.id)])
        # HttpCase logs in with the login as password.
        jean.password = jean.login
        self.start_tour(f'/my/invoices/{invoice.id}', 'AlmaClinicCustomerPays', login=jean.login)
        paid = self.assert_refused_given_up_then_paid(invoice)
        self.assertEqual(paid.partner_id, self.jean)

    def test_sophie_pays_through_a_payment_link_logged_out(self):
        """Sophie Bernard opens the link the bookkeeper sent her ("Générer un lien de
        paiement"), without an account."""
        invoice = self.invoice_of("Sophie Bernard")
        wizard = self.env['payment.link.wizard'].with_user(self.bookkeeper).with_context(
            active_model='account.move', active_id=invoice.id).create({})
        # The wizard signs the link with the request's environment, as in the back office.
        with patch('odoo.addons.payment.utils.request', SimpleNamespace(env=wizard.env)):
            link = url_parse(wizard.link)
        self.start_tour(f"/{link.path.lstrip('/')}?{link.query}", 'AlmaClinicCustomerPays')
        self.assert_refused_given_up_then_paid(invoice)


@tagged('post_install', '-at_install', 'alma_tours')
class TestClinicAdministrator(ClinicCommon):
    """Journey 6: the clinic's administrator (Odoo's admin, in French)."""

    def test_opens_an_alma_payment(self):
        """Found on the demo: "Erreur d'accès … 'Remboursement Alma'" on any Alma payment."""
        self.clinic_payment_accepted()
        self.start_tour('/odoo/action-payment_alma.action_alma_payment',
                        'AlmaClinicAdminOpensAPayment', login=self.admin.login)

    def test_checks_the_connection(self):
        self.start_tour(f'/odoo/action-payment.action_payment_provider/{self.alma.id}',
                        'AlmaClinicAdminChecksTheConnection', login=self.admin.login)
        self.assertEqual(self.alma.alma_merchant_name, "Clinique des Lilas (Alma stand-in)")


@tagged('post_install', '-at_install', 'alma_tours')
class TestClinicBookkeeper(ClinicCommon):
    """Journey 5: the clinic's bookkeeper (`compta`, Billing only) and Alma's transfer."""

    def test_marks_a_transfer_and_records_it_on_the_clinics_bank(self):
        payments = (self.clinic_till_sale("Stérilisation chienne (ovariectomie)")
                    | self.clinic_till_sale("Stérilisation chatte"))
        session = self.till.current_session_id
        session.post_closing_cash_details(0)
        session.close_session_from_ui()
        self.assertEqual(session.state, 'closed')

        self.start_tour('/odoo/action-payment_alma.action_alma_fee_line',
                        'AlmaClinicBookkeeperTransfer', login=self.bookkeeper.login)

        lines = self.env['alma.fee.line'].search([('alma_payment_id', 'in', payments.ids)])
        self.assertEqual(len(lines), 2)
        self.assertTrue(all(lines.mapped('settled')))
        transfer = lines.transfer_move_id
        self.assertEqual(len(transfer), 1)
        self.assertEqual(transfer.state, 'posted')
        # The net leaves Alma's outstanding receipts for the clinic's bank.
        outstanding = self.alma._alma_outstanding_account()
        received = transfer.line_ids.filtered('debit')
        self.assertNotEqual(received.account_id, outstanding)
        self.assertAlmostEqual(received.debit, sum(lines.mapped('net')))
        self.assertEqual(transfer.journal_id.company_id, self.clinic)
        # Alma's outstanding receipts: nothing left open of these sales, fees and transfer.
        open_items = self.env['account.move.line'].search([
            ('account_id', '=', outstanding.id), ('company_id', '=', self.clinic.id),
            ('parent_state', '=', 'posted'), ('reconciled', '=', False)])
        self.assertFalse(open_items, open_items.mapped('name'))
        self.assertAlmostEqual(sum(self.env['account.move.line'].search([
            ('account_id', '=', outstanding.id), ('company_id', '=', self.clinic.id),
            ('parent_state', '=', 'posted')]).mapped('balance')), 0.0)
