"""Issue 11 (first part): a refund answers on screen; the Alma journal takes only Alma's money."""
import uuid

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.payment_alma.tests.common import AlmaPosCommon


@tagged('post_install', '-at_install')
class TestRefunds(AlmaPosCommon):

    def setUp(self):
        super().setUp()
        self.standin.configure(ipn_delay=600)

    def accepted(self):
        answer = self.alma_pos_method.with_user(self.pos_user).alma_send({
            'pos_payment_uuid': str(uuid.uuid4()), 'pos_order_uuid': str(uuid.uuid4()),
            'amount': 399.0, 'plan_id': self.env.ref('payment_alma.plan_3x').id,
            'contact_id': self.jean.id, 'partner_id': self.jean.id, 'send_mode': 'link',
        })
        payment = self.env['alma.payment'].browse(answer['payment']['id'])
        self.standin.pay(payment.alma_id)
        self.env['alma.payment']._cron_alma_poll_pending()
        return payment

    def test_the_refund_button_answers_and_the_payment_shows_it(self):
        payment = self.accepted()
        self.assertEqual(payment.refund_state, 'none')
        action = payment.with_user(self.accounting_manager).action_alma_refund()
        self.assertEqual(action['tag'], 'display_notification')
        self.assertIn("399.00", action['params']['message'])
        self.assertEqual((payment.refund_state, payment.amount_refunded), ('full', 399.0))
        refunded = self.env['alma.payment'].search([('refund_state', '!=', 'none')])
        self.assertEqual(refunded, payment, "the list's Refunded filter finds it")

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
