"""Issue 19, points 9, 10, 13 and 14: the Alma journal takes only Alma's money, malformed input
gets a clear answer, Alma's records change only through the add-on, and a resend is throttled.

Each test looks from the victim's side: the books, the records and Alma (the stand-in) after.
"""
import base64
import json
import uuid
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.payment_alma.tests.common import AlmaPosCommon
from odoo.addons.payment_alma.tests.test_alma_fee_line import CSV_HEADER


@tagged('post_install', '-at_install')
class TestTrustInputs(AlmaPosCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The clinic's administrator: every group of the add-on's screens, but not superuser.
        cls.admin = cls.env['res.users'].create({
            'name': "Administrateur", 'login': 'alma_admin',
            'company_id': cls.alma.company_id.id, 'company_ids': cls.alma.company_id.ids,
            'groups_id': [Command.set([cls.env.ref('base.group_system').id,
                                       cls.env.ref('account.group_account_manager').id,
                                       cls.env.ref('point_of_sale.group_pos_manager').id])],
        })

    def setUp(self):
        super().setUp()
        self.standin.configure(ipn_delay=600)
        self.method = self.alma_pos_method.with_user(self.pos_user)

    # --- helpers -------------------------------------------------------------------------

    def send(self, line_uuid=None, **values):
        return self.till_send(line_uuid, till=self.method, **values)

    def accepted(self, line_uuid=None):
        line_uuid = line_uuid or str(uuid.uuid4())
        answer = self.send(line_uuid)
        self.assertFalse(answer.get('error'), answer.get('error'))
        payment = self.env['alma.payment'].browse(answer['payment']['id'])
        self.standin.pay(payment.alma_id)
        self.method.alma_get_status(line_uuid)
        self.env.invalidate_all()
        self.assertEqual(payment.state, 'accepted')
        return payment

    def creations(self):
        return self.alma_requests('POST', '/v1/payments')

    def alma_tx(self, amount=399.0, partner=None, state='done'):
        """An Alma transaction of the web form, in `state` (as the state path leaves it)."""
        tx = self.env['payment.transaction'].create({
            'provider_id': self.alma.id,
            'payment_method_id': self.env.ref('payment.payment_method_alma').id,
            'amount': amount,
            'currency_id': self.alma.company_id.currency_id.id,
            'partner_id': (partner or self.jean).id,
            'reference': f"ATTACK-{uuid.uuid4().hex[:8]}",
            'operation': 'online_redirect',
        })
        tx.state = state
        return tx

    def alma_journal_payment(self, user, **values):
        """A customer payment of Jean's 399 € in the Alma journal, made by `user`."""
        return self.env['account.payment'].with_user(user).create({
            'journal_id': self.alma.journal_id.id,
            'payment_type': 'inbound', 'partner_type': 'customer',
            'partner_id': self.jean.id, 'amount': 399.0,
            'currency_id': self.alma.company_id.currency_id.id,
            **values,
        })

    def import_csv(self, user, content):
        wizard = self.env['alma.fee.import'].with_user(user).create({
            'file': base64.b64encode(content.encode()), 'filename': 'alma.csv'})
        return wizard.action_import()

    @staticmethod
    def csv_row(payment, fee):
        return (f"2026-11-23 10:00:00,{payment.price_cents},{fee},{payment.price_cents},0,3,"
                f"Jean Martin,jean.martin@example.com,bt_1,{payment.alma_id},,x\n")

    # === 9. The Alma journal takes only the money Alma moved === #

    def test_9_the_alma_journal_takes_only_alma_transactions_and_sessions(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        session = self.main_pos_config.current_session_id
        other_customer = self.env['res.partner'].create({'name': "Autre client"})
        journal_payments = [('journal_id', '=', self.alma.journal_id.id),
                            ('state', 'not in', ('draft', 'canceled'))]
        attacks = {
            "a transaction Alma never paid": {
                'payment_transaction_id': self.alma_tx(state='pending').id},
            "a transaction of 10 €": {'payment_transaction_id': self.alma_tx(10.0).id},
            "another customer's transaction": {
                'payment_transaction_id': self.alma_tx(partner=other_customer).id},
            "an open till session": {'pos_session_id': session.id,
                                     'pos_payment_method_id': self.alma_pos_method.id},
        }
        for name, values in attacks.items():
            with self.subTest(attack=name):
                payment = self.alma_journal_payment(self.accounting_manager, **values)
                with self.assertRaisesRegex(UserError, "Only Alma moves money"), \
                        self.env.cr.savepoint():
                    payment.action_post()
        self.assertFalse(self.env['account.payment'].search_count(journal_payments))
        # Alma's own transaction of that amount and customer is booked, once: its payment,
        # posted as the administrator (not as superuser), passes.
        tx = self.alma_tx()
        first = self.alma_journal_payment(self.admin, payment_transaction_id=tx.id)
        first.action_post()
        tx.payment_id = first  # As Odoo's `_create_payment` links it.
        self.assertIn(tx.payment_id.state, ('in_process', 'paid'))
        second = self.alma_journal_payment(self.accounting_manager,
                                           payment_transaction_id=tx.id)
        with self.assertRaisesRegex(UserError, "Only Alma moves money"), self.env.cr.savepoint():
            second.action_post()
        self.assertEqual(self.env['account.payment'].search(journal_payments), tx.payment_id)

    def test_9_only_alma_moves_an_alma_transaction(self):
        """Billing users and accountants may write Odoo's transactions (Odoo's access rights):
        not an Alma one's state, amount, customer or payment, else the Alma journal would take
        money Alma never moved (`account.payment._alma_made_by_alma` trusts a done one)."""
        draft, done = self.alma_tx(state='draft'), self.alma_tx()
        done.payment_id = self.alma_journal_payment(self.admin, payment_transaction_id=done.id)
        for user in (self.invoicing_user, self.accounting_manager):
            with self.subTest(user=user.login):
                self.assert_only_alma_moves(user, draft, done)
        # What is not money stays theirs to write.
        draft.with_user(self.invoicing_user).state_message = "Appel du client"
        self.assertEqual(draft.state_message, "Appel du client")

    def assert_only_alma_moves(self, user, draft, done):
        Transaction = self.env['payment.transaction'].with_user(user)
        attacks = {
            "set done": (draft, {'state': 'done'}),
            "raise the amount": (draft, {'amount': 3990.0}),
            "give it another customer": (draft, {'partner_id': self.pos_user.partner_id.id}),
            "free it of its payment": (done, {'payment_id': False}),
            "post-process it again": (done, {'is_post_processed': False}),
        }
        for name, (tx, values) in attacks.items():
            with self.subTest(attack=name), self.assertRaisesRegex(
                    AccessError, "Only Alma changes an Alma transaction"), \
                    self.env.cr.savepoint():
                Transaction.browse(tx.id).write(values)
        with self.assertRaisesRegex(AccessError, "Only Alma changes an Alma transaction"), \
                self.env.cr.savepoint():
            Transaction.create({
                'provider_id': self.alma.id, 'state': 'done', 'amount': 399.0,
                'payment_method_id': self.env.ref('payment.payment_method_alma').id,
                'currency_id': self.alma.company_id.currency_id.id,
                'partner_id': self.jean.id, 'reference': "ATTACK-DONE",
                'operation': 'online_redirect'})
        self.env.invalidate_all()
        self.assertEqual((draft.state, draft.amount, draft.partner_id), ('draft', 399.0, self.jean))
        self.assertTrue(done.payment_id)
        self.assertFalse(self.env['payment.transaction'].search(
            [('reference', '=', "ATTACK-DONE")]))

    # === 10. Malformed input: a clear message, never a traceback or a database error === #

    def test_10_the_public_payment_route_answers_malformed_input_plainly(self):
        tx = self.alma_tx(state='draft')
        plan_id = self.env.ref('payment_alma.plan_3x').id
        for params in (
            {'reference': tx.reference, 'plan_id': plan_id, 'access_token': 123},
            {'reference': tx.reference, 'plan_id': plan_id, 'access_token': ['x']},
            {'reference': tx.reference, 'plan_id': plan_id, 'access_token': {'a': 1}},
            {'reference': tx.reference, 'plan_id': plan_id, 'access_token': 'forged\x00'},
            {'reference': f'{tx.reference}\x00', 'plan_id': plan_id, 'access_token': 'x'},
            {'reference': ['x'], 'plan_id': {'x': 1}, 'access_token': 'x'},
        ):
            with self.subTest(params=params):
                response = self.url_open('/payment/alma/payment', data=json.dumps({
                    'jsonrpc': '2.0', 'method': 'call', 'id': 1, 'params': params,
                }), headers={'Content-Type': 'application/json'})
                self.assertEqual(response.status_code, 200)
                self.assertNotIn('Traceback', response.text)
                body = response.json()
                self.assertNotIn('error', body, "no server error for anyone to read")
                self.assertIn("access token is invalid", body['result']['error'])
        self.assertEqual(tx.state, 'draft')
        self.assertFalse(self.standin.requests, "Alma is not asked")

    def save_contact(self, **values):
        return self.method.alma_save_contact(self.jean.id, {
            'first_name': "Marie", 'last_name': "Martin", 'mobile': '06 11 22 33 44',
            'email': 'marie.martin@example.com', 'street': "2 rue d'Alsace", 'zip': '75002',
            'city': 'Paris', 'country_id': self.env.ref('base.fr').id, **values,
        })

    def test_10_the_contact_dialog_answers_malformed_input_per_field(self):
        contacts = self.jean._alma_family()
        for values in ({'first_name': "Ma\x00rie"}, {'mobile': 611223344},
                       {'email': ['marie.martin@example.com']}, {'street': {'a': 1}},
                       {'city': "P" * 10000}, {'id': "1"}, {'id': 2**40}):
            with self.subTest(values=values):
                answer = self.save_contact(**values)
                self.assertTrue(answer.get('errors'), answer)
        self.env.invalidate_all()
        self.assertEqual(self.jean._alma_family(), contacts, "no contact created or changed")
        self.assertTrue(self.save_contact().get('contact'), "the form corrected is saved")

    def test_10_alma_send_answers_malformed_input(self):
        for values in ("not a dict", ['x'], None):
            with self.subTest(values=values), self.assertRaisesRegex(UserError, "reload"):
                self.method.alma_send(values)
        self.assertEqual(self.creations(), 0)
        answer = self.send(send_mode=['sms'], pos_order_name="Commande\x00 1", plan_id='1',
                           contact_id=2**40)
        self.assertIn("Choose a contact", answer['error'])
        answer = self.send(send_mode=['link'], pos_order_name="Commande\x00 1")
        self.assertFalse(answer.get('error'), answer.get('error'))
        payment = self.env['alma.payment'].browse(answer['payment']['id'])
        self.assertEqual(payment.pos_order_name, "Commande 1")
        self.assertEqual(payment.send_mode, 'sms', "a mode that is no text: the default")
        self.assertEqual(self.creations(), 1)

    def test_10_the_fee_import_refuses_malformed_files_plainly(self):
        payment = self.accepted()
        line = self.env['alma.fee.line'].search([('alma_payment_id', '=', payment.id)])
        bad_files = {
            "NUL character": CSV_HEADER + self.csv_row(payment, 1157).replace(
                payment.alma_id, f'{payment.alma_id}\x00'),
            "not a fee of one payment": CSV_HEADER + self.csv_row(payment, 99999999999999),
            # Over csv's own cell limit (128 KiB), which Odoo's server raises to 500 MiB for
            # the whole process: refused by whichever limit holds where the import runs.
            "This is not Alma's accounting export: line 2": CSV_HEADER + self.csv_row(
                payment, 1157).replace(',x\n', f',{"x" * 200000}\n'),
            "holds 1000 characters": CSV_HEADER + self.csv_row(payment, 1157).replace(
                payment.alma_id, 'p' * 1000),
        }
        for message, content in bad_files.items():
            with self.subTest(message=message), self.assertRaisesRegex(UserError, message), \
                    self.env.cr.savepoint():
                self.import_csv(self.invoicing_user, content)
                self.env.flush_all()
        self.assertFalse(line.alma_fee_known, "nothing imported")
        wizard = self.env['alma.fee.import'].with_user(self.invoicing_user).create({
            'provider_id': self.alma.id, 'date_from': False,
            'date_to': fields.Date.today()})
        with self.assertRaisesRegex(UserError, "Choose the first and the last day"):
            wizard.action_fetch()
        wizard.write({'date_from': fields.Date.today(),
                      'date_to': fields.Date.today() - timedelta(days=3)})
        with self.assertRaisesRegex(UserError, "ends before it starts"):
            wizard.action_fetch()
        self.assertEqual(self.alma_requests('POST', '/v1/data-exports'), 0)

    # === 13. Alma's records change only through the add-on === #

    def test_13_alma_records_are_read_only_for_every_group(self):
        payment = self.accepted()
        payment.with_user(self.accounting_manager).action_alma_refund()  # Through the add-on.
        self.env.invalidate_all()
        refund = payment.refund_ids
        lines = self.env['alma.fee.line'].search([('alma_payment_id', '=', payment.id)])
        self.assertEqual((len(refund), len(lines)), (1, 2))
        changes = {payment: {'state_reason_code': 'expired', 'amount_refunded_cents': 0},
                   refund: {'refused': True}, lines[0]: {'fee_cents': 0, 'settled': True}}
        for user in (self.pos_user, self.pos_admin, self.invoicing_user, self.accounting_reader,
                     self.accounting_manager, self.admin):
            for record, values in changes.items():
                mine = record.with_user(user)
                for target, name, args in ((mine, 'write', [values]), (mine, 'unlink', []), (
                        mine.browse(), 'create', [{**record.copy_data()[0], **values}])):
                    with self.subTest(user=user.login, model=record._name, call=name), \
                            self.assertRaises(AccessError), self.env.cr.savepoint():
                        getattr(target, name)(*args)
        self.env.invalidate_all()
        self.assertEqual((payment.state, payment.amount_refunded_cents), ('accepted', 39900))
        self.assertEqual(refund.state, 'done')
        self.assertEqual(len(self.env['alma.fee.line'].search(
            [('alma_payment_id', '=', payment.id)])), 2)
        self.assertFalse(lines.filtered('settled'))
        # The add-on's own buttons still change them: settle, then import Alma's fee.
        sale_line = lines.filtered(lambda line: not line.refund_id)
        sale_line.with_user(self.invoicing_user).action_toggle_settled()
        self.assertTrue(sale_line.settled)
        self.import_csv(self.invoicing_user, CSV_HEADER + self.csv_row(payment, 1200))
        self.assertEqual((sale_line.alma_fee_cents, sale_line.alma_fee_known), (1200, True))

    # === 14. Resending the link is throttled, in the database === #

    def test_14_the_till_resends_at_most_once_a_minute(self):
        line_uuid = str(uuid.uuid4())
        payment = self.env['alma.payment'].browse(self.send(line_uuid)['payment']['id'])
        self.assertFalse(self.method.alma_resend(line_uuid).get('error'))
        self.assertFalse(self.method.alma_send_email(line_uuid).get('error'))
        for _click in range(3):
            self.assertRegex(self.method.alma_resend(line_uuid)['error'],
                             r"send the link again in (5[0-9]|60) s")
            self.assertRegex(self.method.alma_send_email(line_uuid)['error'],
                             r"send the link again in (5[0-9]|60) s")
        self.assertEqual(len(self.standin.sms_outbox), 1, "one SMS, not four")
        mails = [('email_to', 'ilike', 'jean.martin@example.com')]
        self.assertEqual(self.env['mail.mail'].search_count(mails), 1, "one e-mail, not four")
        # The throttle is in the database, for every worker and server.
        self.env.cr.execute("SELECT sms_resent_at, email_resent_at FROM alma_payment "
                            "WHERE id = %s", [payment.id])
        self.assertTrue(all(self.env.cr.fetchone()))
        payment.sudo().write({'sms_resent_at': fields.Datetime.now() - timedelta(seconds=45)})
        self.assertRegex(self.method.alma_resend(line_uuid)['error'], r"again in 1[0-5] s")
        payment.sudo().write({'sms_resent_at': fields.Datetime.now() - timedelta(seconds=61)})
        self.assertFalse(self.method.alma_resend(line_uuid).get('error'))
        self.assertEqual(len(self.standin.sms_outbox), 2)

    def test_14_the_back_office_resends_at_most_once_a_minute(self):
        invoice = self.posted_invoice()
        action = invoice.with_user(self.invoicing_user).action_alma_pay()
        wizard = self.env['alma.payment.wizard'].with_user(self.invoicing_user).browse(
            action['res_id'])
        wizard.write({'plan_id': self.env.ref('payment_alma.plan_3x').id, 'send_mode': 'sms'})
        wizard.action_send_link()
        self.assertEqual(len(self.standin.sms_outbox), 1)
        wizard.action_resend_sms()
        wizard.action_resend_email()
        for action_name in ('action_resend_sms', 'action_resend_email'):
            with self.assertRaisesRegex(UserError, r"send the link again in (5[0-9]|60) s"):
                getattr(wizard, action_name)()
        self.assertEqual(len(self.standin.sms_outbox), 2, "the SMS and one resend")
        self.assertEqual(self.env['mail.mail'].search_count(
            [('email_to', 'ilike', 'jean.martin@example.com')]), 1)
