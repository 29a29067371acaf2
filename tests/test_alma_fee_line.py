import base64
import io
import uuid
from datetime import timedelta

import openpyxl

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.payment_alma.tests.common import AlmaPosCommon

CSV_HEADER = ("Date de création (Europe/Paris),Montant brut,Frais Alma,Montant net,"
              "TVA sur les frais,Nombre d'échéances,Nom du client,Email du client,"
              "ID de la transaction de solde,ID du paiement,ID du remboursement,Colonne future\n")


@tagged('post_install', '-at_install')
class TestAlmaFeeLine(AlmaPosCommon):
    """The "Frais Alma" grid: a line per accepted payment, settled by bookkeepers, exact entries."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bookkeeper = cls.env['res.users'].create({
            'name': "Bookkeeper", 'login': 'alma_bookkeeper',
            'company_id': cls.alma.company_id.id, 'company_ids': cls.alma.company_id.ids,
            'groups_id': [(6, 0, cls.env.ref('account.group_account_user').ids)],
        })

    def setUp(self):
        super().setUp()
        self.standin.configure(ipn_delay=600)

    def accepted_payment(self, price=39900, merchant_fee=1157, vat=231, customer_fee=0):
        purchase = price
        # sudo: Alma payments are read-only for everyone but the add-on (issue 19, 13).
        payment = self.env['alma.payment'].sudo().create({
            'provider_id': self.alma.id,
            'currency_id': self.alma.company_id.currency_id.id,
            'plan_id': self.env.ref('payment_alma.plan_3x').id,
            'partner_id': self.jean.id,
            'contact_id': self.jean.id,
            'alma_id': f'payment_test{self.env["alma.payment"].search_count([])}',
            'state': 'waiting',
            'price_cents': price,
            'purchase_amount_cents': purchase,
            'customer_fee_cents': customer_fee,
            'merchant_fee_cents': merchant_fee,
            'merchant_fee_vat_cents': vat,
            'pos_order_name': "Order 00001-001-0001",
        })
        payment._alma_apply({'state': 'in_progress', 'purchase_amount': purchase}, source='test')
        self.assertEqual(payment.state, 'accepted')
        return payment.sudo(False)

    def line_of(self, payment):
        return self.env['alma.fee.line'].search([('alma_payment_id', '=', payment.id)])

    # === Amounts === #

    def test_one_line_per_accepted_payment(self):
        payment = self.accepted_payment()
        payment._alma_on_state_change()  # A second notification adds nothing.
        line = self.line_of(payment)
        self.assertEqual(len(line), 1)
        self.assertEqual((line.gross, line.fee, line.fee_vat, line.fee_total, line.net),
                         (399.0, 11.57, 2.31, 13.88, 385.12))
        self.assertEqual(line.gross_cents - line.fee_cents - line.fee_vat_cents, 38512)
        self.assertEqual(line.payout_date, line.date + timedelta(days=7))
        self.assertEqual(line.origin, "Order 00001-001-0001")
        self.assertFalse(line.settled)

    def offered_payment(self):
        """399 € in 4x at the till, the customer's fees offered (merchant_covers_all_fees)."""
        return self.alma_accepted(399.0, str(uuid.uuid4()), str(uuid.uuid4()),
                                  plan='payment_alma.plan_4x', fees_offered=True)

    def test_offered_fees_count_as_clinic_fees(self):
        # 4x at 399 €, customer's fees offered: Alma finances the whole 399 € and charges the
        # clinic its 3.30 % and the customer's 1.45 %: 13.17 € + 5.79 € = 18.96 €, as its
        # payment says (`fees.merchant`, VAT apart).
        payment = self.offered_payment()
        remote = self.standin.payments[payment.alma_id]
        self.assertEqual((remote['purchase_amount'], remote['customer_fee']), (39900, 0))
        self.assertEqual(payment.merchant_fee_source, 'alma')
        line = self.line_of(payment)
        self.assertEqual((line.gross_cents, line.customer_fee_cents, line.fee_cents,
                          line.fee_vat_cents, line.absorbed_fee_cents),
                         (39900, 0, remote['fees']['merchant']['total_excluding_tax'],
                          remote['fees']['merchant']['tax'], 579))
        self.assertEqual(line.fee_cents, 1317 + 579)
        self.assertEqual(line.net, 376.25)
        self.assertEqual(payment.clinic_fee_total, 22.75)

    def test_cash_in_delay_from_the_provider(self):
        self.alma.alma_cash_in_delay = 3
        line = self.line_of(self.accepted_payment())
        self.assertEqual(line.payout_date, line.date + timedelta(days=3))

    def test_refund_is_a_negative_line(self):
        payment = self.accepted_payment(price=12000, merchant_fee=348, vat=70)
        refund = self.env['alma.fee.line']._alma_create_for_refund(payment, 'refund_1', 5000)
        self.assertEqual((refund.gross, refund.fee, refund.net), (-50.0, 0.0, -50.0))
        lines = self.line_of(payment)
        self.assertEqual(round(sum(lines.mapped('net')), 2), 120.0 - 3.48 - 0.70 - 50.0)

    def paid_through_alma(self):
        """A 399 € sale really sent to Alma (the stand-in), paid, and learnt by the cron."""
        answer = self.alma_pos_method.with_user(self.pos_user).alma_send({
            'pos_payment_uuid': str(uuid.uuid4()), 'pos_order_uuid': str(uuid.uuid4()),
            'amount': 399.0, 'contact_id': self.jean.id, 'partner_id': self.jean.id,
            'plan_id': self.env.ref('payment_alma.plan_3x').id, 'send_mode': 'link',
        })
        payment = self.env['alma.payment'].browse(answer['payment']['id'])
        self.standin.pay(payment.alma_id)
        self.env['alma.payment']._cron_alma_poll_pending()
        self.env.invalidate_all()  # The cron commits in transactions of its own.
        return payment.sudo(False)

    def test_refund_through_alma(self):
        payment = self.paid_through_alma()
        payment.with_user(self.accounting_manager).action_alma_refund()
        self.env.invalidate_all()
        with self.assertRaisesRegex(UserError, "already fully refunded"):
            payment.action_alma_refund()
        refund = self.line_of(payment).filtered('refund_id')
        self.assertEqual(len(refund), 1)
        self.assertEqual((refund.gross, refund.net), (-399.0, -399.0))
        self.assertEqual(self.standin.payments[payment.alma_id]['amount_already_refunded'], 39900)

    # === Settlement and entries === #

    def test_settle_posts_the_fee_entry_and_unsettle_reverses_it(self):
        line = self.line_of(self.accepted_payment()).with_user(self.bookkeeper)
        line.action_toggle_settled()
        self.assertTrue(line.settled)
        self.assertEqual(line.settled_by_id, self.bookkeeper)
        move = line.move_id
        self.assertEqual(move.state, 'posted')
        self.assertEqual(move.journal_id, self.alma.journal_id)
        debits = {ml.account_id: ml.debit for ml in move.line_ids if ml.debit}
        fee_account, vat_account = self.alma._alma_fee_accounts()
        self.assertEqual(debits, {fee_account: 11.57, vat_account: 2.31})
        outstanding = move.line_ids.filtered(
            lambda move_line: move_line.account_id == self.alma._alma_outstanding_account())
        self.assertEqual(outstanding.credit, 13.88)

        line.action_toggle_settled()
        self.assertFalse(line.settled)
        self.assertFalse(line.move_id)
        self.assertTrue(move.reversal_move_ids)
        self.assertEqual(move.reversal_move_ids.state, 'posted')

    def test_double_click_says_what_it_did(self):
        """Issue 18.10: settling a line by double-click gives a message (Community's accounting
        administrator, no hidden group)."""
        line = self.line_of(self.accepted_payment()).with_user(self.accounting_manager)
        action = line.action_toggle_settled()
        self.assertTrue(line.settled)
        self.assertEqual(action['tag'], 'display_notification')
        self.assertEqual(action['params']['message'],
                         "Transfer received marked for Order 00001-001-0001.")
        action = line.action_toggle_settled()
        self.assertFalse(line.settled)
        self.assertEqual(action['params']['message'],
                         "Transfer marked as not received for Order 00001-001-0001.")

    def test_net_payout_reconciles_exactly(self):
        payment = self.accepted_payment()
        line = self.line_of(payment)
        outstanding = self.alma._alma_outstanding_account()
        receivable = self.jean.property_account_receivable_id
        journal = self.alma.journal_id
        # What the till's session puts on Alma's account: the price.
        receipt = self.env['account.move'].create({
            'journal_id': journal.id, 'line_ids': [
                (0, 0, {'account_id': outstanding.id, 'debit': 399.0}),
                (0, 0, {'account_id': receivable.id, 'credit': 399.0}),
            ]})
        receipt.action_post()
        line.with_user(self.bookkeeper).action_toggle_settled()
        # Alma's transfer, on the bank statement: the net.
        payout = self.env['account.move'].create({
            'journal_id': journal.id, 'line_ids': [
                (0, 0, {'account_id': journal.default_account_id.id, 'debit': line.net}),
                (0, 0, {'account_id': outstanding.id, 'credit': line.net}),
            ]})
        payout.action_post()
        to_match = (receipt | line.move_id | payout).line_ids.filtered(
            lambda move_line: move_line.account_id == outstanding)
        to_match.reconcile()
        self.assertTrue(all(to_match.mapped('reconciled')))

    def test_a_billing_administrator_settles_too(self):
        # Odoo Community's accountants are "Billing Administrators", not "bookkeepers".
        administrator = self.env['res.users'].create({
            'name': "Billing administrator", 'login': 'alma_billing_admin',
            'company_id': self.alma.company_id.id, 'company_ids': self.alma.company_id.ids,
            'groups_id': [(6, 0, self.env.ref('account.group_account_manager').ids)],
        })
        line = self.line_of(self.accepted_payment()).with_user(administrator)
        line.action_toggle_settled()
        self.assertTrue(line.settled)

    def test_bulk_mark_as_settled(self):
        lines = self.line_of(self.accepted_payment()) | self.line_of(self.accepted_payment())
        lines.with_user(self.bookkeeper).action_mark_settled()
        self.assertEqual(lines.mapped('settled'), [True, True])

    # === Rights === #

    def test_rights(self):
        line = self.line_of(self.accepted_payment())
        with self.assertRaises(AccessError):
            line.with_user(self.pos_user).read(['gross'])
        with self.assertRaises(AccessError):
            line.with_user(self.bookkeeper).unlink()
        with self.assertRaises(AccessError):
            line.with_user(self.bookkeeper).write({'fee_cents': 0})
        with self.assertRaises(UserError):
            line.with_user(self.pos_user).action_toggle_settled()

    def test_only_a_bookkeeper_of_its_company_records_alma_transfer(self):
        """Alma's transfer books entries as superuser: the dialog's lines and bank come from
        the browser, so a cashier, another company's bookkeeper or another company's bank get
        nothing booked."""
        lines = self.line_of(self.accepted_payment()) | self.line_of(self.accepted_payment())
        with self.assertRaises(UserError):
            lines.with_user(self.pos_user).action_alma_record_transfer()

        other = self.setup_other_company(name="Autre clinique")
        other_bank = other['default_journal_bank']
        stranger = self.env['res.users'].create({
            'name': "Autre comptable", 'login': 'alma_other_bookkeeper',
            'company_id': other['company'].id, 'company_ids': other['company'].ids,
            'groups_id': [(6, 0, self.env.ref('account.group_account_user').ids)],
        })
        with self.assertRaises(AccessError):
            lines.with_user(stranger).action_alma_record_transfer()
        with self.assertRaises(AccessError):
            self.env['alma.transfer'].with_user(stranger).create({
                'line_ids': [(6, 0, lines.ids)], 'company_id': other['company'].id,
                'currency_id': lines.currency_id.id, 'journal_id': other_bank.id,
            }).action_confirm()

        # Our own bookkeeper, with another company's bank typed into the dialog.
        action = lines.with_user(self.bookkeeper).action_alma_record_transfer()
        transfer = self.env['alma.transfer'].with_user(self.bookkeeper).browse(action['res_id'])
        transfer.sudo().write({'company_id': other['company'].id, 'journal_id': other_bank.id,
                               'amount_received': transfer.amount})
        with self.assertRaisesRegex(UserError, "Choose a bank account of"):
            transfer.action_confirm()

        self.env.invalidate_all()
        self.assertFalse(any(lines.mapped('settled')))
        self.assertFalse(lines.transfer_move_id)
        self.assertFalse(self.env['account.move'].search([('ref', 'like', 'Alma transfer')]))

    # === Export === #

    def test_xlsx_export_in_french(self):
        self.line_of(self.accepted_payment())
        self.env['res.lang']._activate_lang('fr_FR')
        self.env['ir.module.module']._load_module_terms(['payment_alma'], ['fr_FR'])
        lines = self.env['alma.fee.line'].with_context(lang='fr_FR').search([])
        action = lines.action_export_xlsx()
        attachment_id = int(action['url'].split('/')[3].split('?')[0])
        attachment = self.env['ir.attachment'].browse(attachment_id)
        self.assertTrue(attachment.raw.startswith(b'PK'))
        headers = lines.fields_get(['gross', 'fee_vat'], ['string'])
        self.assertEqual(headers['fee_vat']['string'], "TVA sur les frais")

    def test_xlsx_dates_are_the_bookkeepers_days(self):
        """Settled at 00:30 in Paris on 5 December is the 5th, not UTC's 4th (issue 18.10)."""
        line = self.line_of(self.accepted_payment())
        line.sudo().settled_date = '2026-12-04 23:30:00'  # Read-only but for the add-on.
        book = openpyxl.load_workbook(io.BytesIO(
            line.with_context(tz='Europe/Paris')._alma_xlsx()))
        sheet = book.active
        headers = [cell.value for cell in sheet[1]]
        settled_on = sheet.cell(row=2, column=headers.index("Settled Date") + 1).value
        self.assertEqual(settled_on.date(), fields.Date.to_date('2026-12-05'))

    # === Matching Alma's own figures === #

    def import_csv(self, content, encoding='utf-8'):
        wizard = self.env['alma.fee.import'].create({
            'file': base64.b64encode(content.encode(encoding) if isinstance(content, str)
                                     else content),
            'filename': 'alma.csv',
        })
        return wizard.action_import()

    def csv_row(self, payment, fee, refund=''):
        return (f"2026-11-23 10:00:00,{payment.price_cents},{fee},{payment.price_cents - fee},"
                f"{round(fee * 0.2)},3,Jean Martin,jean.martin@example.com,bt_1,"
                f"{payment.alma_id},{refund},x\n")

    def test_import_marks_differences_and_is_idempotent(self):
        same, other = self.accepted_payment(), self.accepted_payment()
        content = CSV_HEADER + self.csv_row(same, 1157) + self.csv_row(other, 1200)
        content += "2026-11-23 10:00:00,5000,100,4900,20,3,X,x@example.com,bt_2,payment_else,,\n"
        result = self.import_csv(content)
        self.assertIn("Lines matched: 2. Updated: 2. With a fee that differs from the expected "
                      "one: 1.", result['params']['message'])
        self.assertIn("Unknown to Odoo: 1.", result['params']['message'])
        self.assertEqual(self.line_of(same).alma_fee_difference, 0)
        self.assertEqual(self.line_of(other).alma_fee_difference, 0.43)
        again = self.import_csv(content)
        self.assertIn("Updated: 0.", again['params']['message'])

    def test_import_records_the_refunds_made_on_alma_s_dashboard(self):
        """Issue 21: a refund made on Alma's dashboard reaches Odoo with Alma's figures: its
        Frais Alma line and its refund transaction, as Odoo's own refunds have."""
        payment = self.paid_through_alma()
        self.alma._alma_client().refund(payment.alma_id, amount=10000,
                                        merchant_reference='tableau-de-bord')
        [listed] = self.standin.payments[payment.alma_id]['refunds']
        content = CSV_HEADER + self.csv_row(payment, 1157) + (
            f"2026-11-24 10:00:00,-10000,0,-10000,0,3,Jean Martin,jean.martin@example.com,"
            f"bt_2,{payment.alma_id},{listed['id']},x\n")
        result = self.import_csv(content)
        self.assertIn("Lines matched: 2.", result['params']['message'])
        self.assertIn("Unknown to Odoo: 0.", result['params']['message'])
        refund = payment.refund_ids
        self.assertEqual((refund.state, refund.alma_refund_id, refund.amount_cents),
                         ('done', listed['id'], 10000))
        self.assertEqual((refund.transaction_id.source_transaction_id,
                          refund.transaction_id.state, refund.transaction_id.amount),
                         (payment.transaction_id, 'done', -100.0))
        self.assertEqual(self.env['alma.fee.line'].search([
            ('alma_payment_id', '=', payment.id), ('refund_id', '=', listed['id'])]).gross, -100.0)
        self.assertIn("Updated: 0.", self.import_csv(content)['params']['message'],
                      "imported again, nothing changes")

    def test_offered_fees_are_no_difference_and_unknown_lines_are_named(self):
        # The clinic offered the customer's 5.79 €: Alma's commission includes them, in its
        # export as in the line.
        offered = self.offered_payment()
        self.assertEqual(self.line_of(offered).fee_cents, 1317 + 579)
        content = CSV_HEADER + self.csv_row(offered, 1317 + 579)
        content += "2026-11-23 10:00:00,5000,100,4900,20,3,X,x@example.com,bt_2,payment_else,,\n"
        result = self.import_csv(content)
        self.assertEqual(self.line_of(offered).alma_fee_difference, 0)
        self.assertIn("differs from the expected one: 0.", result["params"]["message"])
        self.assertIn("Unknown to Odoo (made elsewhere, or in another company): payment_else",
                      result['params']['message'])
        self.assertEqual(result['params']['next']['tag'], 'soft_reload',
                         "the grid behind shows what was imported")

    def test_bad_files_import_nothing(self):
        payment = self.accepted_payment()
        with self.assertRaisesRegex(UserError, "empty"):
            self.import_csv('\n')
        with self.assertRaisesRegex(UserError, "not Alma's accounting export"):
            self.import_csv("date,amount\n2026-11-23,100\n")
        with self.assertRaisesRegex(UserError, "not in UTF-8"):
            self.import_csv(CSV_HEADER + self.csv_row(payment, 1157), encoding='utf-16')
        with self.assertRaisesRegex(UserError, 'line 3, column Frais Alma: "douze" is not an'):
            self.import_csv(CSV_HEADER + self.csv_row(payment, 1200)
                            + self.csv_row(payment, 1200).replace(',1200,', ',douze,'))
        self.assertFalse(self.line_of(payment).alma_fee_known, "nothing half-imported")

    def fee_row(self, payment, fee, extra_column=True):
        """A line of Alma's export whose fee cell is written as given (`fee` is the raw text)."""
        return (f"2026-11-23 10:00:00,{payment.price_cents},{fee},,,3,Jean Martin,"
                f"jean.martin@example.com,bt_1,{payment.alma_id},{',x' if extra_column else ''}\n")

    def test_import_reads_euros_and_cents_under_french_or_english_headers(self):
        first, second, third = (self.accepted_payment() for _index in range(3))
        english = ("Created at,Gross amount,Alma fee,Net amount,VAT on fee,Installments,"
                   "Customer name,Customer email,Balance transaction ID,Payment ID,Refund ID\n")
        # Decimal euros with a comma (French) or a dot (English), with or without a euro sign.
        self.import_csv(CSV_HEADER + self.fee_row(first, '"11,57"')
                        + self.fee_row(second, "12.00"))
        self.assertEqual(self.line_of(first).alma_fee_cents, 1157)
        self.assertEqual(self.line_of(second).alma_fee_cents, 1200)
        self.import_csv(english + self.fee_row(third, "11.57 €", extra_column=False))
        self.assertEqual(self.line_of(third).alma_fee_cents, 1157)
        # Whole numbers are cents, unless the header says euros.
        self.import_csv(english + self.fee_row(third, "1158", extra_column=False))
        self.assertEqual(self.line_of(third).alma_fee_cents, 1158)
        in_euros = english.replace("Alma fee", "Alma fee (EUR)")
        self.import_csv(in_euros + self.fee_row(third, "12", extra_column=False))
        self.assertEqual(self.line_of(third).alma_fee_cents, 1200)

    def test_import_names_the_line_and_column_it_cannot_read(self):
        payment = self.accepted_payment()
        for bad in ('"11,5,7"', "11.575", "1O,00", "€", "douze"):
            content = CSV_HEADER + self.fee_row(payment, 1157) + self.fee_row(payment, bad)
            with self.assertRaisesRegex(UserError, "line 3, column Frais Alma"):
                self.import_csv(content)
        in_cents = CSV_HEADER.replace("Frais Alma", "Frais Alma (centimes)")
        with self.assertRaisesRegex(
                UserError, r'line 2, column Frais Alma \(centimes\): "11,57" is not an amount'):
            self.import_csv(in_cents + self.fee_row(payment, '"11,57"'))
        self.assertFalse(self.line_of(payment).alma_fee_known, "nothing half-imported")

    def test_fetch_from_alma(self):
        payment = self.paid_through_alma()
        wizard = self.env['alma.fee.import'].create({
            'provider_id': self.alma.id,
            'date_from': fields.Date.today() - timedelta(days=1),
            'date_to': fields.Date.today(),
        })
        result = wizard.action_fetch()
        self.assertIn("Lines matched: 1. Updated: 1. With a fee that differs from the expected "
                      "one: 0.", result['params']['message'])
        self.assertEqual(self.line_of(payment).alma_fee_cents, 1157)

    # === The bookkeeper's grid, in real Chromium === #

    def test_fee_grid_tour(self):
        first, second = self.accepted_payment(), self.accepted_payment()
        self.bookkeeper.write({
            'password': 'alma_bookkeeper',
            'groups_id': [(4, self.env.ref('base.group_user').id)],
        })
        self.start_tour('/odoo', 'alma_fee_grid', login='alma_bookkeeper')
        lines = self.line_of(first) | self.line_of(second)
        self.assertEqual(sorted(lines.mapped('settled')), [False, True])
        settled = lines.filtered('settled')
        self.assertEqual(settled.settled_by_id, self.bookkeeper)
        self.assertEqual(settled.move_id.state, 'posted')
        exports = self.env['ir.attachment'].search([('name', '=like', 'Frais Alma %.xlsx')])
        self.assertEqual(len(exports), 1)
