"""Issue 11, item 1: at the counter, a refund order's Alma line refunds the sale's Alma payment."""
import time
import uuid
from unittest.mock import patch

from odoo.exceptions import AccessDenied, AccessError, UserError
from odoo.tests import tagged

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.tests.common import AlmaPosCommon


@tagged('post_install', '-at_install')
class TestPosRefunds(AlmaPosCommon):
    """The till's refund calls, without a browser (the cashier's refunds in Chromium are a
    journey of the clinic: `test_journeys.TestClinicTillRefunds`).

    In a world of its own: it needs what the clinic does not have, another company and its
    cashier, a second point of sale, a user without Point of Sale rights, and 30 € vaccines
    whose shares of fees offered are checked to the cent.
    """

    def setUp(self):
        super().setUp()
        self.standin.configure(ipn_delay=600)
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.session = self.main_pos_config.current_session_id
        self.method = self.alma_pos_method.with_user(self.pos_user)

    # === Helpers === #

    def alma_sale(self, vaccines=4, alma=90.0, cash=30.0, **kwargs):
        """Vaccines at 30 € sold at the till, paid `alma` with Alma and `cash` in cash."""
        order_uuid, line_uuid = str(uuid.uuid4()), str(uuid.uuid4())
        payment = self.alma_accepted(alma, line_uuid, order_uuid, **kwargs)
        payments = [(self.alma_pos_method, alma, line_uuid)]
        if cash:
            payments.append((self.cash_method, cash, str(uuid.uuid4())))
        sale = self.sync_pos_order([(self.vaccine, vaccines, 30.0, None)], payments,
                                   order_uuid=order_uuid)
        self.assertEqual(sale.state, 'paid')
        self.assertEqual(payment.pos_payment_id.pos_order_id, sale)
        return sale, payment

    def values(self, sale, amount, line_uuid=None, **overrides):
        return {
            'pos_payment_uuid': line_uuid or str(uuid.uuid4()),
            'pos_order_uuid': str(uuid.uuid4()),
            'refunded_order_id': sale.id,
            'amount': -amount,
            'session_id': self.session.id,
            **overrides,
        }

    def refund_order(self, sale, vaccines, payments):
        """The till's refund order of `vaccines` of `sale`, paid by `payments`."""
        return self.sync_pos_order(
            [(self.vaccine, -vaccines, 30.0, sale.lines[0])],
            [(method, -amount, line_uuid) for method, amount, line_uuid in payments])

    def alma_refunds(self, payment):
        return self.alma_requests('POST', f'/v1/payments/{payment.alma_id}/refund')

    # === Partial refunds add up to what Alma took, then stop === #

    def test_partial_then_the_remainder_then_refused(self):
        sale, payment = self.alma_sale()
        # A first refund: one vaccine, through Alma.
        first = self.values(sale, 30.0)
        preview = self.method.alma_refund_preview(first)
        self.assertEqual((preview['amount'], preview['alma_amount'], preview['problem']),
                         (30.0, 30.0, ''))
        self.assertEqual(preview['payment']['alma_id'], payment.alma_id)
        self.assertEqual((preview['payment']['refunded'], preview['payment']['left']), (0, 90.0))
        answer = self.method.alma_refund(first)
        self.assertFalse(answer.get('error'), answer.get('error'))
        self.assertEqual((answer['refund']['state'], answer['refund']['amount']), ('done', 30.0))
        self.assertIn("30.00", answer['refund']['receipt_text'])
        # Each line fits the width of a till's ticket (42 characters), Alma's id included.
        receipt = answer['refund']['receipt_text'].splitlines()
        self.assertIn(payment.alma_id, receipt)
        self.assertLessEqual(max(map(len, receipt)), 42, receipt)
        self.assertEqual((payment.refund_state, payment.amount_refunded), ('partial', 30.0))
        refund_order = self.refund_order(sale, 1, [(self.alma_pos_method, 30.0,
                                                    first['pos_payment_uuid'])])
        self.assertEqual(refund_order.state, 'paid')
        line = refund_order.payment_ids
        self.assertEqual(payment.refund_ids.pos_payment_id, line)
        self.assertEqual(line.transaction_id, payment.refund_ids.alma_refund_id)
        self.assertEqual((sale.alma_refund_state, sale.alma_amount_refunded), ('partial', 30.0))

        # Beyond what is left: refused, with the amounts.
        too_much = self.method.alma_refund(self.values(sale, 70.0))
        self.assertIn("Only 60.00", too_much['error'])
        self.assertIn("70.00", too_much['error'])
        self.assertEqual(self.alma_refunds(payment), 1)

        # A second one, up to the remainder.
        second = self.values(sale, 60.0)
        self.assertEqual(self.method.alma_refund(second)['refund']['state'], 'done')
        self.refund_order(sale, 2, [(self.alma_pos_method, 60.0, second['pos_payment_uuid'])])
        self.assertEqual((payment.refund_state, payment.amount_refunded), ('full', 90.0))
        sale.invalidate_recordset()
        self.assertEqual((sale.alma_refund_state, sale.alma_amount_refunded), ('full', 90.0))
        self.assertEqual([refund['amount'] for refund in
                          self.standin.payments[payment.alma_id]['refunds']], [3000, 6000])

        # A third one: nothing is left, the dialog says so and Alma is not asked.
        third = self.values(sale, 30.0)
        problem = self.method.alma_refund_preview(third)['problem']
        self.assertRegex(problem, r"already fully refunded \(90\.00\W+of 90\.00")
        self.assertIn("already fully refunded", self.method.alma_refund(third)['error'])
        self.assertEqual(self.alma_refunds(payment), 2)

    def test_the_till_s_payment_and_refund_are_transactions_booked_once(self):
        """Issue 21: a till's Alma payment and its refund are Odoo transactions that follow
        Alma; the till's session books their money, and Odoo's post-processing of transactions
        books nothing more (the Alma journal would take it twice)."""
        sale, payment = self.alma_sale(vaccines=3, cash=0)
        values = self.values(sale, 30.0)
        self.assertEqual(self.method.alma_refund(values)['refund']['state'], 'done')
        self.refund_order(sale, 1, [(self.alma_pos_method, 30.0, values['pos_payment_uuid'])])
        tx, refund_tx = payment.transaction_id, payment.refund_ids.transaction_id
        self.assertEqual((tx.state, tx.amount, tx.provider_reference, tx.partner_id),
                         ('done', 90.0, payment.alma_id, payment.partner_id))
        self.assertEqual((refund_tx.state, refund_tx.amount, refund_tx.source_transaction_id),
                         ('done', -30.0, tx))
        (tx | refund_tx)._post_process()  # As Odoo's cron does for every done transaction.
        self.assertFalse((tx | refund_tx).payment_id)
        self.session.post_closing_cash_details(0)
        self.session.close_session_from_ui()
        self.assertEqual(self.session.state, 'closed')
        receipts = self.env['account.move.line'].search([
            ('account_id', '=', self.alma._alma_outstanding_account().id),
            ('parent_state', '=', 'posted')])
        self.assertEqual(round(sum(receipts.mapped('balance')), 2), 60.0,
                         "the session's 90 € sale and 30 € refund, once")

    def test_an_order_not_paid_with_alma_is_refused(self):
        sale = self.sync_pos_order([(self.consultation, 1, 399.0, None)],
                                   [(self.cash_method, 399.0, str(uuid.uuid4()))])
        for rpc in (self.method.alma_refund_preview, self.method.alma_refund):
            with self.assertRaisesRegex(UserError, r"not paid with Alma \(Cash\).*payment method"):
                rpc(self.values(sale, 399.0))
        self.assertFalse(self.env['alma.refund'].search([]))
        self.assertFalse([r for r in self.standin.requests if r[1].endswith('/refund')])

    def test_a_refund_without_a_sale_or_positive_is_refused(self):
        sale, payment = self.alma_sale()
        with self.assertRaisesRegex(UserError, "refunds no sale"):
            self.method.alma_refund(self.values(sale, 30.0, refunded_order_id=False))
        with self.assertRaisesRegex(UserError, "negative line"):
            self.method.alma_refund(self.values(sale, -30.0))
        self.assertEqual(self.alma_refunds(payment), 0)

    # === One refund per line, whatever the retries === #

    def test_the_same_line_twice_refunds_once(self):
        sale, payment = self.alma_sale()
        values = self.values(sale, 30.0)
        first = self.method.alma_refund(values)
        again = self.method.alma_refund(values)
        self.assertEqual(first['refund']['reference'], again['refund']['reference'])
        self.assertEqual(again['refund']['state'], 'done')
        # After a reload, the till finds it again by the line's uuid, and does not ask again.
        preview = self.method.alma_refund_preview(values)
        self.assertEqual(preview['refund']['state'], 'done')
        status = self.method.alma_get_refund_status(values['pos_payment_uuid'])
        self.assertEqual(status['refund']['reference'], first['refund']['reference'])
        self.assertEqual(self.alma_refunds(payment), 1)
        self.assertEqual(len(payment.refund_ids), 1)
        self.assertEqual(payment.amount_refunded, 30.0)
        # The same line with another amount is not a second refund.
        with self.assertRaisesRegex(UserError, "already refunded 30.00"):
            self.method.alma_refund({**values, 'amount': -60.0})
        self.assertEqual(self.alma_refunds(payment), 1)

    def test_a_lost_answer_waits_then_the_cron_finds_it(self):
        sale, payment = self.alma_sale()
        self.standin.configure(timeout_seconds=1.0)
        self.standin.fail('timeout', method='POST', path_prefix='/v1/payments/', times=1)
        values = self.values(sale, 30.0)
        with patch.object(const, 'TIMEOUTS', (2, 0.3)):
            answer = self.method.alma_refund(values)
        self.assertEqual(answer['refund']['state'], 'asked')
        self.assertIn("not confirmed", answer['error'])
        refund_line = (self.alma_pos_method, 30.0, values['pos_payment_uuid'])
        with self.assertRaisesRegex(UserError, "not confirmed the refund yet"):
            self.refund_order(sale, 1, [refund_line])
        for _wait in range(30):  # Alma finishes the refund after our client gave up.
            if self.standin.payments[payment.alma_id]['refunds']:
                break
            time.sleep(0.1)
        self.env['alma.payment']._cron_alma_poll_pending()
        status = self.method.alma_get_refund_status(values['pos_payment_uuid'])
        self.assertEqual(status['refund']['state'], 'done')
        self.assertEqual(self.refund_order(sale, 1, [refund_line]).state, 'paid')
        self.assertEqual(self.alma_refunds(payment), 1)

    # === The order's validation checks the refund line === #

    def test_a_refund_line_alma_did_not_make_is_refused(self):
        sale, _payment = self.alma_sale()
        # Validations run in the caller's transaction: Odoo's assertRaises may roll them back.
        with self.assertRaisesRegex(UserError, "Alma has not refunded it"):
            self.refund_order(sale, 1, [(self.alma_pos_method, 30.0, str(uuid.uuid4()))])
        values = self.values(sale, 30.0)
        self.method.alma_refund(values)
        with self.assertRaisesRegex(UserError, "Alma refunded 30.00"):  # The till says 60.
            self.refund_order(sale, 2, [(self.alma_pos_method, 60.0, values['pos_payment_uuid'])])
        other_sale, _other = self.alma_sale()
        with self.assertRaisesRegex(UserError, "another order"):  # Recorded on another sale.
            self.refund_order(other_sale, 1, [(self.alma_pos_method, 30.0,
                                               values['pos_payment_uuid'])])
        self.assertEqual(self.refund_order(sale, 1, [(
            self.alma_pos_method, 30.0, values['pos_payment_uuid'])]).state, 'paid')

    # === Who may refund === #

    def test_only_this_companys_cashiers_of_this_pos_refund(self):
        sale, payment = self.alma_sale()
        other_company = self.env['res.company'].create({'name': "Other Clinic"})
        foreign_cashier = self.env['res.users'].create({
            'name': "Foreign Cashier", 'login': 'alma_foreign_cashier',
            'company_id': other_company.id, 'company_ids': other_company.ids,
            'groups_id': [(6, 0, [self.env.ref('point_of_sale.group_pos_user').id])],
        })
        no_pos = self.env['res.users'].create({
            'name': "Back Office", 'login': 'alma_no_pos',
            'company_id': self.alma.company_id.id, 'company_ids': self.alma.company_id.ids,
            'groups_id': [(6, 0, [self.env.ref('base.group_user').id])],
        })
        for user in (foreign_cashier, no_pos):
            for rpc in ('alma_refund_preview', 'alma_refund'):
                refused = False
                try:  # Odoo's assertRaises takes one exception class.
                    getattr(self.alma_pos_method.with_user(user), rpc)(self.values(sale, 30.0))
                except (AccessError, AccessDenied, UserError):
                    refused = True
                self.assertTrue(refused, f"{user.login} must not refund through Alma ({rpc})")
        # A cashier of this company, from another point of sale, or with a closed session.
        other_pos = self.env['pos.config'].create({
            'name': "Annexe", 'payment_method_ids': [(6, 0, self.alma_pos_method.ids)]})
        other_pos.with_user(self.pos_user).open_ui()
        with self.assertRaisesRegex(UserError, "sold at Shop"):
            self.method.alma_refund(self.values(
                sale, 30.0, session_id=other_pos.current_session_id.id))
        with self.assertRaisesRegex(UserError, "open session"):
            self.method.alma_refund(self.values(sale, 30.0, session_id=0))
        self.assertEqual(self.alma_refunds(payment), 0)
        self.assertFalse(payment.refund_ids)

        # Once refunded, the line's refund is read by this company's cashiers only.
        values = self.values(sale, 30.0)
        self.method.alma_refund(values)
        line_uuid = values['pos_payment_uuid']
        self.assertEqual(self.method.alma_get_refund_status(line_uuid)['refund']['state'], 'done')
        for user in (foreign_cashier, no_pos):
            refused = False
            try:
                self.alma_pos_method.with_user(user).alma_get_refund_status(line_uuid)
            except (AccessError, AccessDenied):
                refused = True
            self.assertTrue(refused, f"{user.login} must not read the refund of the line")

    # === Fees offered: Alma's purchase amount is the price (merchant_covers_all_fees) === #

    def test_fees_offered_refunds_are_not_prorated(self):
        order_uuid, line_uuid = str(uuid.uuid4()), str(uuid.uuid4())
        payment = self.alma_accepted(399.0, line_uuid, order_uuid, plan='payment_alma.plan_4x',
                                     fees_offered=True)
        self.assertEqual(payment.purchase_amount_cents, 39900)
        sale = self.sync_pos_order([(self.consultation, 1, 399.0, None)],
                                   [(self.alma_pos_method, 399.0, line_uuid)],
                                   order_uuid=order_uuid)
        first = self.method.alma_refund(self.values(sale, 100.0))['refund']
        self.assertEqual((first['amount'], first['alma_amount']), (100.0, 100.0))
        rest = self.method.alma_refund(self.values(sale, 299.0))['refund']
        self.assertEqual(rest['state'], 'done', rest['error'])
        self.assertEqual((rest['amount'], rest['alma_amount']), (299.0, 299.0))
        self.assertEqual(payment.amount_refunded_cents, 39900)
        self.assertEqual(payment.refund_state, 'full')
        refunds = self.standin.payments[payment.alma_id]['refunds']
        self.assertEqual([refund['amount'] for refund in refunds], [10000, 29900])
