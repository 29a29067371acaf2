from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.payment_alma.utils.money import from_cents, to_cents


class AlmaTransfer(models.TransientModel):
    """Alma's transfer has reached the bank: the lines it pays, on which bank, when, and the
    amount the bank statement shows. Nothing is posted while that amount differs from the
    lines' net: the bookkeeper sees the difference and changes the lines."""

    _name = 'alma.transfer'
    _description = "Alma's Transfer Received"

    line_ids = fields.Many2many(
        'alma.fee.line', string="Lines Paid", required=True,
        domain="[('company_id', '=', company_id), ('currency_id', '=', currency_id), "
               "('transfer_move_id', '=', False)]")
    company_id = fields.Many2one('res.company', required=True)
    currency_id = fields.Many2one('res.currency', required=True)
    amount = fields.Monetary(string="Expected Net", compute='_compute_amount',
                             help="What Alma pays for these lines: their net.")
    amount_received = fields.Monetary(
        string="Amount on the Bank Statement",
        help="The amount of Alma's transfer as the bank statement shows it.")
    difference = fields.Monetary(compute='_compute_amount')
    difference_note = fields.Text(compute='_compute_amount')
    date = fields.Date(required=True, default=fields.Date.context_today)
    journal_id = fields.Many2one(
        'account.journal', string="Bank", required=True,
        domain="[('type', '=', 'bank'), ('company_id', '=', company_id), ('code', '!=', 'ALMA')]")

    @api.depends('line_ids', 'amount_received', 'date')
    def _compute_amount(self):
        for transfer in self:
            expected_cents = transfer.line_ids._alma_net_cents()
            difference_cents = to_cents(transfer.amount_received or 0.0) - expected_cents
            transfer.amount = from_cents(expected_cents)
            transfer.difference = from_cents(difference_cents)
            transfer.difference_note = (
                transfer._alma_difference_note(expected_cents, difference_cents)
                if transfer.amount_received and difference_cents else False)

    def _alma_difference_note(self, expected_cents, difference_cents):
        """Name the difference, and the lines that may explain it."""
        self.ensure_one()
        money = self.currency_id.format
        notes = [self.env._(
            "The bank statement shows %(received)s, the selected lines come to %(expected)s: "
            "a difference of %(difference)s. Nothing is recorded until they match: add or "
            "remove lines, or check the amount.",
            received=money(self.amount_received), expected=money(from_cents(expected_cents)),
            difference=money(from_cents(difference_cents)))]
        for line in self.line_ids.filtered('alma_fee_difference'):
            notes.append(self.env._(
                "%(origin)s: Alma's fee differs from the expected one by %(difference)s.",
                origin=line.origin, difference=money(line.alma_fee_difference)))
        for line in self.line_ids.filtered(
                lambda line: line.payout_date and self.date and line.payout_date > self.date):
            notes.append(self.env._(
                "%(origin)s (net %(net)s): Alma pays it from %(payout)s, after this transfer.",
                origin=line.origin, net=money(line.net),
                payout=line.payout_date.strftime('%d/%m/%Y')))
        return "\n".join(notes)

    def action_confirm(self):
        self.ensure_one()
        self.line_ids._alma_check_transfer()  # Rights first: the lines come from the browser.
        if not self.amount_received and self.amount:
            raise UserError(self.env._(
                "Enter the amount of Alma's transfer as the bank statement shows it."))
        if self.difference_note:
            raise UserError(self.difference_note)
        move = self.line_ids._alma_record_transfer(self.journal_id, self.date)
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success',
                'message': self.env._(
                    "Alma's transfer of %(amount)s is recorded (%(entry)s): the lines are "
                    "settled and reconciled with it on Alma's outstanding receipts.",
                    amount=self.currency_id.format(self.amount), entry=move.name),
                'next': {'type': 'ir.actions.client', 'tag': 'soft_reload'},
            },
        }
