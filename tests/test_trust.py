"""Issue 8: no cashier, customer or fault can turn the add-on against the clinic.

Each test is named after the point of the issue it proves, and looks from the attacker's or the
victim's side: what the victim's record, the books or Alma (the stand-in) hold afterwards.
"""
import base64
import io
import json
import time
import uuid
from datetime import timedelta
from unittest.mock import patch

import openpyxl

from odoo import fields
from odoo.exceptions import AccessDenied, AccessError, UserError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import tagged

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.controllers.main import AlmaController
from odoo.addons.payment_alma.models.alma_payment_send import PaymentAsk
from odoo.addons.payment_alma.tests.common import AlmaPosCommon


@tagged('post_install', '-at_install')
class TestTrust(AlmaPosCommon):

    def setUp(self):
        super().setUp()
        self.standin.configure(ipn_delay=600)
        self.method = self.alma_pos_method.with_user(self.pos_user)
        self.order_uuid = str(uuid.uuid4())

    # --- helpers -------------------------------------------------------------------------

    def assertRefused(self, user, record, name, *args, also=AccessError):
        """`record.name(*args)` called as `user` (as over RPC) is refused."""
        try:
            with self.env.cr.savepoint():
                getattr(record.with_user(user), name)(*args)
        except (AccessDenied, AccessError, also):
            return
        self.fail(f"{user.login} may call {record._name}.{name}")

    def send(self, line_uuid=None, amount=399.0, method=None, **values):
        return self.till_send(line_uuid, amount, till=method or self.method,
                              pos_order_uuid=values.pop('order_uuid', self.order_uuid), **values)

    def accepted(self, line_uuid):
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

    def sync(self, line_uuid, order_uuid, **kwargs):
        return self.sync_alma_order(line_uuid, order_uuid, **kwargs)

    def save_contact(self, partner_id, **values):
        return self.method.alma_save_contact(partner_id, {
            'first_name': "Eve", 'last_name': "Attacker", 'mobile': '06 11 22 33 44',
            'email': 'eve@attacker.example', 'street': "1 rue du Vol", 'zip': '75001',
            'city': 'Paris', 'country_id': self.env.ref('base.fr').id, **values,
        })

    # === 1. Account takeover through the contact dialog === #

    def test_1_contact_dialog_cannot_rewrite_a_user_or_another_company(self):
        admin = self.env['res.users'].create({
            'name': "Clinic Admin", 'login': 'alma_victim', 'email': 'admin@clinique.example',
            'company_id': self.alma.company_id.id, 'company_ids': self.alma.company_id.ids,
        }).partner_id
        admin_email = admin.email
        other_company = self.env['res.company'].create({'name': "Other Clinic"})
        foreign = self.env['res.partner'].create({
            'name': "Foreign Customer", 'email': 'foreign@example.com',
            'company_id': other_company.id})
        company_partner = self.env['res.partner'].create({
            'name': "Martin SARL", 'is_company': True, 'email': 'sarl@example.com'})
        # The administrator as "the customer", or as one of its contacts.
        for partner, target in ((admin, admin), (self.jean, admin),
                                (company_partner, company_partner)):
            answer = self.save_contact(partner.id, id=target.id)
            self.assertIn("cannot be changed", answer['error'])
        self.assertEqual(admin.email, admin_email)
        self.assertEqual(company_partner.email, 'sarl@example.com')
        # Another company's customer: neither changed nor even listed.
        odoo_admin = self.env.ref('base.partner_admin')  # Of the other (main) company here.
        self.assertIn("cannot be changed", self.save_contact(self.jean.id, id=foreign.id)['error'])
        for call in (lambda: self.save_contact(foreign.id, id=foreign.id),
                     lambda: self.method.alma_get_offers(399.0, foreign.id),
                     lambda: self.save_contact(odoo_admin.id, id=odoo_admin.id)):
            with self.assertRaisesRegex(UserError, "another company"):
                call()
        self.assertEqual(foreign.email, 'foreign@example.com')
        # A user's partner may still be the customer: a new contact goes under it.
        created = self.save_contact(admin.id)['contact']
        self.assertEqual(self.env['res.partner'].browse(created['id']).parent_id, admin)
        self.assertEqual(admin.email, admin_email)

    def test_1_a_private_contact_of_the_customer_can_be_corrected(self):
        created = self.save_contact(self.jean.id, first_name="Marie", last_name="Martin")
        contact_id = created['contact']['id']
        updated = self.save_contact(self.jean.id, id=contact_id, first_name="Marie",
                                    last_name="Martin", email='marie@example.com')
        self.assertEqual(updated['contact']['email'], 'marie@example.com')

    def test_1_send_refuses_a_contact_that_is_not_the_customers(self):
        admin = self.env.ref('base.user_admin').partner_id
        answer = self.send(contact_id=admin.id)
        self.assertIn("Choose a contact of the customer", answer['error'])
        self.assertEqual(self.creations(), 0)

    # === 2. One accepted Alma payment, one order === #

    def test_2_one_alma_payment_pays_one_order_only(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        line_uuid = str(uuid.uuid4())
        payment = self.accepted(line_uuid)
        with self.assertRaisesRegex(UserError, "another order"), self.env.cr.savepoint():
            self.sync(line_uuid, str(uuid.uuid4()))  # The same line in a second order.
        order = self.sync(line_uuid, self.order_uuid)
        self.assertEqual(order.state, 'paid')
        self.assertEqual(payment.pos_payment_id.pos_order_id, order)
        self.assertEqual(self.env['pos.order'].search_count(
            [('session_id', '=', order.session_id.id), ('state', '=', 'paid')]), 1)

    def test_2_a_draft_order_cannot_be_marked_paid_without_alma(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        line_uuid = str(uuid.uuid4())
        self.send(line_uuid)  # Sent; the customer never pays.
        order = self.sync(line_uuid, self.order_uuid, state='draft')
        self.assertEqual(order.state, 'draft')
        with self.assertRaisesRegex(UserError, "Alma has not accepted it"), \
                self.env.cr.savepoint():
            order.with_user(self.pos_user).action_pos_order_paid()
        with self.assertRaisesRegex(UserError, "Alma has not accepted it"), \
                self.env.cr.savepoint():
            order.with_user(self.pos_user).write({'state': 'paid'})
        self.assertEqual(order.state, 'draft')

    def test_2_back_office_payment_wizard_cannot_pay_with_alma(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        order = self.sync(str(uuid.uuid4()), self.order_uuid, state='draft')
        order.payment_ids.unlink()
        wizard = self.env['pos.make.payment'].with_user(self.pos_admin).with_context(
            active_id=order.id).create({'payment_method_id': self.alma_pos_method.id,
                                        'amount': 399.0})
        with self.assertRaisesRegex(UserError, "taken at the till"), self.env.cr.savepoint():
            wizard.check()
        self.assertFalse(order.payment_ids)
        self.assertEqual(order.state, 'draft')

    # === 3. Refund only with the right, and always on record === #

    def test_3_refund_needs_the_right_and_alma_gets_nothing(self):
        payment = self.accepted(str(uuid.uuid4()))
        for user in (self.accounting_reader, self.pos_user, self.pos_admin):
            with self.assertRaises(AccessError):
                payment.with_user(user).action_alma_refund()
        self.assertEqual(self.alma_requests('POST', f'/v1/payments/{payment.alma_id}/refund'), 0)
        self.assertEqual(self.standin.payments[payment.alma_id]['amount_already_refunded'], 0)

    def test_3_refund_is_recorded_even_when_alma_fails(self):
        payment = self.accepted(str(uuid.uuid4()))
        self.standin.fail(500, method='POST', path_prefix=f'/v1/payments/{payment.alma_id}/refund',
                          times=1)
        try:  # Not assertRaises: it would roll back what the refund's own transaction wrote.
            payment.with_user(self.accounting_manager).action_alma_refund()
        except UserError as error:
            self.assertIn("temporarily unavailable", error.args[0])
        else:
            self.fail("Alma's failure was not reported")
        bodies = ' '.join(payment.message_ids.mapped('body'))
        self.assertIn("asked of Alma by", bodies)
        self.assertIn("Alma did not refund", bodies)
        payment.with_user(self.accounting_manager).action_alma_refund()
        self.env.invalidate_all()
        self.assertEqual(self.standin.payments[payment.alma_id]['amount_already_refunded'], 39900)
        refund_tx = payment.refund_ids.transaction_id  # Issue 21: one refund, one transaction.
        self.assertEqual((refund_tx.state, refund_tx.amount, refund_tx.source_transaction_id),
                         ('done', -399.0, payment.transaction_id))
        self.assertEqual(len(self.env['alma.fee.line'].search(
            [('alma_payment_id', '=', payment.id), ('refund_id', '!=', False)])), 1)

    # === 4. Nothing about the customer on the till's public channel === #

    def test_4_the_till_channel_carries_only_the_line_and_the_state(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        line_uuid = str(uuid.uuid4())
        self.accepted(line_uuid)
        messages = self.env['bus.bus'].sudo().search(
            [('message', 'like', 'ALMA_PAYMENT_STATUS')]).mapped('message')
        self.assertTrue(messages)
        for message in messages:
            payload = json.loads(message)['payload']
            # The line and its state only: the random ids (the line's, the channel's) may hold
            # any digits, so the amounts are looked for in what else the message carries.
            self.assertEqual(payload, {'pos_payment_uuid': line_uuid, 'state': payload['state']})
            rest = message.replace(line_uuid, '').replace(json.loads(message)['type'], '')
            for secret in ("Jean", "Martin", self.standin.url, "399", "133"):
                self.assertNotIn(secret, rest)

    # === 5. A disabled provider is refused; the sandbox never pays a real order === #

    def test_5_disabled_provider_is_refused_at_the_till(self):
        self.alma.state = 'disabled'
        with self.assertRaisesRegex(UserError, "disabled"):
            self.method.alma_get_offers(399.0, self.jean.id)
        with self.assertRaisesRegex(UserError, "disabled"):
            self.send()
        self.assertFalse(self.standin.requests)

    def test_5_a_sandbox_payment_never_validates_a_live_order(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        line_uuid = str(uuid.uuid4())
        self.accepted(line_uuid)
        self.alma.write({'state': 'enabled', 'alma_api_key_live': 'sk_live_standin'})
        with self.assertRaisesRegex(UserError, "test mode"):
            self.sync(line_uuid, self.order_uuid)

    # === 6. Bad input: a 4xx or a translated message, never a 500 or database text === #

    def test_6_bad_input_gets_a_clear_answer(self):
        ipn = AlmaController._ipn_url
        self.assertEqual(self.url_open(f'{ipn}?pid=pay%00ment').status_code, 400)
        back = self.url_open('/payment/alma/return?pid=pay%00ment', allow_redirects=False)
        self.assertIn(back.status_code, (302, 303))
        payment = self.env['alma.payment'].browse(self.send()['payment']['id'])
        creations = self.creations()
        response = self.url_open(f'{AlmaController._ipn_url}?pid={payment.alma_id}',
                                 headers={'X-Alma-Signature': 'é'.encode().decode('latin-1')})
        self.assertEqual(response.status_code, 403)
        nan = self.send(amount='NaN')
        self.assertIn("not a number", nan['error'])
        with self.assertRaisesRegex(UserError, "not a number"):
            self.method.alma_get_offers('NaN', self.jean.id)
        # The same line on a second Alma method of the till.
        second = self.env['pos.payment.method'].create({
            **self.alma._alma_pos_method_values(), 'name': "Alma 2"})
        self.main_pos_config.payment_method_ids |= second
        line_uuid = str(uuid.uuid4())
        self.send(line_uuid)
        twin = self.send(line_uuid, method=second.with_user(self.pos_user))
        self.assertIn("another Alma payment method", twin['error'])
        self.assertNotIn("duplicate key", twin['error'])
        self.assertEqual(self.creations(), creations + 1)

    # === 7. Replayed notifications do not make us flood Alma === #

    def test_7_replayed_notifications_reach_alma_once(self):
        line_uuid = str(uuid.uuid4())
        payment = self.env['alma.payment'].browse(self.send(line_uuid)['payment']['id'])
        reads = self.alma_requests('GET', f'/v1/payments/{payment.alma_id}')
        for _replay in range(5):
            self.assertEqual(self.alma_notify(payment.alma_id).status_code, 200)
        self.assertEqual(self.alma_requests('GET', f'/v1/payments/{payment.alma_id}'), reads + 1)
        self.standin.pay(payment.alma_id)
        self.method.alma_get_status(line_uuid)  # Accepted: a final state.
        reads = self.alma_requests('GET', f'/v1/payments/{payment.alma_id}')
        with patch('odoo.addons.payment_alma.models.alma_payment_state.'
                   'NOTIFICATION_INTERVAL_SECONDS', 0):
            for _replay in range(3):
                self.assertEqual(self.alma_notify(payment.alma_id).status_code, 200)
        self.assertEqual(self.alma_requests('GET', f'/v1/payments/{payment.alma_id}'), reads)

    # === 8. Exports: a customer's name is never a formula === #

    def test_8_xlsx_export_keeps_formulas_as_text(self):
        self.jean.name = '=HYPERLINK("http://evil.example", "Click")'
        self.accepted(str(uuid.uuid4()))
        lines = self.env['alma.fee.line'].search([('partner_id', '=', self.jean.id)])
        book = openpyxl.load_workbook(io.BytesIO(lines._alma_xlsx()))
        cells = [cell for row in book.active.iter_rows() for cell in row
                 if isinstance(cell.value, str) and 'HYPERLINK' in cell.value]
        self.assertTrue(cells)
        self.assertTrue(all(cell.data_type == 's' for cell in cells))

    # === 9. Copies of the database; one company's account per bookkeeper === #

    def test_9_a_neutralized_copy_holds_no_alma_key(self):
        self.alma.alma_api_key_live = 'sk_live_secret'
        self.env.flush_all()
        for query in get_neutralization_queries(['payment_alma']):
            self.env.cr.execute(query)
        self.alma.invalidate_recordset()
        self.assertFalse(self.alma.alma_api_key_live or self.alma.alma_api_key_test
                         or self.alma.alma_api_url)

    def test_9_a_bookkeeper_cannot_use_another_companys_alma_account(self):
        other_company = self.env['res.company'].create({'name': "Other Clinic"})
        other = self.alma.copy({'company_id': other_company.id,
                                'alma_api_key_test': 'sk_test_standin'})
        wizard = self.env['alma.fee.import'].with_user(self.accounting_manager).create(
            {'provider_id': other.id})
        with self.assertRaisesRegex(UserError, "another company"):
            wizard.action_fetch()
        self.assertFalse(self.standin.requests)

    # === 10. Every contact rule is applied when the payment is sent === #

    def test_10_a_contact_with_the_clinics_number_is_refused_at_send(self):
        self.jean.mobile = '06 99 88 77 66'  # The clinic's own mobile, already in Odoo.
        answer = self.send()
        self.assertIn("Alma needs the customer's", answer['error'])
        self.jean.mobile = '01 23 45 67 89'  # A landline.
        self.assertIn("landline", self.send()['error'])
        self.assertEqual(self.creations(), 0)

    def test_10_a_national_number_reaches_alma_in_e164(self):
        self.jean.mobile = '06 12 34 56 78'
        payment = self.env['alma.payment'].browse(self.send()['payment']['id'])
        self.assertEqual(self.standin.payments[payment.alma_id]['customer']['phone'],
                         '+33612345678')

    def test_10_phones_are_stored_in_e164(self):
        contact = self.save_contact(self.jean.id)['contact']
        self.assertEqual(self.env['res.partner'].browse(contact['id']).mobile, '+33611223344')

    # === 11. Concurrent and repeated sends: one creation at Alma === #

    def test_11_retry_while_alma_still_creates_makes_no_twin(self):
        line_uuid = str(uuid.uuid4())
        self.standin.configure(timeout_seconds=1.5)
        self.standin.fail('timeout', method='POST', path_prefix='/v1/payments', times=1)
        with patch.object(const, 'TIMEOUTS', (2, 0.3)):
            first = self.send(line_uuid)
            self.assertIn("did not answer in time", first['error'])
            retry = self.send(line_uuid)  # Alma has not finished creating the first one.
        self.assertIn("Try again in", retry['error'])
        self.assertEqual(self.creations(), 1)
        for _wait in range(40):
            if self.standin.payments:
                break
            time.sleep(0.1)
        found = self.send(line_uuid)
        self.assertFalse(found.get('error'), found.get('error'))
        self.assertEqual(found['payment']['alma_id'], next(iter(self.standin.payments)))
        self.assertEqual((self.creations(), len(self.standin.payments)), (1, 1))

    def test_11_double_click_answers_the_same_payment(self):
        line_uuid = str(uuid.uuid4())
        answers = [self.send(line_uuid) for _click in range(3)]
        self.assertEqual(len({answer['payment']['id'] for answer in answers}), 1)
        self.assertEqual(self.creations(), 1)

    # === 12. Recovering a lost answer reads every page of Alma's list === #

    def test_12_recovery_does_not_depend_on_the_first_page(self):
        line_uuid = str(uuid.uuid4())
        self.standin.fail('disconnect', method='POST', path_prefix='/v1/payments', times=1)
        self.assertTrue(self.send(line_uuid)['error'])
        lost = self.env['alma.payment'].search([('sale_key', '=', f'pos:{line_uuid}')])
        # Alma did create it (the answer only was lost), then 150 other payments came after.
        client = self.alma._alma_client()
        client.create_payment(lost._alma_payload())
        other = self.env['alma.payment'].new(lost._alma_new_values(PaymentAsk(
            key='pos:another', provider=self.alma, amount=399.0, currency=lost.currency_id,
            plan=lost.plan_id, contact=self.jean, partner=self.jean, fees_offered=False,
            send_mode='link')))
        for _index in range(150):
            client.create_payment(other._alma_payload())
        creations = self.creations()
        lost.sudo().creation_attempted_at = fields.Datetime.now() - timedelta(minutes=5)
        found = self.send(line_uuid)
        self.assertFalse(found.get('error'), found.get('error'))
        remote = self.standin.payments[found['payment']['alma_id']]
        self.assertEqual(remote['custom_data']['odoo_reference'], lost.reference)
        self.assertEqual(self.creations(), creations, "found again, not created again")

    # === 13. One invoice, one live Alma payment === #

    def link(self, invoice):
        action = invoice.with_user(self.invoicing_user).action_alma_pay()
        wizard = self.env['alma.payment.wizard'].with_user(self.invoicing_user).browse(
            action['res_id'])
        wizard.plan_id = self.env.ref('payment_alma.plan_3x')
        wizard.action_send_link()
        return wizard

    def test_13_one_invoice_one_live_alma_payment(self):
        invoice = self.posted_invoice()
        first, second = self.link(invoice), self.link(invoice)
        self.assertEqual(first.payment_url, second.payment_url)
        self.assertIn("still waiting", second.payment_note)
        self.assertEqual(self.creations(), 1)

    def test_13_paid_twice_is_flagged_to_the_bookkeeper(self):
        invoice = self.posted_invoice()
        self.link(invoice)
        payment = self.env['alma.payment'].search([('invoice_id', '=', invoice.id)])
        self.env['account.payment.register'].with_context(
            active_model='account.move', active_ids=invoice.ids).create({})._create_payments()
        self.standin.pay(payment.alma_id)
        self.env['alma.payment']._cron_alma_poll_pending()
        self.assertEqual(payment.state, 'accepted')
        tx = invoice.transaction_ids
        self.assertEqual(tx.state, 'done')
        tx._post_process()  # What Odoo's cron, triggered by the state path, does.
        self.assertIn("paid twice", invoice.activity_ids.note)
        self.assertEqual(len(invoice.matched_payment_ids), 1, "Alma's money is not booked on it")
        self.assertEqual(tx.payment_id.journal_id, self.alma.journal_id,
                         "but in the Alma journal, as the customer's credit")

    # === Rights matrix: who may call each RPC and button === #

    def test_rights_matrix(self):
        portal = self.env['res.users'].create({
            'name': "Portal", 'login': 'alma_portal',
            'groups_id': [(6, 0, self.env.ref('base.group_portal').ids)]})
        public = self.env.ref('base.public_user')
        line_uuid = str(uuid.uuid4())
        payment = self.accepted(line_uuid)
        fee_line = self.env['alma.fee.line'].search([('alma_payment_id', '=', payment.id)])
        invoice = self.posted_invoice()
        till_calls = {
            'alma_get_offers': (399.0, self.jean.id),
            'alma_save_contact': (self.jean.id, {}),
            'alma_get_status': (line_uuid,),
            'alma_cancel': (line_uuid,),
            'alma_resend': (line_uuid,),
            'alma_send_email': (line_uuid,),
            'alma_send': ({'pos_payment_uuid': line_uuid},),
        }
        for user in (self.accounting_manager, self.accounting_reader, portal, public):
            for name, args in till_calls.items():
                self.assertRefused(user, self.alma_pos_method, name, *args)
        for user in (self.pos_user, self.pos_admin):
            self.assertTrue(self.alma_pos_method.with_user(user).alma_get_status(line_uuid))
        for user in (self.pos_user, self.pos_admin, self.accounting_reader, portal, public):
            self.assertRefused(user, payment, 'action_alma_refund')
            self.assertRefused(user, invoice, 'action_alma_pay')
        for user in (self.pos_user, self.accounting_reader, portal, public):
            self.assertRefused(user, fee_line, 'action_toggle_settled', also=UserError)
        self.assertFalse(fee_line.settled)
        for user in (self.pos_user, self.accounting_manager, portal, public):
            self.assertRefused(user, self.alma, 'action_alma_check_connection')
        self.assertEqual(self.alma_requests('POST', f'/v1/payments/{payment.alma_id}/refund'), 0)
        self.assertEqual(self.alma_requests('GET', '/v1/me'), 0)
        self.assert_another_company_is_refused(payment, fee_line, invoice, line_uuid, till_calls)

    def assert_another_company_is_refused(self, payment, fee_line, invoice, line_uuid,
                                          till_calls):
        """Issue 19: a second company's cashier and bookkeepers (Billing, and its accounting
        manager) against every RPC and button of the first company: refused, the first
        company's records unchanged, Alma not asked."""
        other = self.env['res.company'].create({'name': "Autre clinique"})

        def stranger(login, group):
            return self.env['res.users'].create({
                'name': login, 'login': login, 'company_id': other.id, 'company_ids': other.ids,
                'groups_id': [(6, 0, self.env.ref(group).ids)]})
        strangers = (stranger('alma_other_cashier', 'point_of_sale.group_pos_user'),
                     stranger('alma_other_bookkeeper', 'account.group_account_invoice'),
                     stranger('alma_other_manager', 'account.group_account_manager'))
        # The first company's invoice, its Alma link waiting, and its bookkeeper's dialog.
        wizard = self.link(invoice)
        waiting = self.env['alma.payment'].search([('invoice_id', '=', invoice.id)])
        requests = len(self.standin.requests)
        refund_values = {'pos_payment_uuid': str(uuid.uuid4()),
                         'pos_order_uuid': str(uuid.uuid4()), 'amount': -399.0,
                         'refunded_order_id': 1, 'session_id': 1}
        calls = {**till_calls, 'alma_refund_preview': (refund_values,),
                 'alma_refund': (refund_values,),
                 'alma_get_refund_status': (refund_values['pos_payment_uuid'],)}
        buttons = [(payment, 'action_alma_refund'), (invoice, 'action_alma_pay'),
                   (invoice, 'action_alma_refund'), (self.alma, 'action_alma_check_connection'),
                   (self.alma.with_context(alma_key='test'), 'action_alma_clear_api_key')]
        buttons += [(fee_line, name) for name in (
            'action_toggle_settled', 'action_mark_settled', 'action_alma_record_transfer',
            'action_export_xlsx')]
        buttons += [(wizard, name) for name in (
            'action_send_link', 'action_refresh', 'alma_poll', 'action_resend_sms',
            'action_resend_email', 'action_cancel_payment', 'action_new_link')]
        for user in strangers:
            with self.subTest(user=user.login):
                for name, args in calls.items():
                    self.assertRefused(user, self.alma_pos_method, name, *args)
                for record, name in buttons:
                    # A cashier is told that only bookkeepers settle ("Frais Alma").
                    self.assertRefused(user, record, name, also=UserError
                                       if record == fee_line else AccessError)
                if user.has_group('account.group_account_invoice'):
                    fee_import = self.env['alma.fee.import'].with_user(user).create(
                        {'provider_id': self.alma.id})
                    self.assertRefused(user, fee_import, 'action_fetch', also=UserError)
                    # The first company's line in a file, and a refund of it Odoo would read
                    # from Alma were the payment this bookkeeper's: unknown, Alma not asked.
                    fee_import.file = base64.b64encode((
                        "ID du paiement,ID du remboursement,Frais Alma\n"
                        f"{payment.alma_id},,1\n{payment.alma_id},refund_forged,0\n").encode())
                    result = fee_import.action_import()
                    self.assertIn("Unknown to Odoo: 2.", result['params']['message'])
        self.env.invalidate_all()
        self.assertEqual((payment.state, payment.amount_refunded_cents), ('accepted', 0))
        self.assertEqual((fee_line.settled, fee_line.alma_fee_known, fee_line.move_id),
                         (False, False, self.env['account.move']))
        self.assertEqual((waiting.state, invoice.payment_state), ('waiting', 'not_paid'))
        self.assertTrue(self.alma.alma_api_key_test)
        self.assertEqual(len(self.standin.requests), requests, "Alma was not asked")
