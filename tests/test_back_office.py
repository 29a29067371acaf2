"""Issue 10, item 4: "Pay with Alma" on an invoice (a phone sale), on Odoo's transaction flow."""
import re
from urllib.parse import parse_qs, urlsplit

import babel
import babel.dates
import lxml.html
import pytz

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import html2plaintext

from odoo.addons.payment_alma.tests.common import AlmaWebCommon


@tagged('post_install', '-at_install')
class TestBackOffice(AlmaWebCommon):
    """The invoice's Alma dialog: plans, contact, sending; the transaction pays the invoice.

    The dialog in Chromium, sent by SMS and paid, is a journey of the clinic
    (`test_journeys.TestClinicBackOffice`). These calls stay in a world of their own: they need
    what the clinic does not have, a customer's second contact (Marie Martin), a contact in
    English, another company's invoice, and invoices of chosen amounts by the dozen.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoicing_user = new_test_user(
            cls.env, login='alma_invoicing', password='alma_invoicing',
            name="Claire Accueil", email='claire@clinique-lilas.example',
            groups='base.group_user,account.group_account_invoice',
            company_id=cls.company.id, company_ids=cls.company.ids)
        address = {'street': "20 rue d'Alsace", 'zip': '75002', 'city': 'Paris',
                   'country_id': cls.env.ref('base.fr').id}
        # Jean's wife, a contact of the customer who may receive the link.
        cls.marie = cls.env['res.partner'].create({
            'name': "Marie Martin", 'parent_id': cls.jean.id, 'type': 'other',
            'mobile': '+33611223344', 'email': 'marie.martin@example.com', **address})
        # Another customer of the clinic.
        cls.paul = cls.env['res.partner'].create({
            'name': "Paul Durand", 'mobile': '+33622334455', 'email': 'paul@example.com',
            **address})

    # === Helpers === #

    def open(self, invoice, user=None):
        action = invoice.with_user(user or self.invoicing_user).action_alma_pay()
        self.assertEqual(action['name'], "Pay with Alma")
        return self.env['alma.payment.wizard'].with_user(
            user or self.invoicing_user).browse(action['res_id'])

    def send(self, invoice, plan='payment_alma.plan_3x', **values):
        wizard = self.open(invoice)
        wizard.write({'plan_id': self.env.ref(plan).id, **values})
        action = wizard.action_send_link()
        self.assertEqual(action['name'], "Pay with Alma", "not Odoo's default dialog title")
        self.assertEqual(action['res_id'], wizard.id)
        return wizard

    def payment_of(self, invoice):
        return self.env['alma.payment'].search([('invoice_id', '=', invoice.id)],
                                               order='id desc', limit=1)

    def creations(self):
        return self.alma_requests('POST', '/v1/payments')

    @staticmethod
    def offer(wizard, code):
        return next(offer for offer in wizard.offers if offer['plan_code'] == code)

    # === 1. What the dialog shows === #

    def test_plans_with_their_schedules_and_fees(self):
        wizard = self.open(self.invoice_for(399.0))
        self.assertEqual(wizard.step, 'choose')
        self.assertEqual(wizard.contact_id, self.jean)
        self.assertEqual(wizard.amount, 399.0)
        self.assertIn(self.env.ref('payment_alma.plan_3x'), wizard.allowed_plan_ids)
        offer = self.offer(wizard, 'P3X')
        self.assertEqual([line['amount'] for line in offer['schedule']], [133.0] * 3)
        self.assertEqual((offer['customer_fee'], offer['customer_total']), (0.0, 399.0))
        self.assertEqual((offer['clinic_fee'], offer['clinic_fee_vat'], offer['clinic_fee_total']),
                         (11.57, 2.31, 13.88))
        four = self.offer(wizard, 'P4X')
        self.assertGreater(four['customer_fee'], 0, "in 4x the customer pays a fee")
        self.assertAlmostEqual(four['customer_total'], 399.0 + four['customer_fee'])

        # Offered to the client: Alma is asked again, the customer pays the invoice's amount.
        with Form(wizard) as form:
            form.fees_offered = True
        offered = self.offer(wizard, 'P4X')
        self.assertTrue(offered['fees_offered'])
        self.assertEqual(offered['customer_total'], 399.0)
        self.assertAlmostEqual(sum(line['amount'] for line in offered['schedule']), 399.0)
        self.assertEqual((offered['purchase_amount'], offered['customer_fee']), (399.0, 0.0))
        # The clinic's fee takes on the customer's (3.30 % + 1.45 % of 399 €), VAT on it all.
        self.assertEqual((offered['clinic_fee'], offered['absorbed_fee']), (18.96, 5.79))
        self.assertEqual(offered['absorbed_fee'], four['customer_fee'])
        self.assertAlmostEqual(offered['clinic_fee_total'],
                               offered['clinic_fee'] + offered['clinic_fee_vat'])

    def test_only_the_plans_alma_takes_for_the_amount(self):
        invoice = self.invoice_for(30.0)
        wizard = self.open(invoice)
        self.assertFalse(wizard.allowed_plan_ids)
        self.assertTrue(all("minimum" in offer['reason'] for offer in wizard.offers))
        wizard.plan_id = self.env.ref('payment_alma.plan_3x')
        with self.assertRaisesRegex(UserError, "Choose one of the plans offered"):
            wizard.action_send_link()
        self.assertEqual(self.creations(), 0)
        self.assertFalse(invoice.transaction_ids)

    # === 2. The contact: the customer's, following Alma's rules === #

    def test_a_contact_breaking_a_rule_is_refused_and_the_rule_named(self):
        invoice = self.invoice_for(399.0)
        landline = self.marie.copy({'name': "Louise Martin", 'mobile': '+33145000000'})
        clinic = self.marie.copy({'name': "Luc Martin", 'email': 'contact@clinique-lilas.example'})
        homeless = self.marie.copy({'name': "Léa Martin", 'street': False})
        wizard = self.open(invoice)
        self.assertIn(landline, wizard.allowed_contact_ids)
        for contact, rule in ((landline, "Mobile phone: This is a landline"),
                              (clinic, "E-mail: This is .*own e-mail address"),
                              (homeless, "Street: Required by Alma's in-store guide")):
            wizard.write({'contact_id': contact.id,
                          'plan_id': self.env.ref('payment_alma.plan_3x').id})
            self.assertRegex(wizard.contact_errors, rule)
            with self.assertRaisesRegex(UserError, rule):
                wizard.action_send_link()
        wizard.contact_id = self.marie
        self.assertFalse(wizard.contact_errors)
        self.assertEqual(self.creations(), 0)
        self.assertFalse(invoice.transaction_ids, "no transaction for a refused contact")

    def test_what_is_missing_is_named(self):
        """Issue 18, item 5: without a plan, the message asks for a plan, not for a contact."""
        invoice = self.invoice_for(399.0)
        wizard = self.open(invoice)
        self.assertEqual(wizard.contact_id, self.jean)
        self.assertFalse(wizard.plan_id, "several plans: none is chosen for the user")
        with self.assertRaises(UserError) as caught:
            wizard.action_send_link()
        self.assertEqual(caught.exception.args[0], "Choose a plan.")
        wizard.write({'plan_id': self.env.ref('payment_alma.plan_3x').id, 'contact_id': False})
        with self.assertRaises(UserError) as caught:
            wizard.action_send_link()
        self.assertEqual(caught.exception.args[0], "Choose the customer's contact for Alma.")
        self.assertEqual(self.creations(), 0)

    def test_the_dialog_follows_the_payment_by_itself(self):
        """Issue 18, item 5: the dialog's polling asks Alma, as the till's does; the accepted
        payment pays the invoice at once."""
        invoice = self.invoice_for(399.0)
        wizard = self.send(invoice, send_mode='link')
        payment = self.payment_of(invoice)
        self.assertEqual(wizard.alma_poll(), 'waiting')
        self.customer_pays(payment.alma_id)  # Alma's notification is not sent (setUp).
        self.assertEqual(wizard.alma_poll(), 'accepted')
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        self.assertEqual(wizard.payment_state, 'accepted')
        self.assertTrue([message for message in payment.message_ids
                         if "learnt from: the invoice's Alma dialog" in message.body])

    # === 3. Sending: SMS, e-mail, link and QR code; through a transaction === #

    def test_sent_by_sms_through_a_transaction(self):
        invoice = self.invoice_for(399.0)
        wizard = self.send(invoice, contact_id=self.marie.id, send_mode='sms')
        payment = self.payment_of(invoice)
        tx = invoice.transaction_ids
        self.assertEqual(len(tx), 1)
        self.assertEqual(
            (tx.provider_id, tx.payment_method_id, tx.operation, tx.amount, tx.currency_id,
             tx.partner_id, tx.state, tx.provider_reference),
            (self.alma, self.alma_method, 'online_redirect', 399.0, invoice.currency_id,
             self.jean, 'draft', payment.alma_id))
        self.assertEqual((payment.transaction_id, payment.sale_key), (tx, f'tx:{tx.reference}'))
        self.assertEqual(tx.with_user(self.invoicing_user).alma_payment_id, payment)
        self.assertEqual((payment.state, payment.contact_id, payment.send_mode),
                         ('waiting', self.marie, 'sms'))
        self.assertEqual([sms['payment_id'] for sms in self.standin.sms_outbox], [payment.alma_id])
        remote = self.standin.payments[payment.alma_id]
        self.assertEqual(remote['customer']['phone'], '+33611223344')
        self.assertEqual(remote['orders'][0]['merchant_reference'], invoice.name)
        self.assertEqual(remote['origin'], self.alma.alma_origin, "in-store fee plans, as shown")
        self.assertTrue(remote['return_url'].endswith('/payment/alma/return'))
        self.assertEqual((wizard.step, wizard.payment_state, wizard.payment_url),
                         ('sent', 'waiting', payment.url))
        # Where the link went, for the clinic to check with the customer on the phone.
        self.assertEqual(
            (wizard.payment_contact, wizard.payment_contact_mobile, wizard.payment_contact_email),
            ("Marie Martin", '06 11 22 33 44', 'marie.martin@example.com'))
        self.assertEqual(wizard.payment_summary[0]['plan_code'], 'P3X')

    def test_sent_by_email(self):
        invoice = self.invoice_for(399.0)
        self.send(invoice, contact_id=self.marie.id, send_mode='email')
        payment = self.payment_of(invoice)
        self.assertFalse(self.standin.sms_outbox)
        mail = self.env['mail.mail'].search([('email_to', 'ilike', 'marie.martin@example.com')])
        self.assertEqual(len(mail), 1)
        self.assertIn(payment.url, mail.body_html)

    # === 3b. The link's e-mail: the clinic's template, in the contact's language === #

    def sent_mail(self, contact):
        """The e-mail queued for `contact`, and its text (no-break spaces kept)."""
        mail = self.env['mail.mail'].search([('email_to', 'ilike', contact.email)])
        self.assertEqual(len(mail), 1)
        return mail, re.sub(r'[ \t\r\n]+', ' ', lxml.html.fromstring(mail.body_html).text_content())

    def load_french(self):
        """French active, with the add-on's French terms (the template's too)."""
        self.env['res.lang']._activate_lang('fr_FR')
        self.env.flush_all()  # The terms' importer asks the database which languages are active.
        self.env['ir.module.module']._load_module_terms(['payment_alma'], ['fr_FR'])

    @staticmethod
    def in_paris(payment, lang):
        """The link's expiry and the installments' dates as the customer reads them."""
        locale = babel.Locale.parse(lang)
        expiry = pytz.utc.localize(payment.expires_at).astimezone(pytz.timezone('Europe/Paris'))
        return (babel.dates.format_datetime(expiry, 'd MMMM y, HH:mm', locale=locale),
                [babel.dates.format_date(fields.Date.from_string(line['date']), 'd MMMM y',
                                         locale=locale) for line in payment.schedule])

    def test_the_links_email_in_french_for_a_french_contact(self):
        """Issue 18, item 8: greeting, the clinic, the invoice, amount, plan, schedule, expiry
        and the link, in French; the invoice's chatter says it was sent."""
        self.load_french()
        self.marie.write({'lang': 'fr_FR', 'tz': 'Europe/Paris'})
        invoice = self.invoice_for(399.0)
        self.send(invoice, contact_id=self.marie.id, send_mode='email')
        payment = self.payment_of(invoice)
        mail, text = self.sent_mail(self.marie)
        self.assertEqual(mail.subject, f"Votre lien de paiement Alma - {self.company.name}")
        expiry, dates = self.in_paris(payment, 'fr_FR')
        for expected in (
            "Bonjour Marie Martin,",
            f"{self.company.name} vous envoie un lien pour payer la facture {invoice.name} "
            "avec Alma.",
            "Montant", "399,00\xa0€", "Formule", "Paiement en 3 fois", "Vos échéances\xa0:",
            "133,00\xa0€", *dates,
            f"Ce lien expire le {expiry}.", "Payer avec Alma",
        ):
            self.assertIn(expected, text)
        self.assertIn(f'href="{payment.url}"', mail.body_html)
        for english in ("Hello", "installments", "Amount", "expires", "December"):
            self.assertNotIn(english, text)
        notes = invoice.message_ids.mapped(lambda message: html2plaintext(message.body))
        self.assertTrue(
            [note for note in notes if "Alma payment link e-mailed to marie.martin@example.com"
             in note and "3 installments" in note],
            f"the invoice's history, in the user's language: {notes}")

    def test_the_links_email_in_english_for_an_english_contact(self):
        self.load_french()
        self.company.partner_id.lang = 'fr_FR'  # A French clinic, an English customer.
        self.jean.write({'lang': 'en_US', 'tz': 'Europe/Paris'})
        invoice = self.invoice_for(399.0)
        self.send(invoice, send_mode='email')
        payment = self.payment_of(invoice)
        mail, text = self.sent_mail(self.jean)
        self.assertEqual(mail.subject, f"Your Alma payment link - {self.company.name}")
        expiry, dates = self.in_paris(payment, 'en_US')
        for expected in (
            "Hello Jean Martin,",
            f"{self.company.name} sends you a link to pay invoice {invoice.name} with Alma.",
            "Amount", "399.00\xa0€", "Plan", "3 installments", "133.00\xa0€", *dates,
            f"This link expires on {expiry}.", "Pay with Alma",
        ):
            self.assertIn(expected, text)
        self.assertIn(f'href="{payment.url}"', mail.body_html)
        self.assertNotIn("Bonjour", text)

    def test_link_and_qr_code(self):
        invoice = self.invoice_for(399.0)
        wizard = self.send(invoice, send_mode='link')
        payment = self.payment_of(invoice)
        self.assertFalse(self.standin.sms_outbox)
        self.assertFalse(self.env['mail.mail'].search([('email_to', 'ilike', 'jean.martin')]))
        qr = urlsplit(wizard.payment_qr_code)
        self.assertEqual(qr.path, '/report/barcode/')
        self.assertEqual(parse_qs(qr.query)['value'], [payment.url])
        self.assertEqual(parse_qs(qr.query)['barcode_type'], ['QR'])
        image = self.url_open(wizard.payment_qr_code)
        self.assertEqual((image.status_code, image.headers['Content-Type']), (200, 'image/png'))

    # === 4. Resend, cancel, a new link === #

    def test_resend_then_cancel_then_a_new_link(self):
        invoice = self.invoice_for(399.0)
        wizard = self.send(invoice, send_mode='sms')
        payment = self.payment_of(invoice)
        wizard.action_resend_sms()
        self.assertEqual(len(self.standin.sms_outbox), 2)
        self.assertIn("again", wizard.payment_note)
        wizard.action_resend_email()
        self.assertEqual(len(self.env['mail.mail'].search(
            [('email_to', 'ilike', 'jean.martin@example.com')])), 1)

        wizard.action_cancel_payment()
        self.assertEqual(payment.state, 'cancelled')
        self.assertEqual(self.alma_requests('PUT', f'/v1/payments/{payment.alma_id}/cancel'), 1,
                         "cancelled at Alma: the customer can no longer pay")
        tx = invoice.transaction_ids
        self.assertEqual(tx.state, 'cancel', "through the state path")
        self.assertEqual(wizard.payment_state, 'cancelled')
        with self.assertRaisesRegex(UserError, "Only a payment waiting"):
            wizard.action_resend_sms()

        wizard.action_new_link()
        self.assertEqual(wizard.step, 'choose')
        wizard.plan_id = self.env.ref('payment_alma.plan_2x')
        wizard.action_send_link()
        self.assertEqual(self.creations(), 2)
        self.assertEqual(len(invoice.transaction_ids), 2)
        self.assertEqual(self.payment_of(invoice).plan_id.code, 'P2X')

    # === 5. Paid by the transaction, in the Alma journal === #

    def test_invoice_paid_in_the_alma_journal_by_the_transaction(self):
        invoice = self.invoice_for(399.0)
        wizard = self.send(invoice, send_mode='link')
        payment = self.payment_of(invoice)
        self.customer_pays(payment.alma_id)
        wizard.action_refresh()
        self.assertEqual(wizard.payment_state, 'accepted')
        tx = invoice.transaction_ids
        self.assertEqual((tx.state, tx.is_post_processed), ('done', True))
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        self.assertEqual(tx.payment_id.journal_id, self.alma.journal_id)
        self.assertEqual(tx.payment_id.amount, 399.0)
        self.assertIn(tx.payment_id, invoice.matched_payment_ids)

    def test_fees_offered_invoice_paid_in_full(self):
        invoice = self.invoice_for(399.0)
        wizard = self.open(invoice)
        with Form(wizard) as form:
            form.fees_offered = True
        wizard.write({'plan_id': self.env.ref('payment_alma.plan_4x').id, 'send_mode': 'link'})
        wizard.action_send_link()
        payment = self.payment_of(invoice)
        self.assertTrue(payment.fees_offered)
        remote = self.standin.payments[payment.alma_id]
        self.assertEqual((remote['purchase_amount'], remote['customer_fee']), (39900, 0))
        self.customer_pays(payment.alma_id)
        wizard.action_refresh()
        tx = invoice.transaction_ids
        self.assertEqual(tx.state, 'done', tx.state_message)
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        self.assertEqual(tx.payment_id.amount, 399.0)

    def test_paid_through_the_notification_and_odoos_post_processing(self):
        invoice = self.invoice_for(399.0)
        self.send(invoice, send_mode='link')
        payment = self.payment_of(invoice)
        self.customer_pays(payment.alma_id)
        self.env['alma.payment']._cron_alma_poll_pending()
        tx = invoice.transaction_ids
        self.assertEqual(tx.state, 'done')
        cron = self.env.ref('payment.cron_post_process_payment_tx')
        self.assertTrue(self.env['ir.cron.trigger'].search([('cron_id', '=', cron.id)]),
                        "Odoo's post-processing is asked to run now")
        tx._post_process()
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        # "Pay with Alma" again shows the accepted payment; the invoice is paid.
        self.assertEqual(self.open(invoice).payment_state, 'accepted')

    # === 6. One live Alma payment per invoice === #

    def test_one_live_payment_per_invoice(self):
        invoice = self.invoice_for(399.0)
        first = self.send(invoice)
        second = self.open(invoice)
        self.assertEqual((second.step, second.payment_url), ('sent', first.payment_url))
        self.assertIn("still waiting", second.payment_note)
        # A dialog opened before the first link was sent: its Send answers the same payment.
        late = self.env['alma.payment.wizard'].with_user(self.invoicing_user).create({
            'invoice_id': invoice.id, 'contact_id': self.jean.id})
        late._alma_load_offers()
        late.plan_id = self.env.ref('payment_alma.plan_4x')
        late.action_send_link()
        self.assertEqual(late.payment_url, first.payment_url)
        self.assertIn("still waiting", late.payment_note)
        self.assertEqual(self.creations(), 1)
        self.assertEqual(len(invoice.transaction_ids), 1)

    def online(self, invoice):
        """The customer opens the invoice in the portal and pays it with Alma in 4x."""
        tx = self.env['payment.transaction'].create({
            'provider_id': self.alma.id, 'payment_method_id': self.alma_method.id,
            'reference': f'INV-WEB-{invoice.id}', 'amount': invoice.amount_residual,
            'currency_id': invoice.currency_id.id, 'partner_id': self.jean.id,
            'operation': 'online_redirect', 'invoice_ids': [(6, 0, invoice.ids)],
        })
        try:  # The payment form's route says a refusal as this answer.
            return tx, {'url': tx._alma_create_payment(self.env.ref('payment_alma.plan_4x'))}
        except UserError as error:
            return tx, {'error': error.args[0]}

    def test_a_link_sent_then_paid_online_is_cancelled_first(self):
        invoice = self.invoice_for(399.0)
        self.send(invoice, send_mode='sms')
        sent = self.payment_of(invoice)
        tx, answer = self.online(invoice)
        self.assertTrue(answer.get('url'), answer)
        self.env.invalidate_all()
        self.assertEqual(sent.state, 'cancelled')
        self.assertEqual(self.alma_requests('PUT', f'/v1/payments/{sent.alma_id}/cancel'), 1,
                         "the SMS link no longer works")
        self.assertIn("started online", sent.state_reason)
        self.assertEqual((invoice.transaction_ids - tx).mapped('state'), ['cancel'])

        online = self.env['alma.payment'].search([('transaction_id', '=', tx.id)])
        self.customer_pays(online.alma_id)
        self.env['alma.payment']._cron_alma_poll_pending()
        tx._post_process()
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        self.assertEqual(online.state, 'accepted')
        self.assertEqual(sent.state, 'cancelled', "paid once, online")

    def test_a_link_paid_meanwhile_stops_the_online_payment(self):
        invoice = self.invoice_for(399.0)
        self.send(invoice, send_mode='sms')
        self.customer_pays(self.payment_of(invoice).alma_id)  # On the SMS link, just before.
        _tx, answer = self.online(invoice)
        self.assertIn("just been paid", answer.get('error', ''))
        self.assertEqual(self.creations(), 1, "no second Alma payment for the invoice")
        self.assertEqual(self.payment_of(invoice).state, 'accepted')

    def test_a_lost_answer_is_found_again_not_doubled(self):
        invoice = self.invoice_for(399.0)
        wizard = self.open(invoice)
        wizard.plan_id = self.env.ref('payment_alma.plan_3x')
        self.standin.fail('disconnect', method='POST', path_prefix='/v1/payments', times=1)
        # The product commits in its own cursor: no assertRaises (it would roll back).
        error = None
        try:
            wizard.action_send_link()
        except UserError as exception:
            error = exception
        self.assertTrue(error, "Alma's answer was lost: the user is told")
        self.assertEqual(invoice.transaction_ids.state, 'draft', "kept to be sent again")
        self.env['alma.payment'].sudo().search([('invoice_id', '=', invoice.id)]).write(
            {'creation_attempted_at': '2000-01-01 00:00:00'})
        wizard.action_send_link()
        self.assertEqual(len(invoice.transaction_ids), 1, "the same transaction")
        self.assertEqual(len(self.standin.payments), 1, "one payment at Alma")
        self.assertEqual(wizard.payment_state, 'waiting')

    # === 7. Rights, from the attacker's side === #

    def test_rights(self):
        invoice = self.invoice_for(399.0)
        portal, stranger = self.jean_user, new_test_user(
            self.env, login='alma_employee', groups='base.group_user',
            company_id=self.company.id, company_ids=self.company.ids)
        for user in (portal, stranger):
            with self.assertRaises(AccessError):
                invoice.with_user(user).action_alma_pay()

        # Another company's invoice, reached directly or through one's own dialog.
        other = self.setup_other_company(name="Autre clinique")['company']
        foreign = self.init_invoice('out_invoice', partner=self.paul, amounts=[399.0],
                                    taxes=self.env['account.tax'], post=True, company=other)
        with self.assertRaises(AccessError):
            foreign.with_user(self.invoicing_user).action_alma_pay()
        wizard = self.open(invoice)
        wizard.write({'invoice_id': foreign.id,
                      'plan_id': self.env.ref('payment_alma.plan_3x').id})
        with self.assertRaises(AccessError):
            wizard.action_send_link()
        self.assertFalse(wizard.payment_reference)

        # A contact of another customer.
        wizard = self.open(invoice)
        wizard.write({'contact_id': self.paul.id,
                      'plan_id': self.env.ref('payment_alma.plan_3x').id})
        self.assertNotIn(self.paul, wizard.allowed_contact_ids)
        with self.assertRaisesRegex(UserError, "Choose a contact of the invoice's customer"):
            wizard.action_send_link()

        # Someone else's dialog, and a dialog's buttons before anything was sent.
        colleague = new_test_user(
            self.env, login='alma_colleague',
            groups='base.group_user,account.group_account_invoice',
            company_id=self.company.id, company_ids=self.company.ids)
        with self.assertRaises(AccessError):
            wizard.with_user(colleague).read(['payment_url'])
        with self.assertRaisesRegex(UserError, "no Alma payment"):
            wizard.action_cancel_payment()

        self.assertEqual(self.creations(), 0, "Alma got no payment to create")
        self.assertFalse(invoice.transaction_ids | foreign.transaction_ids)

    def test_the_buttons_of_a_sent_link_need_the_invoice(self):
        invoice = self.invoice_for(399.0)
        wizard = self.send(invoice, send_mode='link')
        payment = self.payment_of(invoice)
        invoice.with_user(self.invoicing_user).check_access('write')
        self.invoicing_user.groups_id -= self.env.ref('account.group_account_invoice')
        for action in ('action_cancel_payment', 'action_resend_sms', 'action_refresh'):
            with self.assertRaises(AccessError):
                getattr(wizard, action)()
        self.assertFalse(wizard.sudo().payment_url, "nor is the link shown")
        self.assertEqual(payment.state, 'waiting')
        self.assertEqual(len(self.standin.sms_outbox), 0)
