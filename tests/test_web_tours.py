from types import SimpleNamespace
from unittest.mock import patch

from werkzeug.urls import url_parse

from odoo import Command
from odoo.tests import tagged

from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment_alma.tests.common import AlmaWebCommon


@tagged('post_install', '-at_install', 'alma_tours')
class TestAlmaWebTours(AlmaWebCommon):
    """Customers paying with Alma in Odoo's payment form, in Chromium, against the stand-in.

    An invoice paid in the portal or through its payment link (paid, refused, given up) is a
    journey of the clinic (`test_journeys.TestClinicCustomer`). These stay in a world of their
    own because the clinic has no such page: Odoo's generic `/payment/pay` (the clinic's links
    open the invoice's page), a shop and quotations (the demo installs neither `website_sale`
    nor `sale`).
    """

    def payment_link(self, document):
        """The link of Odoo's "Generate a Payment Link" for an invoice or a sale order."""
        wizard = self.env['payment.link.wizard'].with_context(
            active_model=document._name, active_id=document.id).create({})
        # The wizard signs the link with the request's environment, as in the back office.
        with patch('odoo.addons.payment.utils.request', SimpleNamespace(env=self.env)):
            link = url_parse(wizard.link)
        return f"/{link.path.lstrip('/')}?{link.query}"

    def pay_link(self, invoice):
        """Odoo's generic payment page for an invoice, as `/payment/pay` links are."""
        with patch('odoo.addons.payment.utils.request', SimpleNamespace(env=self.env)):
            token = payment_utils.generate_access_token(
                invoice.partner_id.id, invoice.amount_residual, invoice.currency_id.id)
        return (f'/payment/pay?invoice_id={invoice.id}&amount={invoice.amount_residual}'
                f'&access_token={token}')

    def assert_paid_with_alma(self, invoice, plan_code='P3X'):
        tx = invoice.transaction_ids
        self.assertEqual(len(tx), 1)
        self.assertEqual(tx.state, 'done')
        self.assertTrue(tx.is_post_processed)
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        self.assertEqual(tx.payment_id.journal_id, self.alma.journal_id)
        payment = self.env['alma.payment'].search([('transaction_id', '=', tx.id)])
        self.assertEqual((payment.state, payment.plan_id.code), ('accepted', plan_code))
        remote = self.standin.payments[payment.alma_id]
        self.assertEqual(remote['purchase_amount'], 39900)
        self.assertEqual(len(self.standin.payments), 1)
        # Issue 18, item 6: *Paiements Alma* and "Frais Alma" name the invoice, not the
        # transaction's reference.
        self.assertEqual(payment.invoice_id, invoice)
        fee_line = self.env['alma.fee.line'].search([('alma_payment_id', '=', payment.id)])
        self.assertEqual(fee_line.origin, invoice.name)
        return tx

    def assert_order_confirmed_by_alma(self, order, plan_code='P3X'):
        """The order is confirmed by one done Alma transaction, paid once at the stand-in."""
        self.assertEqual(order.state, 'sale')
        tx = order.transaction_ids
        self.assertEqual(len(tx), 1)
        self.assertEqual((tx.provider_id, tx.state), (self.alma, 'done'))
        self.assertTrue(tx.is_post_processed)
        self.assertEqual(tx.amount, order.amount_total)
        payment = self.env['alma.payment'].search([('transaction_id', '=', tx.id)])
        self.assertEqual((payment.state, payment.plan_id.code), ('accepted', plan_code))
        self.assertEqual(len(self.standin.payments), 1)
        remote = self.standin.payments[payment.alma_id]
        self.assertEqual(remote['purchase_amount'], 39900)
        self.assertEqual(remote['state'], 'in_progress')
        return tx

    def test_payment_pay_logged_out(self):
        """Odoo's generic payment page, `/payment/pay`, opened logged out: the payment is
        confirmed on `/payment/confirmation`."""
        invoice = self.invoice_for(399.0)
        self.start_tour(self.pay_link(invoice), 'AlmaPaymentLink')
        self.assert_paid_with_alma(invoice)
        self.assertFalse(self.env['payment.transaction'].search([
            ('provider_id', '=', self.alma.id), ('state', '=', 'draft')]),
            "No draft transaction left behind")

    def test_shop_checkout(self):
        """A customer buys on the shop and pays with Alma at checkout: the order is confirmed."""
        website = self.shop_website()
        product = self.alma_service(399.0, website_published=True)
        self.start_tour(product.product_tmpl_id.website_url, 'AlmaShopCheckout', login='jean')
        order = self.env['sale.order'].search([('website_id', '=', website.id),
                                               ('partner_id', '=', self.jean.id)])
        self.assertEqual(len(order), 1)
        self.assertEqual((order.amount_total, order.currency_id.name), (399.0, 'EUR'))
        tx = self.assert_order_confirmed_by_alma(order)
        self.assertEqual(tx.partner_id, self.jean)

    def test_sale_order_link_logged_out(self):
        """A quotation's payment link, opened logged out and paid with Alma, confirms it."""
        self.shop_website()
        order = self.env['sale.order'].with_company(self.company).create({
            'partner_id': self.jean.id,
            'company_id': self.company.id,
            'order_line': [Command.create({'product_id': self.alma_service(399.0).id})],
        })
        self.assertEqual((order.amount_total, order.currency_id.name), (399.0, 'EUR'))
        self.start_tour(self.payment_link(order), 'AlmaPaymentLink')
        self.assert_order_confirmed_by_alma(order)
        self.assertFalse(self.env['payment.transaction'].search([
            ('provider_id', '=', self.alma.id), ('state', '=', 'draft')]),
            "No draft transaction left behind")
