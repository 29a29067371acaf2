from odoo import api, fields, models
from odoo.exceptions import AccessDenied, UserError

from odoo.addons.payment_alma.models.alma_payment import STALE_DRAFT
from odoo.addons.payment_alma.utils.alma_client import AlmaError


class PosPaymentMethod(models.Model):
    _inherit = 'pos.payment.method'

    alma_provider_id = fields.Many2one(
        'payment.provider', domain=[('code', '=', 'alma')],
        help="The Alma account the payments of this method are created on.",
    )

    def _get_payment_terminal_selection(self):
        """Override of `point_of_sale` to offer Alma as a payment integration."""
        return [*super()._get_payment_terminal_selection(), ('alma', "Alma")]

    @api.onchange('use_payment_terminal')
    def _onchange_use_payment_terminal(self):
        """Override of `point_of_sale` to preselect the Alma provider and its journal."""
        res = super()._onchange_use_payment_terminal()
        if self.use_payment_terminal == 'alma' and not self.alma_provider_id:
            provider = self.env['payment.provider'].sudo().search([
                ('code', '=', 'alma'), ('company_id', '=', self.company_id.id)], limit=1)
            self.alma_provider_id = provider
            self.journal_id = self.journal_id or provider.journal_id
        return res

    # === RPCs of the POS: non-secret data only, every figure computed here === #

    def _alma_check_access(self):
        self.ensure_one()
        if not self.env.user.has_group('point_of_sale.group_pos_user'):
            raise AccessDenied()
        if self.use_payment_terminal != 'alma' or not self.sudo().alma_provider_id:
            raise UserError(self.env._(
                "The payment method %s is not linked to an Alma provider.", self.name))
        return self.sudo().alma_provider_id

    def _alma_currency(self):
        return self.journal_id.currency_id or self.company_id.currency_id

    def alma_get_offers(self, amount, partner_id=False, fees_offered=False):
        provider = self._alma_check_access()
        wizard = self.env['alma.payment.wizard']
        partner = self.env['res.partner'].browse(partner_id).exists() if partner_id else None
        try:
            offers = wizard.sudo()._alma_offers_data(
                provider, amount, self._alma_currency(), fees_offered=fees_offered)
            error = False
        except UserError as exception:
            offers, error = [], exception.args[0]
        # All of them, for the address form of a new contact.
        countries = self.env['res.country'].search([])  # pylint: disable=no-search-all
        return {
            'offers': offers,
            'contacts': wizard._alma_contacts(partner) if partner else [],
            'default_contact_id': partner.id if partner else False,
            'countries': [{'id': c.id, 'name': c.name, 'code': c.code} for c in countries],
            'default_country_id': self.company_id.country_id.id or False,
            'error': error,
        }

    def alma_save_contact(self, partner_id, values):
        self._alma_check_access()
        partner = self.env['res.partner'].browse(partner_id).exists() if partner_id else None
        return self.env['alma.payment.wizard']._alma_save_contact(
            partner or self.env['res.partner'], values, self.company_id,
            pos_config=self.config_ids[:1],
        )

    def alma_send(self, values):
        """Create (once) the Alma payment of a POS payment line; idempotent per line uuid."""
        provider = self._alma_check_access()
        line_uuid = values['pos_payment_uuid']
        # A double click sends two requests at once: the second waits here for the first.
        self.env.cr.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f'alma:{line_uuid}'])
        payment = self._alma_payment_of_line(line_uuid)
        if payment and payment.state in ('waiting', 'accepted'):
            return {'payment': payment._alma_pos_data()}
        if payment.state == 'draft':
            if payment.write_date > fields.Datetime.now() - STALE_DRAFT:
                return {'payment': payment._alma_pos_data()}  # Still being sent by another call.
            error = payment._alma_send()
            return {'error': error} if error else {'payment': payment._alma_pos_data()}
        if payment.state == 'error' and payment.creation_attempted:
            # The previous answer was lost: Alma may hold that payment; never create a twin.
            try:
                found = payment._alma_find_remote(provider._alma_client())
            except AlmaError as exception:
                return {'error': exception.args[0]}  # Unknown yet: creating could double it.
            if found:
                payment.write({'alma_id': found['id'], 'url': found.get('url')})
                payment._alma_apply(found, source='retry')
                return {'payment': payment._alma_pos_data()}
        contact = self.env['res.partner'].browse(values['contact_id']).exists()
        partner = self.env['res.partner'].browse(values.get('partner_id') or 0).exists()
        try:
            payment = self.env['alma.payment.wizard'].sudo()._alma_start(
                provider,
                amount=values['amount'],
                currency=self._alma_currency(),
                plan=self.env['payment.alma.plan'].browse(values['plan_id']).exists(),
                contact=contact,
                partner=partner or contact.commercial_partner_id,
                fees_offered=bool(values.get('fees_offered')),
                send_mode=values.get('send_mode') or 'sms',
                pos_config_id=self.config_ids.filtered('current_session_id')[:1].id,
                pos_payment_method_id=self.id,
                pos_payment_uuid=line_uuid,
                pos_order_uuid=values.get('pos_order_uuid'),
                pos_order_name=values.get('pos_order_name'),
            )
        except (UserError, AlmaError) as exception:
            return {'error': exception.args[0]}
        if payment.state == 'error':
            return {'error': payment.state_reason}
        return {'payment': payment._alma_pos_data()}

    def alma_get_status(self, pos_payment_uuid):
        """The POS's own polling: re-read a waiting payment from Alma."""
        self._alma_check_access()
        payment = self._alma_payment_of_line(pos_payment_uuid)
        if payment.state == 'waiting':
            payment._alma_refresh(source='pos')
        return {'payment': payment._alma_pos_data() if payment else False}

    def alma_cancel(self, pos_payment_uuid):
        self._alma_check_access()
        payment = self._alma_payment_of_line(pos_payment_uuid)
        if not payment:
            return {'error': self.env._("There is no Alma payment to cancel.")}
        error = payment._alma_cancel()
        return {'error': error} if error else {'payment': payment._alma_pos_data()}

    def alma_resend(self, pos_payment_uuid):
        self._alma_check_access()
        payment = self._alma_payment_of_line(pos_payment_uuid)
        if payment.state != 'waiting':
            return {'error': self.env._(
                "Only a payment waiting for the customer can be sent again.")}
        error = payment._alma_send_sms()
        return {'error': error} if error else {'payment': payment._alma_pos_data()}

    def alma_send_email(self, pos_payment_uuid):
        """E-mail the link from Odoo, for a customer who prefers it to a text or a QR code."""
        self._alma_check_access()
        payment = self._alma_payment_of_line(pos_payment_uuid)
        if payment.state != 'waiting' or not payment.url:
            return {'error': self.env._(
                "Only a payment waiting for the customer can be sent again.")}
        payment._alma_send_email()
        return {'payment': payment._alma_pos_data()}

    def _alma_payment_of_line(self, pos_payment_uuid):
        return self.env['alma.payment'].sudo().search([
            ('pos_payment_uuid', '=', pos_payment_uuid),
            ('pos_payment_method_id', '=', self.id),
        ], order='id desc', limit=1)

