"""Issue 18, items 4 and 6: the books in a French accountant's words, and an online payment
keeps its invoice (in "Frais Alma" and *Paiements Alma*)."""
import uuid

from odoo import Command
from odoo.tests import tagged

from odoo.addons.payment_alma.tests.common import AlmaPosCommon


@tagged('post_install', '-at_install')
class TestClinicBooks(AlmaPosCommon):
    """The French chart (scripts/test installs l10n_fr_account; the add-on needs none)."""

    chart_fallback = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.speak_french(cls.accounting_manager)
        # The invoice's payment states, in the words of Odoo's own French translation.
        cls.env['ir.module.module']._load_module_terms(['account'], ['fr_FR'])

    def setUp(self):
        super().setUp()
        self.standin.configure(ipn_delay=600)

    def flush_tracking(self):
        """What a commit does: the chatter's tracking is written (and its labels with it)."""
        self.env.flush_all()
        self.env.cr.precommit.run()

    def invoices_paid_online(self, invoices):
        """The customer pays these invoices with Alma in Odoo's payment form (one transaction,
        as the portal's "overdue invoices" page makes); Odoo's cron post-processes it, as
        OdooBot, in English."""
        alma_method = self.env.ref('payment.payment_method_alma')
        alma_method.active = True
        self.alma.payment_method_ids = [Command.set(alma_method.ids)]
        Transaction = self.env['payment.transaction']
        links = {'invoice_ids': [Command.set(invoices.ids)]}
        tx = Transaction.create({
            'provider_id': self.alma.id, 'payment_method_id': alma_method.id,
            'reference': Transaction._compute_reference('alma', **links),
            'amount': sum(invoices.mapped('amount_residual')),
            'currency_id': invoices.currency_id.id, 'partner_id': self.jean.id,
            'operation': 'online_redirect', **links,
        })
        tx._alma_create_payment(self.env.ref('payment_alma.plan_3x'))
        payment = self.env['alma.payment'].search([('transaction_id', '=', tx.id)])
        self.standin.pay(payment.alma_id)
        self.env['alma.payment']._cron_alma_poll_pending()
        self.env.invalidate_all()
        self.assertEqual(tx.state, 'done')
        self.flush_tracking()  # The notification's transaction is over: the cron's begins.
        # Odoo's cron: no language in its context (English), and the chatter's tracking on
        # (the tests' environment turns it off).
        cron_env = self.env(context={})
        self.assertFalse(cron_env.lang)
        tx.with_env(cron_env)._post_process()
        self.flush_tracking()
        return tx, payment

    # === Item 4: the books in French words === #

    def test_fees_are_other_fees_and_commissions_on_services(self):
        fee_account, _vat = self.alma._alma_fee_accounts()
        self.assertEqual(fee_account.code, '627800')
        self.assertEqual(fee_account.with_context(lang='fr_FR').name,
                         "Autres frais et commissions sur prestations de services")
        # Still a setting: the provider's fee account wins.
        chosen = self.env['account.account'].search([
            *self.env['account.account']._check_company_domain(self.alma.company_id),
            ('code', '=', '627100')])
        self.alma.alma_fee_account_id = chosen
        self.assertEqual(self.alma._alma_fee_accounts()[0], chosen)

    def test_alma_account_named_in_french(self):
        account = self.alma._alma_outstanding_account()
        self.assertEqual(account.with_context(lang='fr_FR').name,
                         "Paiements Alma en attente d’encaissement")
        self.assertEqual(self.alma.journal_id.inbound_payment_method_line_ids.filtered(
            lambda line: line.payment_provider_id == self.alma).payment_account_id, account)
        # Read in French, it is still the same account: no twin is made.
        self.assertEqual(self.alma.with_context(lang='fr_FR')._alma_outstanding_account(),
                         account)
        self.assertEqual(self.alma.with_context(lang='fr_FR')._alma_outstanding_account(),
                         account)
        self.assertEqual(self.alma.journal_id.with_context(lang='fr_FR').name, "Alma")

    def test_the_invoice_chatter_says_paid_in_french(self):
        invoice = self.posted_invoice()
        self.flush_tracking()  # Posted in a transaction of its own.
        self.invoices_paid_online(invoice)
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        tracking = self.env['mail.tracking.value'].search([
            ('field_id.model', '=', 'account.move'), ('field_id.name', '=', 'payment_state'),
            ('mail_message_id.model', '=', 'account.move'),
            ('mail_message_id.res_id', '=', invoice.id)])
        self.assertEqual(len(tracking), 1)
        french = self.env['account.move'].with_context(lang='fr_FR')
        labels = dict(french._fields['payment_state']._description_selection(french.env))
        self.assertNotEqual(labels['not_paid'], "Not Paid", "account's French terms loaded")
        self.assertEqual((tracking.old_value_char, tracking.new_value_char),
                         (labels['not_paid'], labels[invoice.payment_state]))

    # === Item 6: an online payment keeps its invoice === #

    def test_an_invoice_paid_online_is_named_in_the_books(self):
        invoice = self.posted_invoice()
        _tx, payment = self.invoices_paid_online(invoice)
        self.assertEqual(payment.invoice_id, invoice)
        line = self.env['alma.fee.line'].search([('alma_payment_id', '=', payment.id)])
        self.assertEqual(line.origin, invoice.name)
        self.assertNotEqual(line.origin, payment.reference, "not Alma's ALMA-… reference")
        self.assertEqual(self.standin.payments[payment.alma_id]['orders'][0]['merchant_reference'],
                         invoice.name, "Alma's back office names the invoice too")

    def test_several_invoices_paid_online_are_all_named(self):
        first, second = self.posted_invoice(), self.posted_invoice()
        _tx, payment = self.invoices_paid_online(first | second)
        self.assertEqual(payment.invoice_id, first, "The list's column opens the first one")
        line = self.env['alma.fee.line'].search([('alma_payment_id', '=', payment.id)])
        self.assertEqual(line.origin, f"{first.name}, {second.name}")
        self.assertIn(first.payment_state, ('paid', 'in_payment'))
        self.assertIn(second.payment_state, ('paid', 'in_payment'))

    # === Issue 22, item 5: the month in pictures, for the bookkeeper and the manager === #

    def test_the_month_in_graphs_and_pivots(self):
        """The pivot of "Frais Alma" by month adds up to what the list adds up to, and the
        manager's pivot of Alma payments tells the till from the website, in French."""
        self.alma_accepted(399.0, str(uuid.uuid4()), str(uuid.uuid4()))
        self.invoices_paid_online(self.posted_invoice())
        refund_payment = self.alma_accepted(120.0, str(uuid.uuid4()), str(uuid.uuid4()))
        refund_payment.with_user(self.accounting_manager).action_alma_refund()
        # The bookkeeper's session: their user, their language (French).
        bookkeeper = self.env(user=self.accounting_manager,
                              context=dict(self.env.context, lang=self.accounting_manager.lang))
        lines = bookkeeper['alma.fee.line'].search([])
        self.assertEqual(sorted(lines.mapped('kind')), ['payment', 'payment', 'payment',
                                                        'refund'])
        [month] = bookkeeper['alma.fee.line'].read_group(
            [], ['gross:sum', 'fee:sum', 'fee_vat:sum', 'net:sum'], ['date:month'])
        for measure in ('gross', 'fee', 'fee_vat', 'net'):
            self.assertAlmostEqual(month[measure], sum(lines.mapped(measure)), places=2)
        self.assertAlmostEqual(month['net'], month['gross'] - month['fee'] - month['fee_vat'],
                               places=2)
        for model in ('alma.fee.line', 'alma.payment'):
            views = bookkeeper[model].get_views([(False, 'graph'), (False, 'pivot')])['views']
            self.assertEqual(set(views), {'graph', 'pivot'})
        channels = {group['channel']: group['channel_count'] for group in bookkeeper[
            'alma.payment'].read_group([('state', '=', 'accepted')], ['amount_collected:sum'],
                                       ['channel'])}
        self.assertEqual(channels, {'pos': 2, 'online': 1})
        labels = dict(bookkeeper['alma.payment'].fields_get(['channel'])['channel']['selection'])
        self.assertEqual((labels['pos'], labels['online']), ("Caisse", "En ligne"))
