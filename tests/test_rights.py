import uuid

from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.payment_alma.tests.common import AlmaPosCommon, web_open


@tagged('post_install', '-at_install')
class TestRights(AlmaPosCommon):
    """Each role reads what its job shows it, as the web client reads it, holding only the
    standard groups of that job: the accounting (Invoicing's "Facturation" bookkeeper,
    Accounting's administrator, the read-only accountant) every Alma payment, refund and fee
    line; a POS manager the tills' payments and their refunds; a cashier none (the till's RPCs
    give what the till needs)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountants = cls.accounting_manager | cls.invoicing_user | cls.accounting_reader

    def setUp(self):
        super().setUp()
        self.standin.configure(ipn_delay=600)
        # A till's payment, partly refunded from its form (a refund and two fee lines).
        self.payment = self.alma_accepted(399.0, str(uuid.uuid4()), str(uuid.uuid4()))
        self.payment.with_user(self.accounting_manager).action_alma_refund()
        self.env.invalidate_all()
        self.assertTrue(self.payment.refund_ids)
        # A payment made elsewhere than at a till (a website's, an invoice's link).
        # sudo: Alma payments are read-only for everyone but the add-on (issue 19, 13).
        self.web_payment = self.env['alma.payment'].sudo().create({
            'provider_id': self.alma.id, 'currency_id': self.payment.currency_id.id,
            'plan_id': self.payment.plan_id.id, 'partner_id': self.jean.id, 'state': 'expired',
            'price_cents': 12000, 'purchase_amount_cents': 12000,
        })
        self.fee_lines = self.env['alma.fee.line'].search(
            [('alma_payment_id', '=', self.payment.id)])
        self.assertEqual(len(self.fee_lines), 2)

    def visible_menus(self, user):
        return {self.env.ref(xmlid) for xmlid in (
            'payment_alma.menu_alma_payment', 'payment_alma.menu_alma_payment_pos',
            'payment_alma.menu_alma_fee_line',
        ) if self.env.ref(xmlid).id in self.env['ir.ui.menu'].with_user(user)._visible_menu_ids()}

    def assertOpensEach(self, user, action_xmlid, model, records):
        """`user` opens the action's list, then each line's form, and reads all `records`."""
        read = web_open(self.env[model].with_user(user), action_xmlid)
        listed = {record['id'] for record in read['list']}
        self.assertLessEqual(set(records.ids), listed)
        if read['form']:  # The fee lines have no form: a double-click settles a line.
            self.assertEqual({record['id'] for record in read['form']}, listed)
        return read

    def test_the_accounting_opens_payments_refunds_and_fee_lines(self):
        refund = self.payment.refund_ids
        for user in self.accountants:
            with self.subTest(user=user.login):
                self.assertEqual(self.visible_menus(user), {
                    self.env.ref('payment_alma.menu_alma_payment'),
                    self.env.ref('payment_alma.menu_alma_fee_line')})
                read = self.assertOpensEach(user, 'payment_alma.action_alma_payment',
                                            'alma.payment', self.payment | self.web_payment)
                form = next(values for values in read['form'] if values['id'] == self.payment.id)
                self.assertEqual([line['id'] for line in form['refund_ids']], refund.ids)
                self.assertEqual(form['refund_ids'][0]['amount'], 399.0)
                # The chatter's messages.
                Payment = self.env['alma.payment'].with_user(user)
                self.assertEqual(Payment._get_thread_with_access(self.payment.id), self.payment)
                self.assertTrue(self.env['mail.message'].with_user(user)._message_fetch(
                    [('model', '=', 'alma.payment'), ('res_id', '=', self.payment.id)],
                )['messages'])
                self.assertOpensEach(user, 'payment_alma.action_alma_fee_line',
                                     'alma.fee.line', self.fee_lines)
                # Reading only: nothing is changed, created or deleted but by the add-on.
                for record in (self.payment, refund):
                    with self.assertRaises(AccessError):
                        record.with_user(user).unlink()
                with self.assertRaises(AccessError):
                    refund.with_user(user).write({'error': "x"})

    def test_a_pos_manager_opens_the_tills_payments_and_refunds(self):
        self.assertEqual(self.visible_menus(self.pos_admin),
                         {self.env.ref('payment_alma.menu_alma_payment_pos')})
        read = self.assertOpensEach(self.pos_admin, 'payment_alma.action_alma_payment_pos',
                                    'alma.payment', self.payment)
        form = next(values for values in read['form'] if values['id'] == self.payment.id)
        self.assertEqual([line['id'] for line in form['refund_ids']],
                         self.payment.refund_ids.ids)
        # Not a payment of the website or of an invoice, nor the bookkeeping's fee lines.
        Payment = self.env['alma.payment'].with_user(self.pos_admin)
        self.assertIn(self.payment, Payment.search([]))
        self.assertFalse(Payment.search([('pos_payment_method_id', '=', False)]))
        with self.assertRaises(AccessError):
            self.web_payment.with_user(self.pos_admin).read(['reference'])
        with self.assertRaises(AccessError):
            self.fee_lines.with_user(self.pos_admin).read(['gross'])
        with self.assertRaises(AccessError):
            self.payment.with_user(self.pos_admin).write({'state_reason': "x"})

    def test_a_pos_manager_of_another_clinic_reads_nothing_of_this_one(self):
        other = self.env['res.company'].create({'name': "Autre clinique"})
        stranger = self.env['res.users'].create({
            'name': "Autre responsable", 'login': 'alma_other_pos_manager',
            'company_id': other.id, 'company_ids': other.ids,
            'groups_id': [(6, 0, self.env.ref('point_of_sale.group_pos_manager').ids)],
        })
        for model, records in (('alma.payment', self.payment),
                               ('alma.refund', self.payment.refund_ids)):
            self.assertFalse(self.env[model].with_user(stranger).search([]))
            with self.assertRaises(AccessError):
                records.with_user(stranger).read(['reference'])

    def test_a_cashier_reads_no_back_office_record(self):
        self.assertFalse(self.visible_menus(self.pos_user))
        for model in ('alma.payment', 'alma.refund', 'alma.fee.line'):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.pos_user).search([])
        with self.assertRaises(AccessError):
            self.payment.with_user(self.pos_user).read(['reference'])
        # The till's RPC still gives the cashier the state of the till's line.
        status = self.alma_pos_method.with_user(self.pos_user).alma_get_status(
            self.payment.pos_payment_uuid)
        self.assertEqual(status['payment']['state'], 'accepted')

    def test_cents_are_not_offered_to_filter_or_group_by(self):
        """The integer cents are the code's: a bookkeeper filters and groups by the amounts."""
        for model, amount in (('alma.payment', 'price'), ('alma.refund', 'amount'),
                              ('alma.fee.line', 'gross')):
            Model = self.env[model].with_user(self.invoicing_user)
            for fields in (Model.fields_get(attributes=['string', 'groupable', 'searchable']),
                           Model.get_views([(False, 'search')])['models'][model]['fields']):
                self.assertIn(amount, fields)
                self.assertFalse([name for name in fields if name.endswith('_cents')], model)
        # The code's own searches and groupings on them still work for the bookkeeper.
        Payment = self.env['alma.payment'].with_user(self.invoicing_user)
        self.assertEqual(Payment.search([('price_cents', '=', 12000)]), self.web_payment)
        self.assertEqual(
            Payment._read_group([('id', '=', self.web_payment.id)], [], ['price_cents:sum']),
            [(12000,)])
