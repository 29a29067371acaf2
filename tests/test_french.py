"""Issue 12 (first part): what a French clinic reads is French, whoever learnt the news."""
import hashlib
import hmac
import uuid

from odoo.tests import tagged

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.tests.common import AlmaPosCommon


@tagged('post_install', '-at_install')
class TestFrench(AlmaPosCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env['res.lang']._activate_lang('fr_FR')
        cls.env['ir.module.module']._load_module_terms(['payment_alma'], ['fr_FR'])
        cls.alma.company_id.partner_id.lang = 'fr_FR'
        cls.pos_user.lang = 'fr_FR'

    def setUp(self):
        super().setUp()
        self.standin.configure(ipn_delay=600)

    def test_the_chatter_speaks_the_clinics_language_after_a_notification(self):
        line_uuid = str(uuid.uuid4())
        answer = self.alma_pos_method.with_user(self.pos_user).alma_send({
            'pos_payment_uuid': line_uuid, 'pos_order_uuid': str(uuid.uuid4()),
            'amount': 399.0, 'plan_id': self.env.ref('payment_alma.plan_3x').id,
            'contact_id': self.jean.id, 'partner_id': self.jean.id, 'send_mode': 'link',
        })
        payment = self.env['alma.payment'].browse(answer['payment']['id'])
        self.standin.pay(payment.alma_id)
        signature = hmac.new(b'sk_test_standin', payment.alma_id.encode(), hashlib.sha256)
        self.url_open(f'{const.IPN_ROUTE}?pid={payment.alma_id}',
                      headers={'X-Alma-Signature': signature.hexdigest()})
        self.env.invalidate_all()
        note = payment.message_ids.filtered(lambda message: 'Accepté' in (message.body or ''))
        self.assertIn("Accepté (appris via&nbsp;: la notification d’Alma).", note.body)
        self.assertEqual(note.author_id, self.env.ref('base.partner_root'))
        # The till reads the state in its cashier's language.
        till = self.alma_pos_method.with_user(self.pos_user).with_context(lang='fr_FR')
        status = till.alma_get_status(line_uuid)
        self.assertEqual(status['payment']['state_label'], "Accepté")
        self.assertIn("133,00", status['payment']['receipt_text'])
