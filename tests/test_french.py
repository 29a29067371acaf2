"""Issue 12 (first part): what a French clinic reads is French, whoever learnt the news."""
import re
import uuid

from lxml import etree

from odoo.tests import tagged

from odoo.addons.payment_alma.tests.common import AlmaPosCommon


@tagged('post_install', '-at_install')
class TestFrench(AlmaPosCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.speak_french(cls.pos_user)

    def setUp(self):
        super().setUp()
        self.standin.configure(ipn_delay=600)

    def test_the_chatter_speaks_the_clinics_language_after_a_notification(self):
        line_uuid = str(uuid.uuid4())
        payment = self.alma_sent(line_uuid=line_uuid)
        self.standin.pay(payment.alma_id)
        self.alma_notify(payment.alma_id)
        self.env.invalidate_all()
        note = payment.message_ids.filtered(lambda message: 'Accepté' in (message.body or ''))
        self.assertIn("Accepté (appris via&nbsp;: la notification d’Alma).", note.body)
        self.assertEqual(note.author_id, self.env.ref('base.partner_root'))
        # The till reads the state in its cashier's language.
        till = self.alma_pos_method.with_user(self.pos_user).with_context(lang='fr_FR')
        status = till.alma_get_status(line_uuid)
        self.assertEqual(status['payment']['state_label'], "Accepté")
        self.assertEqual(status['payment']['plan_name'], "Paiement en 3 fois")

    # === The contact form: which rule was broken, in French === #

    def save_contact(self, **values):
        till = self.alma_pos_method.with_user(self.pos_user).with_context(lang='fr_FR')
        return till.alma_save_contact(self.jean.id, {
            'first_name': "Marie", 'last_name': "Martin", 'mobile': '06 11 22 33 44',
            'email': 'marie.martin@example.com', 'street': "20 rue d'Alsace", 'zip': '75002',
            'city': 'Paris', 'country_id': self.env.ref('base.fr').id, **values,
        })

    def test_each_contact_rule_says_which_rule_was_broken(self):
        company = self.alma.company_id
        company.partner_id.phone = '04 78 00 00 00'  # The clinic's landline.
        self.pos_user.partner_id.write({  # The cashier's own mobile and e-mail.
            'mobile': '06 55 44 33 22', 'email': 'accueil@clinique-lilas.example'})
        nbsp = '\u00a0'
        expected = {
            '0123': "Ce n’est pas un numéro de téléphone valide dans le pays du contact "
                    f"(France){nbsp}: vérifiez ses chiffres.",
            '01 23 45 67 89': f"C’est un numéro de fixe{nbsp}: Alma envoie son code par SMS à "
                              "un mobile.",
            '06 99 88 77 66': f"C’est le numéro de la clinique ({company.name}){nbsp}: Alma a "
                              "besoin du mobile du client.",
            '04 78 00 00 00': f"C’est le numéro de la clinique ({company.name}){nbsp}: Alma a "
                              "besoin du mobile du client.",
            '+33 6 55 44 33 22': f"C’est votre propre numéro{nbsp}: Alma a besoin du mobile du "
                                 "client.",
        }
        for mobile, message in expected.items():
            with self.subTest(mobile=mobile):
                self.assertEqual(self.save_contact(mobile=mobile)['errors'], {'mobile': message})
        errors = self.save_contact(email=company.partner_id.email.upper())['errors']
        self.assertEqual(errors['email'], f"C’est l’adresse e-mail de la clinique "
                                          f"({company.name}){nbsp}: Alma a besoin de celle du "
                                          "client.")
        errors = self.save_contact(email='accueil@clinique-lilas.example')['errors']
        self.assertEqual(errors['email'], f"C’est votre propre adresse e-mail{nbsp}: Alma a "
                                          "besoin de celle du client.")
        errors = self.save_contact(email='marie@')['errors']
        self.assertIn("adresse e-mail valide", errors['email'])
        first, _space, last = self.pos_user.name.partition(' ')
        errors = self.save_contact(first_name=first, last_name=last)['errors']
        self.assertEqual(errors['last_name'], f"C’est votre propre nom{nbsp}: Alma a besoin de "
                                              "celui du client.")
        errors = self.save_contact(street="1 place de la Mairie", zip='69001')['errors']
        self.assertEqual(errors['street'], f"C’est l’adresse de la clinique ({company.name})"
                                           f"{nbsp}: Alma a besoin de celle du client.")
        self.assertFalse(self.env['res.partner'].search([('name', '=', "Marie Martin")]),
                         "nothing was saved")

    def test_a_contact_in_odoo_names_what_alma_misses(self):
        self.jean.write({'email': False, 'city': False})
        problem = self.jean.with_context(lang='fr_FR')._alma_contact_problem(
            self.alma.company_id)
        self.assertEqual(problem, "Le contact Jean Martin ne peut pas recevoir le lien "
                                  "Alma\u00a0: Manquant (demandé par le guide Alma en "
                                  "magasin)\u00a0: e-mail, ville.")

    # === Phones: read in the national format, stored and sent in E.164 === #

    def test_phones_are_shown_in_the_national_format(self):
        data = self.jean._alma_contact_data()
        self.assertEqual(data['mobile'], '+33612345678')
        self.assertEqual(data['mobile_display'], '06 12 34 56 78')
        self.jean.mobile = '+32470123456'  # A Belgian mobile of a French customer.
        self.assertEqual(self.jean._alma_contact_data()['mobile_display'], '+32 470 12 34 56')
        self.jean.mobile = 'not a number'
        self.assertEqual(self.jean._alma_contact_data()['mobile_display'], 'not a number')
        saved = self.save_contact(mobile='0611223344')['contact']
        self.assertEqual(saved['mobile_display'], '06 11 22 33 44')
        self.assertEqual(self.env['res.partner'].browse(saved['id']).mobile, '+33611223344')

    # === The till reads states, reasons and plans in its cashier's language === #

    def test_the_pill_gives_the_reason_in_the_cashiers_language(self):
        line_uuid = str(uuid.uuid4())
        payment = self.alma_sent(line_uuid=line_uuid)
        self.standin.pay(payment.alma_id, card='4000000000000002')
        # The public user learns it first (Alma's notification), in English.
        self.alma_notify(payment.alma_id)
        self.env.invalidate_all()
        self.assertEqual(payment.state, 'refused')
        self.assertEqual(payment.state_reason, "Alma a refusé le paiement.",
                         "written in the clinic's language")
        till = self.alma_pos_method.with_user(self.pos_user)
        french = till.with_context(lang='fr_FR').alma_get_status(line_uuid)['payment']
        self.assertEqual((french['state_label'], french['state_reason'], french['plan_name']),
                         ("Refusé", "Alma a refusé le paiement.", "Paiement en 3 fois"))
        english = till.with_context(lang='en_US').alma_get_status(line_uuid)['payment']
        self.assertEqual((english['state_label'], english['state_reason']),
                         ("Refused", "Alma refused the payment."))

    # === Frais Alma: French headers that fit, and an export with a header on each column === #

    def test_fee_grid_headers_fit_in_french(self):
        payment = self.alma_sent()
        self.standin.pay(payment.alma_id)
        payment._alma_refresh(source='cron')
        self.assertTrue(self.env['alma.fee.line'].search([('alma_payment_id', '=', payment.id)]))
        self.accounting_manager.write({
            'password': 'alma_accounting_manager', 'lang': 'fr_FR',
            'groups_id': [(4, self.env.ref('base.group_user').id)],
        })
        self.start_tour('/odoo', 'alma_fee_grid_headers', login='alma_accounting_manager')

    def test_every_column_of_the_grid_has_a_header(self):
        view = self.env.ref('payment_alma.alma_fee_line_view_list')
        fields = self.env['alma.fee.line'].with_context(lang='fr_FR').fields_get(
            attributes=['string'])
        names = [node.get('name') for node in etree.fromstring(view.arch).iter('field')]
        self.assertEqual(names[1], 'settled_mark', "the first column Odoo's export takes")
        for name in names:
            with self.subTest(field=name):
                self.assertTrue(fields[name]['string'].strip())
        self.assertEqual(fields['settled_mark']['string'], "Virement reçu")


@tagged('post_install', '-at_install')
class TestFrenchTill(AlmaPosCommon):
    """Issue 12, item 5: the cashier's counter flow in Chromium, at a French till."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env['res.lang']._activate_lang('fr_FR')
        cls.env['ir.module.module']._load_module_terms(
            ['payment_alma', 'point_of_sale'], ['fr_FR'])
        cls.alma.company_id.partner_id.lang = 'fr_FR'
        cls.pos_user.lang = 'fr_FR'
        # The cashier reads the green pill, then validates the order herself.
        cls.main_pos_config.auto_validate_terminal_payment = False

    def test_the_counter_reads_french(self):
        # The dialog, the pill and the receipt are checked in French by the tour itself.
        self.start_pos_tour('AlmaSmsHappyPathFr')
        alma_payment = self._only_alma_payment()
        self.assertEqual(alma_payment.state, 'accepted')
        self.assertEqual(alma_payment.send_mode, 'sms')
        _order, pos_payment = self._assert_paid_with_alma(alma_payment)
        ticket = pos_payment.ticket
        self.assertEqual(ticket.splitlines()[0], "Alma - Paiement en 3 fois")
        self.assertEqual(len(re.findall(r'(?<![\d.,])133,00\u00a0€', ticket)), 3, ticket)
        for english in ("installments", "133.00"):
            self.assertNotIn(english, ticket)
        # What the till reads back of the payment is French too.
        status = self.alma_pos_method.with_user(self.pos_user).with_context(
            lang='fr_FR').alma_get_status(pos_payment.uuid)['payment']
        self.assertEqual((status['state_label'], status['plan_name']),
                         ("Accepté", "Paiement en 3 fois"))
