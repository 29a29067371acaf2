"""Issue 11, items 4 and 5: a French clinic's month with Alma, reconciled to the cent."""
import logging
import uuid

from odoo import Command, fields
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
        self.assertFalse(tx._alma_create_payment(self.env.ref('payment_alma.plan_3x')).get(
            'error'))
        payment = self.env['alma.payment'].search([('transaction_reference', '=', tx.reference)])
        self.standin.pay(payment.alma_id)
        self.env['alma.payment']._cron_alma_poll_pending()
        tx._post_process()
        return invoice

    def test_a_month_of_traffic_reconciles_to_the_cent(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        session = self.main_pos_config.current_session_id
        till = [self.till_sale(*sale) for sale in TILL_SALES]
        session.post_closing_cash_details(0)
        session.close_session_from_ui()
        self.assertEqual(session.state, 'closed')

        invoice = self.invoice_paid_online()
        reversal = self.env['account.move.reversal'].with_context(
            active_model='account.move', active_ids=invoice.ids).create({
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
        self.assertEqual(lines.transfer_move_id.date, fields.Date.context_today(lines))
        self.log_the_month(lines, net_cents)

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
