import math
import uuid

from odoo import api, fields, models
from odoo.exceptions import AccessDenied, UserError

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.models.alma_payment_send import PaymentAsk
from odoo.addons.payment_alma.utils.money import from_cents, left_to_refund, to_cents


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
        """Who may use this method's Alma account from a till: its company's cashiers."""
        self.ensure_one()
        if not self.env.user.has_group('point_of_sale.group_pos_user'):
            raise AccessDenied()
        self.check_access('read')  # Another company's method is refused by its record rule.
        # sudo: cashiers may not read providers; only this method's provider is used.
        provider = self.sudo().alma_provider_id
        if self.use_payment_terminal != 'alma' or not provider:
            raise UserError(self.env._(
                "The payment method %s is not linked to an Alma provider.", self.name))
        if provider.state == 'disabled':
            raise UserError(self.env._(
                "Alma is disabled for %s: an administrator must enable it (test or live) "
                "before the till can use it.", self.company_id.name))
        if provider.company_id != self.company_id:
            raise UserError(self.env._(
                "The payment method %s uses another company's Alma account.", self.name))
        return provider

    def _alma_currency(self):
        return self.journal_id.currency_id or self.company_id.currency_id

    def _alma_customer(self, partner_id):
        """The order's customer sent by the till, if this company's sales may use it."""
        partner = self.env['res.partner'].browse(_as_id(partner_id)).exists()
        error = self.env['res.partner']._alma_check_customer(partner, self.company_id)
        if error:
            raise UserError(error)
        return partner

    def alma_get_offers(self, amount, partner_id=False, fees_offered=False):
        provider = self._alma_check_access()
        partner = self._alma_customer(partner_id)
        amount = _as_amount(amount)
        if amount is None:
            raise UserError(self.env._("The amount to pay is not a number."))
        wizard = self.env['alma.payment.wizard']
        try:
            offers = wizard.sudo()._alma_offers_data(
                provider, amount, self._alma_currency(), fees_offered=fees_offered,
                country=partner.country_id)
            error = False
        except UserError as exception:
            offers, error = [], exception.args[0]
        return {
            'offers': offers,
            'contacts': partner._alma_contacts(),
            'default_contact_id': partner.id or False,
            'default_country_id': self.company_id.country_id.id or False,
            'error': error,
        }

    def alma_save_contact(self, partner_id, values, session_id=False):
        """Add or correct a contact of the order's customer, from the till of `session_id`."""
        self._alma_check_access()
        partner = self._alma_customer(partner_id)
        if not isinstance(values, dict):
            raise UserError(self.env._("The contact's details are missing."))
        errors = self.env['res.partner']._alma_contact_input_errors(values)
        if errors:
            return {'errors': errors}
        till = self._alma_till(session_id)
        return self.env['res.partner']._alma_save_contact(
            partner, values, self.company_id, pos_config=till or self.config_ids)

    def alma_send(self, values):
        """Create (once) the Alma payment of a POS payment line; idempotent per line uuid."""
        provider = self._alma_check_access()
        if not isinstance(values, dict):
            raise UserError(self.env._("This payment line is not known to the till: reload it."))
        line_uuid = _as_uuid(values.get('pos_payment_uuid'))
        order_uuid = _as_uuid(values.get('pos_order_uuid'))
        if not line_uuid or not order_uuid:
            raise UserError(self.env._("This payment line is not known to the till: reload it."))
        amount = _as_amount(values.get('amount'))
        if amount is None:
            return {'error': self.env._("The amount to pay is not a number.")}
        if amount <= 0:
            return {'error': self.env._("Alma can only be used for an amount above zero.")}
        other = self._alma_payment_of_line(line_uuid, any_method=True).filtered(
            lambda payment: payment.pos_payment_method_id != self)
        if other:
            return {'error': self.env._(
                "This payment line is already paid through another Alma payment method: "
                "remove the line and add a new one.")}
        partner = self._alma_customer(values.get('partner_id'))
        if not partner:
            # The dialog offers only the customer's contacts: without one, any contact of the
            # clinic (a colleague, another customer) would do.
            return {'error': self.env._("Choose the order's customer first.")}
        till = self._alma_till(values.get('session_id'))
        contact = self.env['res.partner'].browse(_as_id(values.get('contact_id'))).exists()
        if not contact or contact not in partner._alma_family() \
                or not contact._alma_in_company(self.company_id):
            return {'error': self.env._("Choose a contact of the customer.")}
        send_mode = values.get('send_mode')
        order_name = values.get('pos_order_name')
        result = self.env['alma.payment']._alma_create_for(PaymentAsk(
            key=f'pos:{line_uuid}',
            provider=provider,
            amount=amount,
            currency=self._alma_currency(),
            plan=self.env['payment.alma.plan'].browse(_as_id(values.get('plan_id'))).exists(),
            contact=contact,
            partner=partner or contact.commercial_partner_id,
            fees_offered=bool(values.get('fees_offered')),
            send_mode=send_mode if isinstance(send_mode, str) and send_mode in dict(
                const.SEND_MODES) else 'sms',
            links={
                'pos_config_id': till.id,
                'pos_payment_method_id': self.id,
                'pos_payment_uuid': line_uuid,
                'pos_order_uuid': order_uuid,
                # Shown only (the receipt, Alma's back office): text PostgreSQL can hold.
                'pos_order_name': order_name.replace('\x00', '')[:64]
                if isinstance(order_name, str) else '',
            },
        ))
        if result['error']:
            return {'error': result['error'], 'payment': result['pos']}
        return {'payment': result['pos']}

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
        try:
            payment._alma_cancel()
        except UserError as error:  # What Alma said of the payment meanwhile is kept.
            return {'error': error.args[0]}
        return {'payment': payment._alma_pos_data()}

    def alma_resend(self, pos_payment_uuid):
        self._alma_check_access()
        payment = self._alma_payment_of_line(pos_payment_uuid)
        if payment.state != 'waiting':
            return {'error': self.env._(
                "Only a payment waiting for the customer can be sent again.")}
        try:
            # A savepoint: a refused resend leaves no trace, the next click may try again.
            with self.env.cr.savepoint():
                payment._alma_resend('sms')
        except UserError as exception:  # Too early (the message says when), or Alma's why.
            return {'error': exception.args[0]}
        return {'payment': payment._alma_pos_data()}

    def alma_send_email(self, pos_payment_uuid):
        """E-mail the link from Odoo, for a customer who prefers it to a text or a QR code."""
        self._alma_check_access()
        payment = self._alma_payment_of_line(pos_payment_uuid)
        if payment.state != 'waiting' or not payment.url:
            return {'error': self.env._(
                "Only a payment waiting for the customer can be sent again.")}
        try:
            payment._alma_resend('email')
        except UserError as exception:  # Too early: the message says when.
            return {'error': exception.args[0]}
        return {'payment': payment._alma_pos_data()}

    # === Refunds at the till: the refund order's Alma line refunds the sale's Alma payment === #

    def alma_refund_preview(self, values):
        """What the refund dialog shows: the sale's Alma payment, what is already refunded, what
        this line would refund (and the refund of this line, when it was asked before)."""
        payment, pos_cents, existing, _session = self._alma_refund_request(values)
        if existing:  # Refunded, or asked: the till shows it, or asks again (never twice).
            return {'refund': existing._alma_pos_data()}
        # Alma's purchase amount is the sale's price (fees offered with
        # merchant_covers_all_fees too): the till's amount is what Alma refunds.
        alma_cents = pos_cents
        return {
            'payment': payment._alma_pos_refund_summary(),
            'amount': from_cents(pos_cents),
            'alma_amount': from_cents(alma_cents),
            'problem': self.env['alma.refund']._alma_amount_problem(
                payment.currency_id, alma_cents, payment.purchase_amount_cents,
                payment.amount_refunded_cents),
        }

    def alma_refund(self, values):
        """Refund the sale's Alma payment by the refund line's amount; idempotent per line uuid
        (a double click, a retry or a reload asks Alma once)."""
        payment, pos_cents, existing, session = self._alma_refund_request(values)
        if existing.state == 'done':
            return {'refund': existing._alma_pos_data()}
        line_uuid = _as_uuid(values.get('pos_payment_uuid'))
        # Asked before and unanswered: asked again as it was, never twice (see _alma_refund_for).
        alma_cents = existing.amount_cents or pos_cents
        result = self.env['alma.refund']._alma_refund_for(
            payment, key=f'pos:{line_uuid}', amount_cents=alma_cents,
            # sudo: cashiers do not read transactions; the sale's own, refunded with it.
            refunded_tx=payment.sudo().transaction_id or None,
            pos_config_id=session.config_id.id,
            pos_payment_method_id=self.id,
            pos_order_uuid=_as_uuid(values.get('pos_order_uuid')),
            pos_payment_uuid=line_uuid,
            pos_refunded_order_id=payment.pos_payment_id.pos_order_id.id,
            pos_amount_cents=pos_cents,
        )
        if not result['id']:  # Refused before anything was asked (amount, state).
            return {'error': result['error']}
        refund = self.env['alma.refund']._alma_pos_refund_data(
            payment, state=result['state'], error=result['error'],
            unanswered=result['state'] == 'asked',
            amount_cents=result['amount_cents'], pos_amount_cents=pos_cents,
            alma_refund_id=result['alma_refund_id'], reference=result['reference'],
            pos_payment_uuid=line_uuid, refunded_cents=result['refunded_cents'])
        if result['state'] == 'done':
            return {'refund': refund}
        return {'refund': refund, 'error': result['error']}

    def alma_get_refund_status(self, pos_payment_uuid):
        """The till's own polling of a refund whose answer was lost, and its re-read on reload."""
        self._alma_check_access()
        refund = self._alma_refund_of_line(pos_payment_uuid)
        return {'refund': refund._alma_pos_data() if refund else False}

    def _alma_refund_of_line(self, pos_payment_uuid):
        """The latest refund of a till's refund line (sudo: cashiers do not read Alma refunds;
        only this method's refunds, of this company, are returned)."""
        line_uuid = _as_uuid(pos_payment_uuid)
        if not line_uuid:
            return self.env['alma.refund']
        return self.env['alma.refund'].sudo().search([
            ('refund_key', '=', f'pos:{line_uuid}'), ('pos_payment_method_id', '=', self.id),
            ('company_id', '=', self.company_id.id),
        ], order='id desc', limit=1)

    def _alma_session(self, session_id):
        """The till's open session sent with a request, if this method is one of its own and the
        user may use it (another company's session is refused by its record rule); else an
        empty record."""
        session = self.env['pos.session'].browse(_as_id(session_id)).exists()
        if not session or session.state not in ('opening_control', 'opened') \
                or self not in session.config_id.payment_method_ids \
                or session.company_id != self.company_id:
            return self.env['pos.session']
        session.check_access('read')
        return session

    def _alma_till(self, session_id):
        """The till (`pos.config`) that sends a payment or a contact: that of the open session
        it sent, checked. A caller that sends none (not the till) gets the user's own open
        session of a till of this method, if any: never another cashier's till."""
        if session_id:
            session = self._alma_session(session_id)
            if not session:
                raise UserError(self.env._(
                    "This till's session is not open, or its point of sale does not use %s: "
                    "reload the till.", self.name))
            return session.config_id
        return self.env['pos.session'].search([
            ('config_id', 'in', self.config_ids.ids), ('user_id', '=', self.env.uid),
            ('state', 'in', ('opening_control', 'opened'))], limit=1).config_id

    def _alma_refund_session(self, values):
        """The till's open session sent with a refund, if this method is one of its own."""
        session = self._alma_session(values.get('session_id'))
        if not session:
            raise UserError(self.env._(
                "Refunds through Alma are made from an open session of the point of sale that "
                "uses this payment method: reload the till."))
        return session

    def _alma_refund_request(self, values):
        """Check a till's refund line; return (the sale's Alma payment, the line's amount in
        cents, the refund this line asked before or an empty record, the till's session).

        Nothing from the browser is trusted: the sale must be an order of this session's point
        of sale and company, paid with this Alma method, and readable by the cashier.
        """
        self._alma_check_access()
        if not isinstance(values, dict):
            raise UserError(self.env._("This payment line is not known to the till: reload it."))
        line_uuid = _as_uuid(values.get('pos_payment_uuid'))
        if not line_uuid or not _as_uuid(values.get('pos_order_uuid')):
            raise UserError(self.env._("This payment line is not known to the till: reload it."))
        amount = _as_amount(values.get('amount'))
        if amount is None:
            raise UserError(self.env._("The amount to refund is not a number."))
        if amount >= 0:
            raise UserError(self.env._(
                "Alma refunds only the negative line of a refund: open the sale in Orders, "
                "press Refund, then pay the refund with Alma."))
        session = self._alma_refund_session(values)
        sale = self.env['pos.order'].browse(_as_id(values.get('refunded_order_id'))).exists()
        if not sale:
            raise UserError(self.env._(
                "This order refunds no sale: Alma can only refund an order paid with Alma. Open "
                "the sale in Orders and press Refund."))
        sale.check_access('read')  # Another company's order is refused by its record rule.
        if sale.company_id != self.company_id or sale.config_id != session.config_id:
            raise UserError(self.env._(
                "Order %(order)s was sold at %(pos)s: refund it from that point of sale.",
                order=sale.name, pos=sale.config_id.name))
        # sudo: cashiers do not read Alma payments; only those of this sale's own lines.
        payments = self.env['alma.payment'].sudo().search([
            ('pos_payment_id', 'in', sale.payment_ids.ids), ('state', '=', 'accepted'),
            ('company_id', '=', self.company_id.id),
        ], order='id')
        if not payments:
            methods = sale.payment_ids.filtered(lambda p: p.amount > 0).payment_method_id
            raise UserError(self.env._(
                "Order %(order)s was not paid with Alma (%(methods)s): Alma cannot refund it. "
                "Remove the Alma line and refund with the payment method the customer paid "
                "with.", order=sale.name,
                methods=', '.join(methods.mapped('name')) or self.env._("no payment")))
        mine = payments.filtered(lambda p: p.pos_payment_method_id == self)
        if not mine:
            raise UserError(self.env._(
                "Order %(order)s was paid with %(method)s: refund it with that payment method.",
                order=sale.name, method=payments[0].pos_payment_method_id.name))
        pos_cents = to_cents(-amount)
        # sudo: as above; a line refunds one Alma payment, whatever the retries.
        existing = self.env['alma.refund'].sudo().search([
            ('refund_key', '=', f'pos:{line_uuid}'), ('state', '!=', 'refused')], limit=1)
        if existing:
            if existing.payment_id not in mine:
                raise UserError(self.env._(
                    "This payment line already refunded another Alma payment: delete it and "
                    "add a new one."))
            if existing.pos_amount_cents != pos_cents:
                raise UserError(self.env._(
                    "This line has already refunded %s through Alma: set it back to that "
                    "amount.", existing.currency_id.format(from_cents(existing.pos_amount_cents))))
            return existing.payment_id, pos_cents, existing, session
        # The sale's Alma payment that can take the whole line, else the one with most left.
        left = {p: left_to_refund(p.purchase_amount_cents, p.amount_refunded_cents) for p in mine}
        payment = next((p for p in mine if left[p] >= pos_cents),
                       max(mine, key=lambda p: left[p]))
        return payment, pos_cents, existing, session

    def _alma_payment_of_line(self, pos_payment_uuid, any_method=False):
        """The latest Alma payment of a till's line (sudo: cashiers do not read Alma payments;
        only this method's payments, of this company, are returned)."""
        line_uuid = _as_uuid(pos_payment_uuid)
        if not line_uuid:
            return self.env['alma.payment']
        domain = [('sale_key', '=', f'pos:{line_uuid}')]
        if not any_method:
            domain += [('pos_payment_method_id', '=', self.id)]
        return self.env['alma.payment'].sudo().search(domain, order='id desc', limit=1)


def _as_id(value):
    return value if isinstance(value, int) and not isinstance(value, bool) \
        and 0 < value < 2**31 else 0


def _as_uuid(value):
    try:
        return str(uuid.UUID(str(value))) if value else ''
    except ValueError:
        return ''


def _as_amount(value):
    """An amount sent by the till, or None for anything but a finite number."""
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return None
    return amount if math.isfinite(amount) else None
