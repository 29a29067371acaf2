import io
from datetime import timedelta

import xlsxwriter

from odoo import api, fields, models

from odoo.addons.payment_alma.utils.money import (
    from_cents,
    net_cents,
    with_vat,
    without_cents_fields,
)


class AlmaFeeLine(models.Model):
    """A line of "Frais Alma": what one Alma payment (or refund) costs and what Alma pays.

    Amounts are kept in integer cents, as Alma counts, so that gross - fees = net to the cent.
    """

    _name = 'alma.fee.line'
    _description = "Alma Fee Line"
    _order = 'date desc, id desc'
    _rec_name = 'alma_id'

    date = fields.Date(required=True, readonly=True, index=True)
    alma_payment_id = fields.Many2one('alma.payment', required=True, readonly=True,
                                      ondelete='restrict', index=True)
    alma_id = fields.Char(string="Alma Payment ID", readonly=True, index=True)
    refund_id = fields.Char(string="Alma Refund ID", readonly=True, index=True)
    partner_id = fields.Many2one('res.partner', string="Customer", readonly=True)
    origin = fields.Char(string="Order / Invoice", readonly=True)
    plan_id = fields.Many2one('payment.alma.plan', readonly=True)
    provider_id = fields.Many2one(related='alma_payment_id.provider_id', store=True)
    company_id = fields.Many2one('res.company', required=True, readonly=True, index=True)
    currency_id = fields.Many2one('res.currency', required=True, readonly=True)

    gross_cents = fields.Integer(readonly=True)
    customer_fee_cents = fields.Integer(readonly=True)
    fee_cents = fields.Integer(readonly=True, help="Alma's commission, excluding VAT (with the "
                                                   "customer's fees when the clinic offered them).")
    fee_vat_cents = fields.Integer(readonly=True)
    fee_source = fields.Selection(related='alma_payment_id.merchant_fee_source')
    kind = fields.Selection([('payment', "Sale"), ('refund', "Refund line")],
                            compute='_compute_kind', store=True)
    fees_offered = fields.Boolean(related='alma_payment_id.fees_offered', store=True,
                                  string="Customer Fees Offered")
    absorbed_fee_cents = fields.Integer(
        readonly=True, help="Of the clinic's fees, the customer's fees it offered: Alma charges "
                            "them to the clinic, in its commission.")
    alma_fee_cents = fields.Integer(readonly=True, help="The fee in Alma's accounting export.")
    alma_fee_known = fields.Boolean(readonly=True)

    gross = fields.Monetary(compute='_compute_amounts', store=True)
    customer_fee = fields.Monetary(string="Customer Fees", compute='_compute_amounts', store=True)
    fee = fields.Monetary(string="Clinic Fees (excl. VAT)", compute='_compute_amounts', store=True)
    fee_vat = fields.Monetary(string="VAT on Fees", compute='_compute_amounts', store=True)
    fee_total = fields.Monetary(string="Clinic Fees (incl. VAT)", compute='_compute_amounts',
                                store=True)
    net = fields.Monetary(string="Net from Alma", compute='_compute_amounts', store=True)
    alma_fee_difference = fields.Monetary(compute='_compute_amounts', store=True,
                                          help="Alma's real fee minus the expected one.")

    payout_date = fields.Date(string="Expected Payout", readonly=True, index=True)
    settled = fields.Boolean(readonly=True, index=True, copy=False)
    settled_mark = fields.Char(
        compute='_compute_settled_mark', string="Transfer Received",
        help="✓ once Alma's transfer has arrived: double-click the line in Frais Alma.")
    settled_date = fields.Datetime(readonly=True, copy=False)
    settled_by_id = fields.Many2one('res.users', readonly=True, copy=False)
    move_id = fields.Many2one('account.move', string="Fee Entry", readonly=True, copy=False)
    transfer_move_id = fields.Many2one('account.move', string="Transfer Entry", readonly=True,
                                       copy=False, index=True)

    _sql_constraints = [(
        'one_line_per_payment_or_refund', 'unique(alma_payment_id, refund_id)',
        "Each Alma payment and refund has one fee line.",
    )]

    @api.model
    def fields_get(self, allfields=None, attributes=None):
        """Override of `base` to keep the integer cents out of the search's filters and
        groupings (see `without_cents_fields`)."""
        return without_cents_fields(self, super().fields_get(allfields, attributes))

    @api.depends('gross_cents', 'customer_fee_cents', 'fee_cents', 'fee_vat_cents',
                 'alma_fee_cents', 'alma_fee_known')
    def _compute_amounts(self):
        for line in self:
            line.gross = from_cents(line.gross_cents)
            line.customer_fee = from_cents(line.customer_fee_cents)
            line.fee = from_cents(line.fee_cents)
            line.fee_vat = from_cents(line.fee_vat_cents)
            line.fee_total = from_cents(with_vat(line.fee_cents, line.fee_vat_cents))
            line.net = from_cents(line._alma_net_cents())
            # Alma's commission includes the customer's fees the clinic offered
            # (merchant_covers_all_fees): its export and the line count the same fee.
            line.alma_fee_difference = from_cents(
                line.alma_fee_cents - line.fee_cents) if line.alma_fee_known else 0.0

    @api.depends('refund_id')
    def _compute_kind(self):
        for line in self:
            line.kind = 'refund' if line.refund_id else 'payment'

    @api.depends('settled')
    def _compute_settled_mark(self):
        for line in self:
            line.settled_mark = '✓' if line.settled else ''

    def _alma_net_cents(self):
        """What Alma pays out for these lines together, in cents."""
        return sum(net_cents(line.gross_cents, line.fee_cents, line.fee_vat_cents) for line in self)

    # === Creation === #

    @api.model
    def _alma_create_for_payment(self, payment):
        """One line for an accepted payment: its fee is what Alma charges the clinic."""
        if self.search_count([('alma_payment_id', '=', payment.id), ('refund_id', '=', False)]):
            return self.browse()
        accepted = fields.Datetime.context_timestamp(self, payment.accepted_date).date()
        # sudo: fee lines are read-only for everyone; the add-on makes them for what Alma did.
        return self.sudo().create({
            **self._alma_common_values(payment),
            'date': accepted,
            'payout_date': accepted + timedelta(days=payment.provider_id.alma_cash_in_delay),
            'gross_cents': payment.price_cents,
            'customer_fee_cents': payment.customer_fee_cents,
            'fee_cents': payment.merchant_fee_cents,
            'absorbed_fee_cents': payment.absorbed_fee_cents,
            'fee_vat_cents': payment.merchant_fee_vat_cents,
        })

    @api.model
    def _alma_create_for_refund(self, payment, refund_id, amount_cents):
        """A negative line: Alma takes the refund back from the transfer that pays the day's
        sales; no fee returns (Alma's sources say of none that it does)."""
        today = fields.Date.context_today(self)
        # sudo: fee lines are read-only for everyone; the add-on makes them for what Alma did.
        return self.sudo().create({
            **self._alma_common_values(payment),
            'refund_id': refund_id,
            'date': today,
            'payout_date': today + timedelta(days=payment.provider_id.alma_cash_in_delay),
            'gross_cents': -amount_cents,
        })

    @api.model
    def _alma_common_values(self, payment):
        return {
            'alma_payment_id': payment.id,
            'alma_id': payment.alma_id,
            'partner_id': payment.partner_id.id,
            'origin': payment._alma_origin(),
            'plan_id': payment.plan_id.id,
            'company_id': payment.company_id.id,
            'currency_id': payment.currency_id.id,
        }

    # === Export: the grid as shown, headers in the user's language === #

    EXPORT_FIELDS = ('date', 'partner_id', 'origin', 'alma_id', 'plan_id', 'gross',
                     'customer_fee', 'fee', 'fee_vat', 'fee_total', 'net', 'payout_date',
                     'settled', 'settled_date')

    def action_export_xlsx(self):
        """Download the selected lines, or all those of the current filter, as a spreadsheet."""
        lines = self or self.search(self.env.context.get('active_domain') or [])
        attachment = self.env['ir.attachment'].create({
            'name': self.env._("Frais Alma %s.xlsx", fields.Date.context_today(self)),
            'raw': lines._alma_xlsx(),
            'mimetype': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        })
        return {'type': 'ir.actions.act_url', 'target': 'download',
                'url': f'/web/content/{attachment.id}?download=true'}

    def _alma_xlsx(self):
        output = io.BytesIO()
        book = xlsxwriter.Workbook(output, {'in_memory': True})
        sheet = book.add_worksheet(self.env._("Frais Alma"))
        bold = book.add_format({'bold': True})
        money = book.add_format({'num_format': '#,##0.00'})
        day = book.add_format({'num_format': 'dd/mm/yyyy'})
        descriptions = self.fields_get(list(self.EXPORT_FIELDS), ['string', 'type'])
        for column, name in enumerate(self.EXPORT_FIELDS):
            sheet.write(0, column, descriptions[name]['string'], bold)
            sheet.set_column(column, column, 16)
        for row, line in enumerate(self, start=1):
            for column, name in enumerate(self.EXPORT_FIELDS):
                value, kind = line[name], descriptions[name]['type']
                # write_string: a customer named "=HYPERLINK(...)" stays text, never a formula.
                if kind == 'many2one':
                    sheet.write_string(row, column, value.display_name or '')
                elif kind == 'monetary':
                    sheet.write_number(row, column, value, money)
                elif kind == 'datetime' and value:
                    # The bookkeeper's day, not UTC's: settled at 00:30 in Paris is that day.
                    local = fields.Datetime.context_timestamp(self, value).replace(tzinfo=None)
                    sheet.write_datetime(row, column, local, day)
                elif kind == 'date' and value:
                    sheet.write_datetime(row, column, fields.Datetime.to_datetime(value), day)
                elif kind == 'boolean':
                    sheet.write_string(row, column, '✓' if value else '')
                else:
                    sheet.write_string(row, column, str(value or ''))
        total_row = len(self) + 1
        sheet.write(total_row, 0, self.env._("Total"), bold)
        for column, name in enumerate(self.EXPORT_FIELDS):
            if descriptions[name]['type'] == 'monetary':
                sheet.write_number(total_row, column, round(sum(self.mapped(name)), 2), money)
        book.close()
        return output.getvalue()
