from odoo import models
from odoo.exceptions import AccessError, UserError


class AccountMove(models.Model):
    _inherit = 'account.move'

    def action_alma_pay(self):
        """Open the Alma dialog for a phone sale: a payment link for what is left to pay."""
        self.ensure_one()
        if not self.env.user.has_group('account.group_account_invoice'):
            raise AccessError(self.env._("Only invoicing users can send an Alma payment link."))
        self.check_access('write')
        if (self.move_type != 'out_invoice' or self.state != 'posted'
                or self.payment_state not in ('not_paid', 'partial')):
            raise UserError(self.env._("Only a posted customer invoice left to pay can be paid "
                                       "with Alma."))
        # sudo: invoicing users may not read providers; only this company's Alma is taken.
        provider = self.env['payment.provider'].sudo().search([
            ('code', '=', 'alma'), ('state', '!=', 'disabled'),
            ('company_id', '=', self.company_id.id)], limit=1)
        if not provider:
            raise UserError(self.env._("Enable the Alma payment provider first."))
        offers = provider._alma_get_offers(self.amount_residual, self.currency_id)
        wizard = self.env['alma.payment.wizard'].create({
            'provider_id': provider.id,
            'allowed_plan_ids': [offer['plan_id'] for offer in offers if offer['eligible']],
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
