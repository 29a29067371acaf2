"""Issue 12, point 5: what a French user reads never comes out in English; issue 22, point 6:
nor what a German, Spanish, Italian or Dutch (Belgian) user reads, in the languages of Alma's
countries.

Every English source term of the add-on (the exported .pot) is looked for in what the add-on
shows a French clinic along its flows: the till's answers (offers, contact errors, status,
receipt), the chatter of the payment, the transaction and the invoice, the e-mail to a French
customer, and the errors of refused actions. An English term found there was not translated
for its reader (a label computed in another user's language, a string outside `_()`).
"""
import json
import re
import uuid

from odoo.exceptions import UserError
from odoo.modules.module import get_module_path
from odoo.tests import tagged
from odoo.tools import html2plaintext

from odoo.addons.payment_alma.tests.common import AlmaPosCommon

# Terms this short ("Alma", "SMS", "QR code") read the same in every language.
MIN_TERM_LENGTH = 12


def english_terms():
    with open(f"{get_module_path('payment_alma')}/i18n/payment_alma.pot", encoding='utf-8') as pot:
        text = pot.read()
    terms = set()
    for block in re.findall(r'\nmsgid ((?:"[^\n]*"\n)+)', text):
        term = ''.join(json.loads(line) for line in block.splitlines())
        # Only the fixed words around placeholders: "%(amount)s", "%s", "{count}".
        for part in re.split(r'%\(\w+\)[sd]|%[sd]|\{\w*\}', term):
            part = ' '.join(part.split())
            if len(part) >= MIN_TERM_LENGTH and re.search(r'[a-z]{3} [a-z]{2}', part):
                terms.add(part)
    return terms


@tagged('post_install', '-at_install')
class TestNoEnglish(AlmaPosCommon):
    LANG = 'fr_FR'
    # The subclasses below rerun these tests in other languages: Odoo's runner runs only a
    # class's own test methods unless told (pytest-odoo runs them all; scripts/test compares).
    allow_inherited_tests_method = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.speak(cls.LANG, cls.jean, cls.pos_user, cls.accounting_manager, cls.invoicing_user)
        cls.terms = english_terms()

    def setUp(self):
        super().setUp()
        self.standin.configure(ipn_delay=600)
        self.seen = []

    def shown(self, where, value):
        """What the user reads: kept for the final check."""
        if isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False)
        self.seen.append((where, html2plaintext(str(value or ''))))

    def assertNoEnglish(self):
        found = [(where, term) for where, text in self.seen
                 for term in self.terms if term in ' '.join(text.split())]
        self.assertFalse(found, f"English shown to a {self.LANG} user (where, term)")

    def test_the_counter_the_books_and_the_errors_in_its_language(self):
        till = self.alma_pos_method.with_user(self.pos_user).with_context(lang=self.LANG)
        offers = till.alma_get_offers(20.0, self.jean.id)  # Below every plan's minimum.
        self.shown("offers below the minimum", [offer['reason'] for offer in offers['offers']])
        self.shown("contact errors", till.alma_save_contact(self.jean.id, {
            'first_name': "Marie", 'last_name': "Martin", 'mobile': '01 23 45 67 89',
            'email': 'marie@', 'street': "", 'zip': '', 'city': '',
            'country_id': self.env.ref('base.fr').id})['errors'])
        line_uuid = str(uuid.uuid4())
        answer = till.alma_send({
            'pos_payment_uuid': line_uuid, 'pos_order_uuid': str(uuid.uuid4()),
            'amount': 399.0, 'plan_id': self.env.ref('payment_alma.plan_3x').id,
            'contact_id': self.jean.id, 'partner_id': self.jean.id, 'send_mode': 'link',
        })
        self.shown("send", answer)
        till.alma_send_email(line_uuid)
        payment = self.env['alma.payment'].browse(answer['payment']['id'])
        mail = self.env['mail.mail'].search([('email_to', 'ilike', 'jean.martin')], limit=1)
        self.shown("e-mail to the customer", f"{mail.subject} {mail.body_html}")
        self.standin.pay(payment.alma_id)
        self.alma_notify(payment.alma_id)  # As the public user.
        self.env.invalidate_all()
        self.shown("status", till.alma_get_status(line_uuid))
        self.shown("cancel too late", till.alma_cancel(line_uuid))
        result = payment.with_user(self.accounting_manager).with_context(
            lang=self.LANG).action_alma_refund()
        self.shown("refund", result['params']['message'])
        try:
            payment.with_user(self.accounting_manager).with_context(
                lang=self.LANG).action_alma_refund()
        except UserError as error:
            self.shown("second refund refused", error.args[0])
        self.env.invalidate_all()
        for message in payment.message_ids:
            self.shown("chatter", message.body)
            self.shown("chatter tracking", [
                (value.old_value_char, value.new_value_char)
                for value in message.tracking_value_ids])
        self.assertTrue(self.seen and len(self.terms) > 100)
        self.assertNoEnglish()

    def test_the_invoice_flow_in_its_language(self):
        """*Pay with Alma* on an invoice, as the clinic's front desk reads it."""
        invoice = self.posted_invoice().with_user(self.invoicing_user).with_context(lang=self.LANG)
        action = invoice.action_alma_pay()
        self.shown("dialog title", action['name'])
        wizard = self.env['alma.payment.wizard'].with_user(self.invoicing_user).with_context(
            lang=self.LANG).browse(action['res_id'])
        self.shown("plans", [(offer['name'], offer['reason'])
                             for offer in wizard.offers])
        landline = self.jean.copy({'name': "Louise Martin", 'mobile': '+33145000000'})
        wizard.write({'contact_id': landline.id,
                      'plan_id': self.env.ref('payment_alma.plan_3x').id, 'send_mode': 'link'})
        self.shown("contact rule broken", wizard.contact_errors)
        try:
            wizard.action_send_link()
        except UserError as error:
            self.shown("send refused", error.args[0])
        wizard.contact_id = self.jean
        wizard.action_send_link()
        self.shown("sent", [wizard.payment_note, wizard.payment_state_reason,
                            dict(wizard._fields['payment_state']._description_selection(
                                wizard.env)).get(wizard.payment_state)])
        payment = self.env['alma.payment'].search([('invoice_id', '=', invoice.id)])
        self.standin.pay(payment.alma_id)
        wizard.action_refresh()
        self.env.invalidate_all()
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        for record in (payment, invoice):
            for message in record.message_ids:
                self.shown(f"chatter of {record._name}", message.body)
        self.assertNoEnglish()



@tagged('post_install', '-at_install')
class TestNoEnglishGerman(TestNoEnglish):
    LANG = 'de_DE'


@tagged('post_install', '-at_install')
class TestNoEnglishSpanish(TestNoEnglish):
    LANG = 'es_ES'


@tagged('post_install', '-at_install')
class TestNoEnglishItalian(TestNoEnglish):
    LANG = 'it_IT'


@tagged('post_install', '-at_install')
class TestNoEnglishDutchInBelgium(TestNoEnglish):
    """A clinic in Belgium reads Dutch (nl_BE takes the add-on's nl.po)."""
    LANG = 'nl_BE'
