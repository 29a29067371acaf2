from odoo import api, fields, models

from odoo.addons.payment_alma.utils.money import from_cents


class AlmaTransfer(models.TransientModel):
    """Alma's transfer has reached the bank: the lines it pays, on which bank and when."""

    _name = 'alma.transfer'
    _description = "Alma's Transfer Received"

    line_ids = fields.Many2many('alma.fee.line', string="Lines Paid", required=True)
    company_id = fields.Many2one('res.company', required=True)
    currency_id = fields.Many2one('res.currency', required=True)
    amount = fields.Monetary(string="Amount Received", compute='_compute_amount')
    date = fields.Date(required=True, default=fields.Date.context_today)
    journal_id = fields.Many2one(
        'account.journal', string="Bank", required=True,
        domain="[('type', '=', 'bank'), ('company_id', '=', company_id), ('code', '!=', 'ALMA')]")

    @api.depends('line_ids')
    def _compute_amount(self):
        for transfer in self:
            transfer.amount = from_cents(sum(
                line.gross_cents - line.fee_cents - line.fee_vat_cents
                for line in transfer.line_ids))

    def action_confirm(self):
        self.ensure_one()
        move = self.line_ids._alma_record_transfer(self.journal_id, self.date)
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success',
                'message': self.env._(
                    "Alma's transfer of %(amount)s is recorded (%(entry)s): the lines are "
                    "settled and Alma's outstanding receipts are reconciled.",
                    amount=self.currency_id.format(self.amount), entry=move.name),
                'next': {'type': 'ir.actions.client', 'tag': 'soft_reload'},
            },
        }
