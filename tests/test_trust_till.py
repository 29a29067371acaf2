"""Issue 19 (items 1, 7 and 12) and issue 23 (item 3): the till, second pass.

In the clinic's world (`ClinicCommon`), as its cashier `accueil` (Point of Sale user only), each
door is tried and the victim's side checked afterwards: the sale and its accepted Alma payment,
the customer's contacts, what the payment records, and the French certification's chain.
"""
import importlib
import uuid
from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.payment_alma.models.pos_order import PAID_STATES
from odoo.addons.payment_alma.tests.common import ClinicCommon

DECLINED_CARD = '4000000000000002'


class ClinicTillCommon(ClinicCommon):
    """A sale of the clinic paid with Alma at its till, by its cashier."""

    product_name = "Stérilisation chatte"  # 175 € + 20 % VAT: 210 €, within Alma's limits.

    def setUp(self):
        super().setUp()
        self.payment = self.clinic_till_sale(self.product_name)
        self.line = self.payment.pos_payment_id
        self.sale = self.line.pos_order_id
        self.session = self.till.current_session_id
        self.method = self.alma_pos_method.with_user(self.cashier)
        self.cash_method = self.till.payment_method_ids.filtered('is_cash_count')
        self.product = self.sale.lines.product_id

    def till_sync(self, qty, payments, refunded=None, order_uuid=None):
        """The order the till syncs: `qty` of the product (VAT included), paid by `payments`
        [(method, amount, line uuid)]."""
        product = self.product
        taxes = product.taxes_id.compute_all(product.list_price, quantity=qty, product=product)
        total = taxes['total_included']
        order_uuid = order_uuid or str(uuid.uuid4())
        result = self.env['pos.order'].with_user(self.cashier).sync_from_ui([{
            'uuid': order_uuid, 'name': f"Commande {order_uuid}", 'session_id': self.session.id,
            'pricelist_id': self.till.pricelist_id.id, 'partner_id': self.jean.id,
            'user_id': self.cashier.id, 'sequence_number': 1,
            'date_order': fields.Datetime.to_string(fields.Datetime.now()),
            'amount_paid': total, 'amount_total': total,
            'amount_tax': total - taxes['total_excluded'], 'amount_return': 0,
            'fiscal_position_id': False, 'last_order_preparation_change': '{}',
            'to_invoice': False, 'state': 'paid',
            'lines': [Command.create({
                'product_id': product.id, 'qty': qty, 'price_unit': product.list_price,
                'price_subtotal': taxes['total_excluded'], 'price_subtotal_incl': total,
                'tax_ids': [Command.set(product.taxes_id.ids)], 'pack_lot_ids': [],
                'refunded_orderline_id': refunded.id if refunded else False,
            })],
            'payment_ids': [Command.create({
                'uuid': line_uuid, 'amount': amount, 'name': fields.Datetime.now(),
                'payment_method_id': method.id,
            }) for method, amount, line_uuid in payments],
        }])
        order = self.env['pos.order'].browse(result['pos.order'][0]['id'])
        self.assertEqual(order.state, 'paid')
        return order

    def send(self, line_uuid, **values):
        answer = self.method.alma_send({
            'pos_payment_uuid': line_uuid, 'pos_order_uuid': str(uuid.uuid4()),
            'amount': self.sale.amount_total, 'plan_id': self.env.ref('payment_alma.plan_3x').id,
            'contact_id': self.jean.id, 'partner_id': self.jean.id, 'send_mode': 'link',
            'session_id': self.session.id, **values,
        })
        return answer

    def creations(self):
        return self.alma_requests('POST', '/v1/payments')


@tagged('post_install', '-at_install')
class TestTillPaidOnlyWithItsAlmaPayment(ClinicTillCommon):
    """Issue 19, item 1: every door to "paid", and the lines of a paid sale stay as paid."""

    def setUp(self):
        super().setUp()
        self.line_was = (self.line.amount, self.line.payment_method_id, self.line.uuid)

    def stolen_line(self):
        """An Alma line carrying the sale's accepted Alma payment (its line's uuid)."""
        return {'payment_method_id': self.alma_pos_method.id, 'amount': self.line.amount,
                'uuid': self.line.uuid, 'name': "Alma"}

    def attacker_order(self, state, payments=()):
        """An order the cashier creates by RPC, of the sale's product and price."""
        sold = self.sale.lines
        return self.env['pos.order'].with_user(self.cashier).create({
            'session_id': self.session.id, 'partner_id': self.jean.id, 'state': state,
            'amount_tax': self.sale.amount_tax, 'amount_total': self.sale.amount_total,
            'amount_paid': sum(values['amount'] for values in payments), 'amount_return': 0,
            'lines': [Command.create({
                'product_id': sold.product_id.id, 'qty': 1, 'price_unit': sold.price_unit,
                'price_subtotal': sold.price_subtotal,
                'price_subtotal_incl': sold.price_subtotal_incl,
                'tax_ids': [Command.set(sold.tax_ids.ids)]})],
            'payment_ids': [Command.create(values) for values in payments],
        })

    def assertVictimUntouched(self):
        """The sale, its Alma line and its accepted Alma payment, as they were paid."""
        self.env.invalidate_all()
        self.assertEqual(self.payment.state, 'accepted')
        self.assertEqual(self.payment.pos_payment_id, self.line, "still bound to its own line")
        self.assertEqual(self.line.pos_order_id, self.sale)
        self.assertEqual((self.line.amount, self.line.payment_method_id, self.line.uuid),
                         self.line_was)
        self.assertEqual(self.sale.payment_ids, self.line)
        self.assertEqual((self.sale.state, self.sale.amount_paid),
                         ('paid', self.sale.amount_total))
        self.assertEqual(self.env['pos.payment'].search([
            ('uuid', '=', self.line.uuid), ('pos_order_id.state', 'in', PAID_STATES)]),
            self.line, "no second paid order uses the Alma payment")
        self.assertEqual(self.creations(), 1, "Alma was asked for the sale's payment only")

    def test_a_one_write_adds_an_alma_line_and_sets_paid(self):
        order = self.attacker_order('draft')
        with self.assertRaises(UserError), self.env.cr.savepoint():
            order.with_user(self.cashier).write({
                'payment_ids': [Command.create(self.stolen_line())], 'state': 'paid'})
        self.assertEqual((order.state, order.payment_ids), ('draft', self.env['pos.payment']))
        self.assertVictimUntouched()

    def test_b_a_cancelled_order_with_an_alma_line_then_paid(self):
        order = self.attacker_order('cancel', [self.stolen_line()])
        with self.assertRaises(UserError), self.env.cr.savepoint():
            order.with_user(self.cashier).action_pos_order_paid()
        self.assertEqual(order.state, 'cancel')
        self.assertVictimUntouched()

    def test_c_the_alma_line_of_a_paid_sale_cannot_be_deleted(self):
        with self.assertRaises(UserError), self.env.cr.savepoint():
            self.line.with_user(self.cashier).unlink()
        with self.assertRaises(UserError), self.env.cr.savepoint():
            self.sale.with_user(self.cashier).write({'payment_ids': [Command.clear()]})
        self.assertVictimUntouched()

    def test_c_the_alma_line_of_a_paid_sale_cannot_be_rewritten(self):
        other = self.attacker_order('draft')
        for values in ({'pos_order_id': other.id}, {'amount': 1.0},
                       {'payment_method_id': self.cash_method.id}, {'uuid': str(uuid.uuid4())},
                       {'transaction_id': 'forged'}):
            with self.subTest(values=values), self.assertRaises(UserError), \
                    self.env.cr.savepoint():
                self.line.with_user(self.cashier).write(values)
        self.assertFalse(other.payment_ids)
        self.assertVictimUntouched()

    def test_c_no_alma_line_is_added_to_a_paid_sale(self):
        with self.assertRaises(UserError), self.env.cr.savepoint():
            self.sale.with_user(self.cashier).add_payment(
                {**self.stolen_line(), 'pos_order_id': self.sale.id})
        self.assertVictimUntouched()


    def test_d_a_payment_refunded_before_the_till_recorded_it_pays_nothing(self):
        """The Alma payment's own *Refund*, while the till has not yet sent its sale (offline):
        the sale the till then sends is refused, not paid by a refunded payment."""
        line_uuid, order_uuid = str(uuid.uuid4()), str(uuid.uuid4())
        total = self.sale.amount_total
        payment = self.clinic_payment_accepted(total, line_uuid=line_uuid, order_uuid=order_uuid)
        payment.with_user(self.admin).action_alma_refund()
        self.assertTrue(payment.amount_refunded_cents)
        with self.assertRaises(UserError) as refusal, self.env.cr.savepoint():
            self.till_sync(1, [(self.alma_pos_method, total, line_uuid)], order_uuid=order_uuid)
        self.assertIn("210", str(refusal.exception), "the amount Alma refunded is named")
        self.assertFalse(self.env['pos.order'].search([
            ('uuid', '=', order_uuid), ('state', 'in', PAID_STATES)]))
        self.assertFalse(payment.pos_payment_id)


@tagged('post_install', '-at_install')
class TestTillContactsAndTill(ClinicTillCommon):
    """Issue 19, items 7 and 12: the contact dialog touches only the order's customer's
    contacts; a till payment records the till that sent it."""

    def contact_values(self, **values):
        return {'first_name': "Ève", 'last_name': "Durand", 'mobile': '06 11 22 33 44',
                'email': 'eve.durand@example.com', 'street': "3 rue des Roses", 'zip': '69003',
                'city': 'Lyon', 'country_id': self.env.ref('base.fr').id, **values}

    def test_7_without_a_customer_no_contact_is_created_or_rewritten(self):
        victim = (self.customers - self.jean)[:1]
        victim_was = (victim.name, victim.email, victim.mobile, victim.street)
        before = self.env['res.partner'].search_count([])
        created = self.method.alma_save_contact(False, self.contact_values())
        rewritten = self.method.alma_save_contact(False, self.contact_values(id=victim.id))
        self.assertTrue(created.get('error'))
        self.assertTrue(rewritten.get('error'))
        self.assertFalse(created.get('contact') or rewritten.get('contact'))
        self.env.invalidate_all()
        self.assertEqual((victim.name, victim.email, victim.mobile, victim.street), victim_was)
        self.assertEqual(self.env['res.partner'].search_count([]), before)

    def test_7_without_a_customer_no_link_is_sent_to_anyone(self):
        """The dialog offers only the order's customer's contacts: `alma_send` without a
        customer is refused, whoever's contact is named (another customer, the clinic)."""
        asked = self.creations()
        till = self.method.with_context(lang=self.cashier.lang)  # As the till calls it.
        for contact in ((self.customers - self.jean)[:1], self.clinic.partner_id):
            with self.subTest(contact=contact.name):
                answer = till.alma_send({
                    'pos_payment_uuid': str(uuid.uuid4()), 'pos_order_uuid': str(uuid.uuid4()),
                    'amount': 399.0, 'plan_id': self.env.ref('payment_alma.plan_3x').id,
                    'contact_id': contact.id, 'partner_id': False, 'send_mode': 'link',
                    'session_id': self.session.id})
                self.assertEqual(answer.get('error'), "Choisissez d'abord le client de la "
                                                      "commande.")
        self.assertEqual(self.creations(), asked, "Alma not asked")

    def test_7_a_new_contact_goes_under_the_customer_in_the_tills_company(self):
        answer = self.method.alma_save_contact(self.jean.id, self.contact_values())
        contact = self.env['res.partner'].browse(answer['contact']['id'])
        self.assertEqual(contact.parent_id, self.jean.commercial_partner_id)
        self.assertEqual(contact.company_id, self.clinic)

    def second_till(self):
        """A second till of the clinic taking Alma, opened by the same cashier."""
        annex = self.env['pos.config'].create({
            'name': "Accueil annexe", 'company_id': self.clinic.id,
            'payment_method_ids': [Command.set(self.alma_pos_method.ids)],
            'pricelist_id': self.till.pricelist_id.id,
            'available_pricelist_ids': [Command.set(self.till.pricelist_id.ids)],
        })
        annex.with_user(self.cashier).open_ui()
        self.assertTrue(self.till.current_session_id, "the first till is open too")
        return annex

    def test_12_the_payment_records_the_till_that_sent_it(self):
        annex = self.second_till()
        line_uuid = str(uuid.uuid4())
        answer = self.send(line_uuid, session_id=annex.current_session_id.id)
        self.assertFalse(answer.get('error'), answer.get('error'))
        payment = self.env['alma.payment'].browse(answer['payment']['id'])
        self.assertEqual(payment.pos_config_id, annex)
        # And the sale's own payment, sent from the clinic's till, names that till.
        self.assertEqual(self.payment.pos_config_id, self.till)

    def test_12_the_contact_rules_use_the_till_that_sends(self):
        annex = self.second_till()
        before = self.env['res.partner'].search_count([])
        answer = self.method.alma_save_contact(
            self.jean.id, self.contact_values(first_name="Accueil", last_name="annexe"),
            annex.current_session_id.id)
        self.assertIn("Accueil annexe", answer.get('errors', {}).get('last_name', ''))
        self.assertEqual(self.env['res.partner'].search_count([]), before)

    def test_12_a_session_that_is_not_an_open_one_of_this_method_is_refused(self):
        annex = self.second_till()
        closed = annex.current_session_id
        closed.state = 'closed'
        for session_id in (closed.id, 2 ** 31 - 1):
            with self.subTest(session_id=session_id):
                with self.assertRaises(UserError), self.env.cr.savepoint():
                    self.send(str(uuid.uuid4()), session_id=session_id)
                with self.assertRaises(UserError), self.env.cr.savepoint():
                    self.method.alma_save_contact(self.jean.id, self.contact_values(),
                                                  session_id)
        self.assertEqual(self.creations(), 1, "Alma was asked for the sale's payment only")


@tagged('post_install', '-at_install')
class TestCertifiedTill(ClinicTillCommon):
    """Issue 23, item 3: with Odoo's French POS certification (`l10n_fr_pos_cert`, installed by
    Odoo with the French chart and the till), every till flow of the add-on keeps its chain."""

    def setUp(self):
        # Every write on an order or line, from the first sale on: none may change what the
        # certification chains on a paid order.
        self.forbidden_writes = []
        order_class, line_class = (type(self.env[model]) for model in ('pos.order',
                                                                        'pos.order.line'))
        # The fields the certification chains (Odoo's own lists; the add-on does not depend on
        # l10n_fr_pos_cert, which Odoo installs with the French chart and the till).
        cert = importlib.import_module('odoo.addons.l10n_fr_pos_cert.models.pos')

        def spy(cls, fields_chained, order_of):
            original = cls.write

            def write(records, vals):
                for record in records:
                    chained = set(vals) & set(fields_chained)
                    if chained and order_of(record).state in PAID_STATES:
                        self.forbidden_writes.append((record, sorted(chained)))
                return original(records, vals)
            return patch.object(cls, 'write', write)
        for spied in (spy(order_class, cert.ORDER_FIELDS_FROM_17_4, lambda order: order),
                      spy(line_class, cert.LINE_FIELDS, lambda line: line.order_id)):
            spied.start()
            self.addCleanup(spied.stop)
        super().setUp()

    def test_every_till_flow_keeps_the_chain(self):
        self.assertEqual(self.env['ir.module.module']._get('l10n_fr_pos_cert').state,
                         'installed')
        self.assertTrue(self.clinic._is_accounting_unalterable())
        self.session.with_user(self.cashier).set_opening_control(0, '')
        total = self.sale.amount_total

        # A refund at the till, through Alma.
        refund_uuid, refund_order_uuid = str(uuid.uuid4()), str(uuid.uuid4())
        answer = self.method.alma_refund({
            'pos_payment_uuid': refund_uuid, 'pos_order_uuid': refund_order_uuid,
            'refunded_order_id': self.sale.id, 'amount': -total, 'session_id': self.session.id,
        })
        self.assertEqual(answer['refund']['state'], 'done', answer.get('error'))
        refund = self.till_sync(-1, [(self.alma_pos_method, -total, refund_uuid)],
                                refunded=self.sale.lines, order_uuid=refund_order_uuid)
        self.assertEqual(self.payment.refund_ids.pos_payment_id, refund.payment_ids)

        # An Alma payment cancelled, then one refused: both sales paid in cash instead.
        cancelled_uuid = str(uuid.uuid4())
        self.assertFalse(self.send(cancelled_uuid).get('error'))
        self.assertFalse(self.method.alma_cancel(cancelled_uuid).get('error'))
        refused_uuid = str(uuid.uuid4())
        refused = self.env['alma.payment'].browse(self.send(refused_uuid)['payment']['id'])
        self.standin.pay(refused.alma_id, card=DECLINED_CARD)
        self.method.alma_get_status(refused_uuid)
        self.assertEqual(refused.state, 'refused')
        cash_sales = [self.till_sync(1, [(self.cash_method, total, str(uuid.uuid4()))])
                      for _attempt in range(2)]

        # The session's closing.
        orders = self.sale | refund | cash_sales[0] | cash_sales[1]
        self.assertTrue(all(orders.mapped('l10n_fr_hash')), "each paid order is chained")
        session = self.session.with_user(self.cashier)
        session.post_closing_cash_details(2 * total)
        self.assertEqual(session.close_session_from_ui(), {'successful': True})
        self.assertEqual(self.session.state, 'closed')
        self.assertEqual(set(orders.mapped('state')), {'done'})

        report = self.clinic._check_pos_hash_integrity()
        self.assertEqual(report['corrupted_orders'], 'None', report)
        self.assertEqual(self.forbidden_writes, [])
