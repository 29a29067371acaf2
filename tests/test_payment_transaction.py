from html import unescape

import requests

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.tests.common import AlmaWebCommon


@tagged('post_install', '-at_install')
class TestAlmaTransaction(AlmaWebCommon):
    """Odoo's payment form with Alma: the transaction, the Alma payment, the return, the IPN."""

    def pay_invoice_form(self, invoice, amount=None):
        """What the payment form does on "Pay": create the transaction through Odoo's route."""
        return self.make_jsonrpc_request(f'/invoice/transaction/{invoice.id}', {
            'provider_id': self.alma.id,
            'payment_method_id': self.alma_method.id,
            'token_id': None,
            'amount': amount or invoice.amount_residual,
            'flow': 'direct',
            'tokenization_requested': False,
            'landing_route': invoice.get_portal_url(),
            'is_validation': False,
            'access_token': invoice._portal_ensure_token(),
        })

    def create_alma_payment(self, processing_values, plan='payment_alma.plan_3x', token=None):
        return self.make_jsonrpc_request('/payment/alma/payment', {
            'reference': processing_values['reference'],
            'plan_id': self.env.ref(plan).id,
            'access_token': token or processing_values['alma_access_token'],
        })

    def alma_payment_of(self, tx):
        return self.env['alma.payment'].search([('transaction_id', '=', tx.id)])

    def start(self, amount=399.0):
        invoice = self.invoice_for(amount)
        values = self.pay_invoice_form(invoice)
        tx = self.env['payment.transaction'].search([('reference', '=', values['reference'])])
        answer = self.create_alma_payment(values)
        self.assertFalse(answer.get('error'), answer.get('error'))
        return invoice, tx, answer['url']

    def come_back(self, tx):
        """The customer's browser follows Alma's return link."""
        alma_id = self.alma_payment_of(tx).alma_id
        response = self.url_open(f'/payment/alma/return?pid={alma_id}', allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers['Location'].endswith('/payment/status'))
        tx.invalidate_recordset()

    ipn = AlmaWebCommon.alma_notify

    def speak_french_online(self):
        """The website in French only, as the clinic's customers read it."""
        self.assertIn('website', self.env, "scripts/test installs website_sale in its database")
        french = self.env['res.lang']._activate_lang('fr_FR')
        self.env['ir.module.module']._load_module_terms(['payment_alma'], ['fr_FR'])
        self.env.ref('website.default_website').write({
            'language_ids': [Command.set(french.ids)], 'default_lang_id': french.id})

    def invoice_page(self, invoice):
        """The invoice's page, as the customer lands on it after the payment's status page."""
        response = self.url_open(invoice.get_portal_url())
        self.assertEqual(response.status_code, 200)
        return unescape(response.text)

    # === The payment form === #

    def test_alma_listed_only_when_a_plan_takes_the_amount(self):
        Provider = self.env['payment.provider']
        eur = self.env.ref('base.EUR')
        providers = Provider._get_compatible_providers(
            self.company.id, self.jean.id, 399.0, currency_id=eur.id)
        self.assertIn(self.alma, providers)
        methods = self.env['payment.method']._get_compatible_payment_methods(
            providers.ids, self.jean.id, currency_id=eur.id)
        self.assertIn(self.alma_method, methods, "A French customer paying in euros gets Alma")
        report = {}
        providers = Provider._get_compatible_providers(
            self.company.id, self.jean.id, 30.0, currency_id=eur.id, report=report)
        self.assertNotIn(self.alma, providers, "30 € is below every plan's minimum")
        self.assertFalse(report['providers'][self.alma]['available'])
        usd = self.env.ref('base.USD')
        self.assertNotIn(self.alma, Provider._get_compatible_providers(
            self.company.id, self.jean.id, 399.0, currency_id=usd.id))
        self.assertNotIn(self.alma, Provider._get_compatible_providers(
            self.company.id, self.jean.id, 0.0, currency_id=eur.id, is_validation=True))

    def test_alma_down_hides_it(self):
        self.standin.fail(500, path_prefix='/v2/payments/eligibility', times=10)
        self.assertNotIn(self.alma, self.env['payment.provider']._get_compatible_providers(
            self.company.id, self.jean.id, 399.0, currency_id=self.env.ref('base.EUR').id))

    def test_inline_form_shows_plans_schedules_and_fees(self):
        invoice = self.invoice_for(399.0)
        self.authenticate('jean', 'jean')
        page = self.url_open(invoice.get_portal_url()).text
        self.assertIn('name="o_alma_plan"', page)
        self.assertIn('data-plan-code="P3X"', page.replace("'", '"'))
        self.assertEqual(page.count('133.00'), 3, "399 € in 3x: 133 € three times")

    # === The transaction === #

    def test_redirect_then_paid_on_return(self):
        invoice, tx, url = self.start()
        payment = self.alma_payment_of(tx)
        self.assertEqual(url, payment.url)
        self.assertEqual((payment.state, payment.price_cents, payment.plan_id.code),
                         ('waiting', 39900, 'P3X'))
        remote = self.standin.payments[payment.alma_id]
        self.assertEqual(remote['purchase_amount'], 39900)
        self.assertEqual(remote['origin'], 'online')
        for key in ('return_url', 'failure_return_url'):
            self.assertTrue(remote[key].endswith('/payment/alma/return'), remote[key])
        self.assertTrue(remote['customer_cancel_url'].endswith('/payment/alma/cancel'))
        self.assertNotIn('//payment', remote['customer_cancel_url'])
        self.assertEqual(tx.state, 'draft', "Nobody has paid on Alma's page yet")
        self.assertEqual(tx.provider_reference, payment.alma_id)

        self.customer_pays(payment.alma_id)
        self.come_back(tx)
        self.assertEqual(tx.state, 'done')
        tx._post_process()
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        self.assertEqual(tx.payment_id.journal_id, self.alma.journal_id)
        self.assertAlmostEqual(tx.payment_id.amount, 399.0)
        self.assertEqual(len(self.standin.payments), 1)

    def test_paid_through_the_notification_only(self):
        invoice, tx, _url = self.start()
        payment = self.alma_payment_of(tx)
        self.customer_pays(payment.alma_id)
        self.assertEqual(self.ipn(payment.alma_id).status_code, 200)
        tx.invalidate_recordset()
        self.assertEqual(tx.state, 'done')
        tx._post_process()  # What Odoo's cron does for a customer who never came back.
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        self.come_back(tx)  # Then the customer comes back: nothing more happens.
        self.assertEqual(self.env['account.payment'].search_count(
            [('payment_transaction_id', '=', tx.id)]), 1)

    def test_what_alma_says_reaches_the_transaction_through_odoo(self):
        """Every state of an Alma payment or refund moves its transaction, through Odoo's
        notification path; a notification of no transaction of ours is refused, not applied."""
        mapped = {state for states in const.STATUS_MAPPING.values() for state in states}
        refund_states = dict(self.env['alma.refund']._fields['state'].selection)
        self.assertLessEqual(set(dict(const.PAYMENT_STATES)) - {'draft'}, mapped)
        self.assertLessEqual(set(refund_states), mapped)
        _invoice, tx, _url = self.start()
        with self.assertRaisesRegex(ValidationError, "no transaction found"):
            self.env['payment.transaction']._handle_notification_data(
                'alma', {'reference': f'{tx.reference}-forged', 'status': 'accepted'})
        self.assertEqual(tx.state, 'draft')

    def test_the_alma_payment_is_what_its_transaction_is(self):
        """Issue 21: the transaction is the sale's one record. Its Alma payment has no state
        of its own: at each step it reads its transaction's (waiting, paid, expired), and only
        what the transaction cannot tell comes from its reason (expired rather than cancelled;
        never created at Alma, its transaction kept for another attempt). So is a refund."""
        for model in ('alma.payment', 'alma.refund'):  # Refunds: see test_refunds.
            state = self.env[model]._fields['state']
            self.assertTrue(state.compute and state.store and not state.inverse, model)
        _invoice, paid, _url = self.start()
        payment = self.alma_payment_of(paid)
        self.assertEqual((payment.state, paid.state), ('waiting', 'draft'))
        self.customer_pays(payment.alma_id)
        self.assertEqual(self.ipn(payment.alma_id).status_code, 200)
        self.env.invalidate_all()
        self.assertEqual((payment.state, paid.state), ('accepted', 'done'))
        _invoice, expired, _url = self.start()
        self.standin.expire(self.alma_payment_of(expired).alma_id)
        self.env['alma.payment']._cron_alma_poll_pending()
        self.env.invalidate_all()
        self.assertEqual((self.alma_payment_of(expired).state, expired.state),
                         ('expired', 'cancel'))
        invoice = self.invoice_for(399.0)
        values = self.pay_invoice_form(invoice)
        self.standin.fail(503, method='POST', path_prefix='/v1/payments', times=1)
        with self.assertLogs('odoo.addons.payment_alma', level='WARNING'):
            self.assertTrue(self.create_alma_payment(values).get('error'))
        unsent = self.env['payment.transaction'].search([('reference', '=', values['reference'])])
        self.assertEqual((self.alma_payment_of(unsent).state, unsent.state), ('error', 'draft'))
        self.assertFalse(self.create_alma_payment(values).get('error'), "sent on a retry")
        self.env.invalidate_all()
        self.assertEqual(self.alma_payment_of(unsent).mapped('state'), ['waiting'])

    def test_declined_card(self):
        invoice, tx, _url = self.start()
        payment = self.alma_payment_of(tx)
        self.customer_pays(payment.alma_id, card='4000000000000002')
        self.come_back(tx)
        self.assertEqual(tx.state, 'error')
        self.assertEqual(tx.state_message, "Alma refused the payment.")
        tx._post_process()
        self.assertEqual(invoice.payment_state, 'not_paid')

    def test_the_invoice_page_says_the_card_was_declined(self):
        """Issue 18, item 7: after a refusal the customer's invoice page says what happened and
        what to do, in French."""
        self.speak_french_online()
        invoice, tx, _url = self.start()
        self.customer_pays(self.alma_payment_of(tx).alma_id, card='4000000000000002')
        self.come_back(tx)
        self.assertEqual(tx.state, 'error')
        page = self.invoice_page(invoice)
        self.assertIn("Le paiement avec Alma a été refusé\u00a0: aucun montant n’a été prélevé. "
                      "Vous pouvez réessayer ou choisir un autre moyen de paiement.", page)
        self.assertNotIn("Vous avez quitté la page d’Alma", page)

    def test_the_invoice_page_says_the_customer_left_alma(self):
        """Issue 18, item 7: a customer who gave up on Alma's page is told nothing was paid."""
        self.speak_french_online()
        invoice, tx, _url = self.start()
        payment = self.alma_payment_of(tx)
        response = self.url_open(f'/payment/alma/cancel?pid={payment.alma_id}',
                                 allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.env.invalidate_all()
        self.assertEqual(tx.state, 'cancel')
        page = self.invoice_page(invoice)
        self.assertIn("Vous avez quitté la page d’Alma\u00a0: rien n’a été payé. "
                      "Vous pouvez réessayer ou choisir un autre moyen de paiement.", page)
        self.assertNotIn("a été refusé", page)

    def test_a_paid_invoice_page_says_nothing_of_alma_refusals(self):
        """A refusal, then paid another way: the page no longer speaks of the refusal."""
        invoice, tx, _url = self.start()
        self.customer_pays(self.alma_payment_of(tx).alma_id, card='4000000000000002')
        self.come_back(tx)
        self.assertIn("Alma refused the payment: nothing was charged.", self.invoice_page(invoice))
        self.env['account.payment.register'].with_context(
            active_model='account.move', active_ids=invoice.ids).create({})._create_payments()
        self.assertNotIn("Alma refused the payment: nothing was charged.",
                         self.invoice_page(invoice))

    def test_abandoned_then_expired(self):
        invoice, tx, _url = self.start()
        payment = self.alma_payment_of(tx)
        self.come_back(tx)  # Back without paying: still waiting for the customer.
        self.assertEqual(tx.state, 'draft')
        self.standin.expire(payment.alma_id)
        self.env['alma.payment']._cron_alma_poll_pending()
        tx.invalidate_recordset()
        self.assertEqual(tx.state, 'cancel')
        self.assertEqual(invoice.payment_state, 'not_paid')

    def test_only_the_paying_browser_cancels_by_giving_up(self):
        invoice, tx, _url = self.start()
        payment = self.alma_payment_of(tx)
        cancel = f'/payment/alma/cancel?pid={payment.alma_id}'
        # Someone else who learnt the payment's id, without the customer's session.
        requests.get(f'{self.base_url()}{cancel}', allow_redirects=False, timeout=10)
        self.assertEqual(payment.state, 'waiting')
        self.assertFalse(self.standin.payments[payment.alma_id]['expired_at'])
        self.assertNotIn(('PUT', f'/v1/payments/{payment.alma_id}/cancel'), self.standin.requests)
        response = self.url_open(cancel, allow_redirects=False)  # The customer's browser.
        self.assertEqual(response.status_code, 303)
        self.env.invalidate_all()
        self.assertEqual((payment.state, tx.state), ('cancelled', 'cancel'))
        self.assertEqual(invoice.payment_state, 'not_paid')

    def test_one_alma_payment_per_transaction(self):
        invoice = self.invoice_for(399.0)
        values = self.pay_invoice_form(invoice)
        first = self.create_alma_payment(values)
        second = self.create_alma_payment(values)
        self.assertEqual(first['url'], second['url'])
        self.assertEqual(len(self.standin.payments), 1)

    def test_forged_requests_change_nothing(self):
        invoice = self.invoice_for(399.0)
        values = self.pay_invoice_form(invoice)
        with self.assertLogs('odoo.addons.payment_alma', level='WARNING'):
            answer = self.create_alma_payment(values, token='forged')
        self.assertIn("access token is invalid", answer['error'], "an answer, no traceback")
        self.assertFalse(self.standin.payments)
        self.alma.alma_plan_ids -= self.env.ref('payment_alma.plan_2x')
        values = self.pay_invoice_form(invoice)
        answer = self.create_alma_payment(values, plan='payment_alma.plan_2x')
        self.assertTrue(answer.get('error'), "A plan the merchant does not offer is refused")
        response = self.url_open('/payment/alma/return?pid=payment_unknown',
                                 allow_redirects=False)
        self.assertEqual(response.status_code, 303)

    def test_amount_below_minimum_refused_by_the_server(self):
        invoice = self.invoice_for(30.0)
        values = self.pay_invoice_form(invoice)
        answer = self.create_alma_payment(values)
        self.assertTrue(answer.get('error'))
        self.assertFalse(self.standin.payments)
