from odoo import models
from odoo.exceptions import UserError


class AccountMove(models.Model):
    _inherit = 'account.move'

    def action_alma_pay(self):
        """Open the Alma dialog for a phone sale: a payment link for what is left to pay."""
        self.ensure_one()
        provider = self.env['payment.provider'].sudo().search([
            ('code', '=', 'alma'), ('state', '!=', 'disabled'),
            ('company_id', '=', self.company_id.id)], limit=1)
        if not provider:
            raise UserError(self.env._("Enable the Alma payment provider first."))
        wizard = self.env['alma.payment.wizard'].create({
            'provider_id': provider.id,
            'invoice_id': self.id,
            'partner_id': self.partner_id.commercial_partner_id.id,
            'contact_id': self.partner_id.id,
            'currency_id': self.currency_id.id,
            'amount': self.amount_residual,
        })
        return {
            'type': 'ir.actions.act_window',
            'name': self.env._("Pay with Alma"),
            'res_model': 'alma.payment.wizard',
            'res_id': wizard.id,
            'view_mode': 'form',
            'target': 'new',
        }
