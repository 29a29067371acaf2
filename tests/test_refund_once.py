"""Issue 19, items 3 and 4: a refund is made once whatever is clicked, and the books follow
every refund button."""
import time
import uuid
from contextlib import contextmanager
from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.tests.common import AlmaPosCommon, AlmaWebCommon


def wait_for_alma_refund(test, payment, count=1):
    """Alma finishes the refund after the add-on's client gave up (the stand-in's timeout)."""
    for _wait in range(60):
        if len(test.standin.payments[payment.alma_id]['refunds']) >= count:
            return
        time.sleep(0.1)
    test.fail("Alma never made the refund")


@tagged('post_install', '-at_install')
class TestRefundOnce(AlmaWebCommon):
    """Item 3: after Alma's answer is lost, a second click finds the refund, never makes one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bookkeeper = new_test_user(
            cls.env, login='alma_refund_once', groups='account.group_account_manager',
            company_id=cls.company.id, company_ids=cls.company.ids)
        cls.env['res.lang']._activate_lang('fr_FR')
        cls.env['ir.module.module']._load_module_terms(['payment_alma'], ['fr_FR'])

    def paid_transaction(self, amount=399.0):
        """A customer paid an invoice of `amount` with Alma through Odoo's payment form."""
        invoice = self.invoice_for(amount)
        tx = self.env['payment.transaction'].create({
            'provider_id': self.alma.id, 'payment_method_id': self.alma_method.id,
            'reference': f'INV-ONCE-{invoice.id}', 'amount': amount,
            'currency_id': invoice.currency_id.id, 'partner_id': self.jean.id,
            'operation': 'online_redirect', 'invoice_ids': [Command.set(invoice.ids)],
        })
        tx._alma_create_payment(self.env.ref('payment_alma.plan_3x'))
        payment = self.env['alma.payment'].search([('transaction_id', '=', tx.id)])
        self.customer_pays(payment.alma_id)
        self.env['alma.payment']._cron_alma_poll_pending()
        tx._post_process()
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        return invoice, tx, payment

    def credit_note(self, invoice, amount):
        reversal = self.env['account.move.reversal'].with_context(
            active_model='account.move', active_ids=invoice.ids).create({
                'journal_id': invoice.journal_id.id, 'reason': "Retour"})
        credit_note = self.env['account.move'].browse(reversal.refund_moves()['res_id'])
        credit_note.invoice_line_ids[0].price_unit = amount
        credit_note.action_post()
        return credit_note

    def refund(self, tx, amount):
        tx.with_user(self.bookkeeper).action_refund(amount_to_refund=amount)
        return tx.child_transaction_ids.sorted('id')[-1:]

    def lose_the_next_refund_answer(self, payment):
        """Alma refunds 3 s after the request; the add-on's client gives up after 0.3 s."""
        self.standin.configure(timeout_seconds=3.0)
        self.standin.fail('timeout', method='POST',
                          path_prefix=f'/v1/payments/{payment.alma_id}/refund', times=1)
        return patch.object(const, 'TIMEOUTS', (2, 0.3))

    @contextmanager
    def refused(self, pattern):
        """A refusal, rolled back as the click's request is (Odoo's `assertRaises`, unlike
        `assertRaisesRegex`, rolls back to a savepoint)."""
        with self.assertRaises(UserError) as caught:
            yield
        self.assertRegex(caught.exception.args[0], pattern)

    def refunds_asked(self, payment):
        return self.alma_requests('POST', f'/v1/payments/{payment.alma_id}/refund')

    def test_a_credit_note_is_refunded_once_whatever_is_clicked(self):
        invoice, tx, payment = self.paid_transaction()
        credit_note = self.credit_note(invoice, 150.0)
        as_bookkeeper = credit_note.with_user(self.bookkeeper)
        with self.lose_the_next_refund_answer(payment):
            action = as_bookkeeper.action_alma_refund()
        self.assertEqual(action['params']['type'], 'warning', "Alma's answer was lost")
        self.assertEqual(credit_note.payment_state, 'not_paid')
        # A second click while Alma is still refunding: said (in French), nothing sent.
        with self.refused("pas encore confirmé le remboursement"):
            as_bookkeeper.with_context(lang='fr_FR').action_alma_refund()
        self.assertEqual(self.refunds_asked(payment), 1)
        wait_for_alma_refund(self, payment)
        # A third click once Alma has refunded (as seen: 150 € then 300 € refunded): the
        # first refund is found in the payment's `refunds`, not made again.
        action = as_bookkeeper.action_alma_refund()
        self.assertEqual(action['params']['type'], 'success')
        self.assertIn("150.00", action['params']['message'])
        self.assertEqual(self.refunds_asked(payment), 1)
        alma = self.standin.payments[payment.alma_id]
        self.assertEqual((len(alma['refunds']), alma['amount_already_refunded']), (1, 15000))
        self.assertEqual(payment.amount_refunded, 150.0)
        self.assertIn(credit_note.payment_state, ('paid', 'in_payment'))
        self.assertEqual(credit_note.matched_payment_ids.mapped('amount'), [150.0])
        self.assertEqual(len(tx.child_transaction_ids), 1, "one refund transaction")
        self.assertEqual(len(self.env['alma.fee.line'].search(
            [('alma_payment_id', '=', payment.id), ('refund_id', '!=', False)])), 1)
        # Paid: a fourth click is refused without asking Alma.
        with self.refused("left to pay"):
            as_bookkeeper.action_alma_refund()
        self.assertEqual(self.refunds_asked(payment), 1)

    def test_odoo_s_refund_of_a_transaction_is_made_once(self):
        _invoice, tx, payment = self.paid_transaction()
        with self.lose_the_next_refund_answer(payment):
            first = self.refund(tx, 150.0)
        self.assertEqual(first.state, 'pending', "Alma may have refunded: not an error")
        # The same refund again while Alma is still refunding: said, nothing sent.
        with self.refused("not confirmed the refund yet"):
            self.refund(tx, 150.0)
        # Another amount of the same transaction: it waits for the first one's answer.
        with self.refused("has not yet answered the refund of"):
            self.refund(tx, 100.0)
        self.assertEqual(self.refunds_asked(payment), 1)
        self.assertEqual(tx.child_transaction_ids, first)
        self.assertEqual(payment.refund_ids.transaction_id, first)
        wait_for_alma_refund(self, payment)
        # Asked again once Alma has refunded: the first refund is found, not made again.
        self.assertEqual(self.refund(tx, 150.0), first)
        self.assertEqual(self.refunds_asked(payment), 1)
        self.assertEqual((first.state, first.payment_id.amount), ('done', 150.0))
        self.assertEqual(tx.child_transaction_ids, first)
        self.assertEqual(self.standin.payments[payment.alma_id]['amount_already_refunded'], 15000)
        self.assertEqual(payment.amount_refunded, 150.0)
        # Once the first is known to be made, another refund of the same amount is another
        # refund (the bookkeeper sees the first done).
        second = self.refund(tx, 150.0)
        self.assertNotEqual(second, first)
        self.assertEqual(second.state, 'done')
        self.assertEqual(self.refunds_asked(payment), 2)
        self.assertEqual(payment.amount_refunded, 300.0)


@tagged('post_install', '-at_install')
class TestRefundBooks(AlmaPosCommon):
    """Item 4: whatever refund button is used, Alma's outstanding receipts, the revenue and
    the VAT are right (the French chart: scripts/test installs l10n_fr_account)."""

    chart_fallback = None

    def setUp(self):
        super().setUp()
        self.standin.configure(ipn_delay=600)
        self.vat = self.alma.company_id.account_sale_tax_id
        self.assertEqual(self.vat.amount, 20.0)
        self.surgery = self.env['product.product'].create({
            'name': "Chirurgie", 'type': 'service', 'available_in_pos': True,
            'list_price': 100.0, 'taxes_id': [Command.set(self.vat.ids)]})

    def sync_taxed_order(self, qty, payments, refunded_line=None, order_uuid=None):
        """The till's order of `qty` surgeries at 100 € + VAT, paid by `payments`."""
        taxes = self.vat.compute_all(100.0, quantity=qty)
        excluded, included = taxes['total_excluded'], taxes['total_included']
        order_uuid = order_uuid or str(uuid.uuid4())
        result = self.env['pos.order'].with_user(self.pos_user).sync_from_ui([{
            'uuid': order_uuid, 'name': f"Order {order_uuid}",
            'session_id': self.main_pos_config.current_session_id.id,
            'pricelist_id': self.main_pos_config.pricelist_id.id,
            'partner_id': self.jean.id, 'user_id': self.pos_user.id, 'sequence_number': 1,
            'date_order': fields.Datetime.to_string(fields.Datetime.now()),
            'amount_paid': included, 'amount_total': included,
            'amount_tax': included - excluded, 'amount_return': 0,
            'fiscal_position_id': False, 'last_order_preparation_change': '{}',
            'to_invoice': False, 'state': 'paid',
            'lines': [(0, 0, {
                'product_id': self.surgery.id, 'qty': qty, 'price_unit': 100.0,
                'price_subtotal': excluded, 'price_subtotal_incl': included,
                'tax_ids': [Command.set(self.vat.ids)], 'pack_lot_ids': [],
                'refunded_orderline_id': refunded_line.id if refunded_line else False,
            })],
            'payment_ids': [(0, 0, {
                'uuid': line_uuid, 'amount': amount, 'name': fields.Datetime.now(),
                'payment_method_id': self.alma_pos_method.id,
            }) for amount, line_uuid in payments],
        }])
        return self.env['pos.order'].browse(result['pos.order'][0]['id'])

    def invoice_paid_online(self):
        """An invoice of a surgery (100 € + VAT) the customer paid with Alma online."""
        alma_method = self.env.ref('payment.payment_method_alma')
        alma_method.active = True
        self.alma.payment_method_ids = [Command.set(alma_method.ids)]
        invoice = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': self.jean.id,
            'invoice_line_ids': [Command.create({
                'product_id': self.surgery.id, 'price_unit': 100.0, 'quantity': 1,
                'tax_ids': [Command.set(self.vat.ids)]})],
        })
        invoice.action_post()
        tx = self.env['payment.transaction'].create({
            'provider_id': self.alma.id, 'payment_method_id': alma_method.id,
            'reference': f'ALMA-ONCE-{invoice.id}', 'amount': invoice.amount_residual,
            'currency_id': invoice.currency_id.id, 'partner_id': self.jean.id,
            'operation': 'online_redirect', 'invoice_ids': [Command.set(invoice.ids)],
        })
        tx._alma_create_payment(self.env.ref('payment_alma.plan_3x'))
        payment = self.env['alma.payment'].search([('transaction_id', '=', tx.id)])
        self.standin.pay(payment.alma_id)
        self.env['alma.payment']._cron_alma_poll_pending()
        tx._post_process()
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        return invoice, payment

    def test_every_refund_button_leaves_the_books_right(self):
        bookkeeper = self.accounting_manager
        self.main_pos_config.with_user(self.pos_user).open_ui()
        session = self.main_pos_config.current_session_id
        # A surgery (120 € with VAT) and a consultation (399 €) paid with Alma at the till.
        line_uuid, order_uuid = str(uuid.uuid4()), str(uuid.uuid4())
        surgery_payment = self.alma_accepted(120.0, line_uuid, order_uuid)
        sale = self.sync_taxed_order(1, [(120.0, line_uuid)], order_uuid=order_uuid)
        self.assertEqual((sale.state, sale.amount_total), ('paid', 120.0))
        line_uuid, order_uuid = str(uuid.uuid4()), str(uuid.uuid4())
        self.alma_accepted(399.0, line_uuid, order_uuid)
        self.sync_alma_order(line_uuid, order_uuid)

        # The Alma payment's own Refund on a till sale: sent to the till, nothing refunded.
        with self.assertRaisesRegex(UserError, "refund it at the till"):
            surgery_payment.with_user(bookkeeper).action_alma_refund()
        path = f'/v1/payments/{surgery_payment.alma_id}/refund'
        self.assertEqual(self.alma_requests('POST', path), 0)
        self.assertEqual(surgery_payment.amount_refunded, 0)
        # At the till: the refund order, paid back with Alma.
        refund_uuid = str(uuid.uuid4())
        answer = self.alma_pos_method.with_user(self.pos_user).alma_refund({
            'pos_payment_uuid': refund_uuid, 'pos_order_uuid': str(uuid.uuid4()),
            'refunded_order_id': sale.id, 'amount': -120.0, 'session_id': session.id})
        self.assertFalse(answer.get('error'), answer.get('error'))
        refund_order = self.sync_taxed_order(-1, [(-120.0, refund_uuid)],
                                             refunded_line=sale.lines)
        self.assertEqual(refund_order.state, 'paid')
        self.assertEqual(self.alma_requests('POST', path), 1)
        session.post_closing_cash_details(0)
        session.close_session_from_ui()
        self.assertEqual(session.state, 'closed')

        # The Alma payment's own Refund on an invoice: Odoo's credit note dialog.
        invoice, invoice_payment = self.invoice_paid_online()
        action = invoice_payment.with_user(bookkeeper).action_alma_refund()
        self.assertEqual(action['res_model'], 'account.move.reversal')
        self.assertEqual(self.alma_requests(
            'POST', f'/v1/payments/{invoice_payment.alma_id}/refund'), 0)
        reversal = self.env['account.move.reversal'].with_user(bookkeeper).with_context(
            **action['context']).create({'journal_id': invoice.journal_id.id,
                                         'reason': "Acte annulé"})
        credit_note = self.env['account.move'].browse(reversal.refund_moves()['res_id'])
        credit_note.action_post()
        self.assertEqual(credit_note.amount_total, 120.0)
        credit_note.with_user(bookkeeper).action_alma_refund()
        self.assertIn(credit_note.payment_state, ('paid', 'in_payment'))
        self.assertEqual(invoice_payment.amount_refunded, 120.0)

        # Alma's transfer: the two sales and the invoice, less the two refunds and the fees.
        company = self.alma.company_id
        lines = self.env['alma.fee.line'].search([('company_id', '=', company.id)])
        self.assertEqual(len(lines), 5)
        net_cents = sum(line.gross_cents - line.fee_cents - line.fee_vat_cents for line in lines)
        action = lines.with_user(bookkeeper).action_alma_record_transfer()
        transfer = self.env['alma.transfer'].with_user(bookkeeper).browse(action['res_id'])
        transfer.amount_received = net_cents / 100
        transfer.action_confirm()

        outstanding = self.alma._alma_outstanding_account()
        items = self.env['account.move.line'].search([('account_id', '=', outstanding.id)])
        self.assertAlmostEqual(sum(items.mapped('balance')), 0.0, places=2)
        self.assertTrue(all(items.mapped('reconciled')),
                        "nothing left open on Alma's outstanding receipts")
        posted = [('company_id', '=', company.id), ('parent_state', '=', 'posted')]
        vat_items = self.env['account.move.line'].search([*posted, ('tax_line_id', '=',
                                                                    self.vat.id)])
        self.assertTrue(vat_items, "the sales' VAT was booked")
        self.assertAlmostEqual(sum(vat_items.mapped('balance')), 0.0, places=2,
                               msg="the refunded sales' VAT is taken back")
        taxed = self.env['account.move.line'].search([*posted, ('tax_ids', 'in', self.vat.ids)])
        self.assertAlmostEqual(sum(taxed.mapped('balance')), 0.0, places=2,
                               msg="the refunded sales' revenue is taken back")
        revenue = self.env['account.move.line'].search(
            [*posted, ('account_id.account_type', '=', 'income')])
        self.assertAlmostEqual(sum(revenue.mapped('balance')), -399.0, places=2,
                               msg="only the consultation's revenue stays")
