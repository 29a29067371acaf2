"""Issue 11, items 4 and 5: a French clinic's month with Alma, reconciled to the cent."""
import json
import logging
import uuid

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.payment_alma.tests.common import AlmaPosCommon
from odoo.addons.payment_alma.utils.money import from_cents

_logger = logging.getLogger(__name__)

# (amount, plan, fees offered to the customer) of the month's sales at the till.
TILL_SALES = [
    (399.0, 'plan_3x', False), (120.5, 'plan_2x', False), (89.99, 'plan_3x', False),
    (250.0, 'plan_4x', True), (1200.0, 'plan_4x', False), (64.9, 'plan_2x', False),
    (455.55, 'plan_3x', False), (180.0, 'plan_4x', True), (75.0, 'plan_2x', False),
    (999.99, 'plan_3x', False), (133.33, 'plan_3x', False), (560.0, 'plan_4x', True),
]


@tagged('post_install', '-at_install')
class TestAlmaBooks(AlmaPosCommon):
    """The French chart (scripts/test installs l10n_fr_account; the add-on needs none)."""

    chart_fallback = None

    def setUp(self):
        super().setUp()
        self.standin.configure(ipn_delay=600)

    def till_sale(self, amount, plan, offered):
        line_uuid, order_uuid = str(uuid.uuid4()), str(uuid.uuid4())
        payment = self.alma_accepted(amount, line_uuid, order_uuid, plan=f'payment_alma.{plan}',
                                     fees_offered=offered)
        self.assertEqual(self.sync_alma_order(line_uuid, order_uuid, amount).state, 'paid')
        return payment

    def invoice_paid_online(self):
        """A 399 € invoice the customer paid with Alma through Odoo's payment form."""
        alma_method = self.env.ref('payment.payment_method_alma')
        alma_method.active = True
        self.alma.payment_method_ids = [Command.set(alma_method.ids)]
        invoice = self.posted_invoice()
        tx = self.env['payment.transaction'].create({
            'provider_id': self.alma.id, 'payment_method_id': alma_method.id,
            'reference': f'ALMA-BOOKS-{invoice.id}', 'amount': invoice.amount_residual,
            'currency_id': invoice.currency_id.id, 'partner_id': self.jean.id,
            'operation': 'online_redirect', 'invoice_ids': [Command.set(invoice.ids)],
        })
        tx._alma_create_payment(self.env.ref('payment_alma.plan_3x'))
        payment = self.env['alma.payment'].search([('transaction_id', '=', tx.id)])
        self.standin.pay(payment.alma_id)
        self.env['alma.payment']._cron_alma_poll_pending()
        tx._post_process()
        return invoice

    def test_the_dashboard_shows_what_alma_still_owes(self):
        """Issue 22, item 5: Alma's card on the accounting dashboard (its own bank journal) shows
        the receipts Alma still owes, until its transfer is recorded."""
        self.invoice_paid_online()
        journal = self.alma.journal_id.with_user(self.accounting_manager)
        self.assertTrue(journal.show_on_dashboard)
        card = json.loads(journal.kanban_dashboard)
        self.assertEqual(card['nb_lines_outstanding_pay_account_balance'], 1)
        self.assertIn("399", card['outstanding_pay_account_balance'])

    def test_a_month_of_traffic_reconciles_to_the_cent(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        session = self.main_pos_config.current_session_id
        till = [self.till_sale(*sale) for sale in TILL_SALES]
        session.post_closing_cash_details(0)
        session.close_session_from_ui()
        self.assertEqual(session.state, 'closed')

        # Issue 19, item 4: the Alma payment's own Refund leads to the document that books it.
        # A till sale is refunded at the till (its refund order): the button refunds nothing.
        with self.assertRaisesRegex(UserError, "refund it at the till"):
            till[0].with_user(self.accounting_manager).action_alma_refund()
        # Issue 21: nor through Odoo's Refund of its transaction (an RPC any manager may call).
        with self.assertRaisesRegex(UserError, "refund it at the till"):
            till[0].transaction_id.with_user(self.accounting_manager).action_refund(
                amount_to_refund=10.0)
        self.assertFalse(self.standin.payments[till[0].alma_id]['refunds'])
        self.assertFalse(till[0].transaction_id.child_transaction_ids)
        invoice = self.invoice_paid_online()
        # An invoice's: Odoo's credit note dialog, whose credit note is refunded through Alma.
        payment = self.env['alma.payment'].search([('invoice_id', '=', invoice.id)])
        action = payment.with_user(self.accounting_manager).action_alma_refund()
        self.assertEqual(action['res_model'], 'account.move.reversal')
        reversal = self.env['account.move.reversal'].with_context(**action['context']).create({
            'journal_id': invoice.journal_id.id, 'reason': "Acte annulé"})
        credit_note = self.env['account.move'].browse(reversal.refund_moves()['res_id'])
        credit_note.invoice_line_ids.price_unit = 150.0
        credit_note.action_post()
        credit_note.with_user(self.accounting_manager).action_alma_refund()
        self.assertIn(credit_note.payment_state, ('paid', 'in_payment'))

        # "Frais Alma": one line per sale and one negative line for the refund, to the cent.
        lines = self.env['alma.fee.line'].search([('company_id', '=', self.alma.company_id.id)])
        self.assertEqual(len(lines), len(TILL_SALES) + 2)
        self.assertEqual(lines.filtered('refund_id').gross_cents, -15000)
        for line in lines:
            self.assertEqual(line.net, round(line.gross - line.fee - line.fee_vat, 2))
        offered = [payment for payment in till if payment.fees_offered]
        self.assertTrue(all(payment.absorbed_fee_cents > 0 for payment in offered))
        sold_cents = sum(round(amount * 100) for amount, _plan, _offered in TILL_SALES) + 39900
        self.assertEqual(sum(lines.mapped('gross_cents')), sold_cents - 15000)

        # Alma's transfer of the month reaches the bank: the bookkeeper records it.
        bank = self.env['account.journal'].search([
            ('type', '=', 'bank'), ('company_id', '=', self.alma.company_id.id),
            ('id', '!=', self.alma.journal_id.id)], limit=1)
        action = lines.with_user(self.accounting_manager).action_alma_record_transfer()
        transfer = self.env['alma.transfer'].browse(action['res_id'])
        self.assertEqual(transfer.journal_id, bank)
        net_cents = sum(line.gross_cents - line.fee_cents - line.fee_vat_cents for line in lines)
        self.assertEqual(transfer.amount, net_cents / 100)
        transfer.amount_received = net_cents / 100  # As the bank statement shows it.
        transfer.with_user(self.accounting_manager).action_confirm()

        self.assertTrue(all(lines.mapped('settled')))
        outstanding = self.alma._alma_outstanding_account()
        items = self.env['account.move.line'].search([('account_id', '=', outstanding.id)])
        self.assertAlmostEqual(sum(items.mapped('balance')), 0.0, places=2)
        self.assertTrue(all(items.mapped('reconciled')), "Alma's outstanding receipts are "
                                                          "reconciled with the transfer")
        fee_account, vat_account = self.alma._alma_fee_accounts()
        self.assertTrue(fee_account.code.startswith('627'), fee_account.code)
        self.assertTrue(vat_account.code.startswith('44566'), vat_account.code)
        fees = self.env['account.move.line'].search([('account_id', '=', fee_account.id)])
        vat = self.env['account.move.line'].search([('account_id', '=', vat_account.id)])
        self.assertEqual(round(sum(fees.mapped('balance')) * 100), sum(lines.mapped('fee_cents')))
        self.assertEqual(round(sum(vat.mapped('balance')) * 100),
                         sum(lines.mapped('fee_vat_cents')))
        received = self.env['account.move.line'].search([
            ('move_id', '=', lines.transfer_move_id.id), ('account_id', '!=', outstanding.id)])
        self.assertEqual(round(received.balance * 100), net_cents)
        self.assertEqual(lines.transfer_move_id.date, max(lines.mapped('payout_date')))
        self.log_the_month(lines, net_cents)

    # === Alma's transfer settles exactly what it pays (issues 18.1, 23.1 and 23.2) === #

    def two_till_sales_and_an_open_receipt(self):
        """Two till sales of a closed session, and an invoice paid online the same day that
        Alma's transfer does not pay (yet): its receipt waits on Alma's outstanding receipts."""
        self.main_pos_config.with_user(self.pos_user).open_ui()
        session = self.main_pos_config.current_session_id
        sales = self.till_sale(399.0, 'plan_3x', False) | self.till_sale(120.5, 'plan_2x', False)
        session.post_closing_cash_details(0)
        session.close_session_from_ui()
        self.assertEqual(session.state, 'closed')
        invoice = self.invoice_paid_online()
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        lines = self.env['alma.fee.line'].search([('alma_payment_id', 'in', sales.ids)])
        self.assertEqual(len(lines), 2)
        return lines, invoice

    def record_transfer(self, lines):
        """The bookkeeper (only Community's accounting administrator group) records it, with
        the amount of the bank statement: the lines' net."""
        bookkeeper = self.accounting_manager
        action = lines.with_user(bookkeeper).action_alma_record_transfer()
        transfer = self.env['alma.transfer'].with_user(bookkeeper).browse(action['res_id'])
        self.assertEqual(transfer.date, max(lines.mapped('payout_date')),
                         "the dialog proposes the lines' expected payout date")
        self.assertNotEqual(transfer.date, fields.Date.context_today(lines))
        net_cents = sum(line.gross_cents - line.fee_cents - line.fee_vat_cents for line in lines)
        self.assertEqual(transfer.amount, from_cents(net_cents), "the net it expects")
        transfer.amount_received = from_cents(net_cents)
        self.assertFalse(transfer.difference_note)
        transfer.action_confirm()
        return transfer, net_cents

    def assert_settles_exactly_its_lines(self, lines, invoice, net_cents, bank_account):
        outstanding = self.alma._alma_outstanding_account()
        items = self.env['account.move.line'].search([('account_id', '=', outstanding.id)])
        session_payment = self.env['account.payment'].search([
            ('pos_session_id', '!=', False),
            ('pos_payment_method_id', '=', self.alma_pos_method.id)])
        sales_items = session_payment.move_id.line_ids & items
        fee_items = lines.move_id.line_ids & items
        self.assertEqual(len(sales_items), 1)
        self.assertEqual(len(fee_items), 2)
        self.assertTrue(all((sales_items | fee_items).mapped('reconciled')),
                        "the two sales and their fees are reconciled with the transfer")
        transfer_item = lines.transfer_move_id.line_ids & items
        self.assertTrue(transfer_item.reconciled)
        self.assertEqual(round(-transfer_item.balance * 100), net_cents)
        other = invoice.transaction_ids.payment_id.move_id.line_ids & items
        self.assertEqual(len(other), 1)
        self.assertFalse(other.reconciled, "the invoice paid online, not in this transfer, "
                                           "is still owed by Alma")
        self.assertEqual(other.amount_residual, 399.0)
        self.assertEqual(round(sum(items.mapped('amount_residual')), 2), 399.0)
        received = lines.transfer_move_id.line_ids - transfer_item
        self.assertEqual(received.account_id, bank_account)
        self.assertEqual(round(received.balance * 100), net_cents,
                         "the bank's outstanding receipts hold the net")
        self.assertTrue(all(lines.mapped('settled')))

    def bank(self):
        return self.env['account.journal'].search([
            ('type', '=', 'bank'), ('company_id', '=', self.alma.company_id.id),
            ('id', '!=', self.alma.journal_id.id)], limit=1)

    def test_transfer_on_a_bank_journal_with_an_outstanding_account(self):
        receipts = self.env['account.account'].create({
            'name': "Encaissements en attente Banque", 'code': '511900',
            'account_type': 'asset_current', 'reconcile': True,
        })
        self.bank().inbound_payment_method_line_ids.payment_account_id = receipts
        lines, invoice = self.two_till_sales_and_an_open_receipt()
        _transfer, net_cents = self.record_transfer(lines)
        self.assert_settles_exactly_its_lines(lines, invoice, net_cents, receipts)

    def test_transfer_on_a_bank_journal_without_an_outstanding_account(self):
        """The clinic's ordinary bank journal (the French chart's): Odoo 18 books a receipt
        there on the chart's outstanding receipts."""
        # Odoo's test company gives its bank an outstanding account; the clinic's has none.
        self.bank().inbound_payment_method_line_ids.payment_account_id = False
        chart = self.env['account.chart.template'].with_company(self.alma.company_id)
        receipts = chart.ref('account_journal_payment_debit_account_id')
        lines, invoice = self.two_till_sales_and_an_open_receipt()
        _transfer, net_cents = self.record_transfer(lines)
        self.assert_settles_exactly_its_lines(lines, invoice, net_cents, receipts)

    def test_a_difference_is_named_and_nothing_is_posted(self):
        lines, _invoice = self.two_till_sales_and_an_open_receipt()
        first = lines.sorted('gross_cents')[-1]
        action = lines.with_user(self.accounting_manager).action_alma_record_transfer()
        transfer = self.env['alma.transfer'].with_user(self.accounting_manager).browse(
            action['res_id'])
        with self.assertRaisesRegex(UserError, "amount of Alma's transfer as the bank"):
            transfer.action_confirm()
        transfer.amount_received = first.net  # Alma paid only the first sale.
        difference = first.net - transfer.amount
        self.assertAlmostEqual(transfer.difference, difference)
        self.assertIn(self.env.company.currency_id.format(difference), transfer.difference_note)
        self.assertIn(self.env.company.currency_id.format(transfer.amount),
                      transfer.difference_note)
        with self.assertRaisesRegex(UserError, "a difference of"):
            transfer.action_confirm()
        self.assertFalse(lines.transfer_move_id)
        self.assertFalse(any(lines.mapped('settled')), "nothing posted")
        # The bookkeeper takes the other sale out: the transfer pays the first one only.
        transfer.line_ids = first
        self.assertFalse(transfer.difference_note)
        transfer.action_confirm()
        self.assertEqual(lines.mapped('settled'), [line == first for line in lines])

    def test_a_recorded_transfer_keeps_its_lines_settled(self):
        lines, _invoice = self.two_till_sales_and_an_open_receipt()
        self.record_transfer(lines)
        with self.assertRaisesRegex(UserError, "transfer of .* is recorded"):
            lines[:1].with_user(self.accounting_manager).action_toggle_settled()
        self.assertTrue(all(lines.mapped('settled')))
        self.assertTrue(all(lines.move_id.line_ids.filtered('account_id.reconcile')
                            .mapped('reconciled')))

    def log_the_month(self, lines, net_cents):
        """The month as the README shows it (copied from this log), its columns adding up."""
        sales = lines.filtered(lambda line: not line.refund_id)
        groups = [
            ("12 ventes au comptoir (dont 3 frais offerts)",
             sales.filtered(lambda line: line.alma_payment_id.pos_payment_uuid)),
            ("1 facture payée en ligne", sales.filtered(
                lambda line: not line.alma_payment_id.pos_payment_uuid)),
            ("1 avoir remboursé par Alma (partiel)", lines.filtered('refund_id')),
        ]
        rows, totals = [], [0, 0, 0, 0]
        for label, group in groups:
            figures = [sum(group.mapped('gross_cents')), sum(group.mapped('fee_cents')),
                       sum(group.mapped('fee_vat_cents'))]
            figures.append(figures[0] - figures[1] - figures[2])
            totals = [total + figure for total, figure in zip(totals, figures, strict=True)]
            rows.append((label, *figures))
        self.assertEqual(totals[3], net_cents, "The lines' net is what Alma transfers")
        offered = sum(lines.mapped('absorbed_fee_cents'))
        table = ["| | Brut | Frais Alma HT (627) | TVA (44566) | Net |", "|---|--:|--:|--:|--:|"]
        table += [" | ".join(["", label, *map(euros, figures), ""]).strip()
                  for label, *figures in rows]
        gross, fee, vat, net = map(euros, totals)
        table.append(f"| **Virement d'Alma reçu** | {gross} | {fee} | {vat} | **{net}** |")
        _logger.info("The month of tests/test_books.py (offered fees: %s):\n%s",
                     euros(offered), "\n".join(table))


def euros(cents):
    """12345 -> "123,45 €", as the French clinic reads it."""
    return f"{from_cents(cents):,.2f} €".replace(",", "\u202f").replace(".", ",")
