"""Issue 18: the journeys of the demo clinic, in French, as its staff and customers live them.

The world is the one `scripts/demo` makes (`ClinicCommon`): the clinic of `hooks.py` on the
French chart, Paris time, its staff holding only their jobs' standard groups. Each journey runs
in Chromium, then checks the records and the books.
"""
from odoo.tests import tagged

from odoo.addons.payment_alma.tests.common import ClinicCommon


@tagged('post_install', '-at_install')
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


@tagged('post_install', '-at_install')
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
        self.assertEqual((payment.state, payment.state_reason_code), ('refused', 'card_declined'))
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


@tagged('post_install', '-at_install')
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


@tagged('post_install', '-at_install')
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
