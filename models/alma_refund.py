import logging
import math
import uuid

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.models.alma_payment_send import LOST_ANSWER_GRACE
from odoo.addons.payment_alma.utils.alma_client import AlmaError
from odoo.addons.payment_alma.utils.locking import own_transaction_locked
from odoo.addons.payment_alma.utils.money import from_cents, left_to_refund, without_cents_fields

_logger = logging.getLogger(__name__)



class AlmaRefund(models.Model):
    """One refund of an Alma payment, whatever asked it (the payment's button, a transaction's
    Refund, the till, a credit note) or where it was made (Alma's dashboard).

    It is written and committed before Alma is asked, and sent with its reference as Alma's
    `merchant_reference`: a lost answer is found again in the payment's `refunds`, and a retry
    of the same key (a double click, a reload) never refunds twice.
    """

    _name = 'alma.refund'
    _description = "Alma Refund"
    _order = 'id desc'
    _rec_name = 'reference'

    reference = fields.Char(
        required=True, readonly=True, copy=False, index=True,
        default=lambda self: f"ALMAR-{uuid.uuid4().hex[:12].upper()}",
        help="Sent to Alma as the refund's merchant reference.")
    refund_key = fields.Char(
        readonly=True, copy=False, index=True,
        help="What asked it (a transaction, a till's line, a credit note): one refund each.")
    payment_id = fields.Many2one('alma.payment', string="Alma Payment", required=True,
                                 readonly=True, ondelete='restrict', index=True)
    company_id = fields.Many2one(related='payment_id.company_id', store=True, index=True)
    currency_id = fields.Many2one(related='payment_id.currency_id')
    partner_id = fields.Many2one(related='payment_id.partner_id')
    amount_cents = fields.Integer(readonly=True)
    amount = fields.Monetary(compute='_compute_amount')
    # Read from its refund transaction, never written (`_compute_state`).
    state = fields.Selection(
        [('asked', "Asked"), ('done', "Refunded"), ('refused', "Refused")],
        compute='_compute_state', store=True, index=True)
    refused = fields.Boolean(
        readonly=True, help="Alma refused it, or never received it: it may be asked again.")
    unanswered = fields.Boolean(
        readonly=True, help="Alma's answer was lost: the refund is looked for at Alma.")
    asked_at = fields.Datetime(readonly=True)
    error = fields.Char(readonly=True)
    alma_refund_id = fields.Char(string="Alma Refund ID", readonly=True, index=True)
    transaction_id = fields.Many2one(
        'payment.transaction', string="Refund Transaction", readonly=True, index=True,
        ondelete='restrict', help="Odoo's refund transaction that carries it, if any.")

    # Asked at the till: the refund order's Alma line (uuid) and the sale it refunds.
    pos_config_id = fields.Many2one('pos.config', readonly=True, index=True)
    pos_payment_method_id = fields.Many2one('pos.payment.method', readonly=True)
    pos_order_uuid = fields.Char(readonly=True)
    pos_payment_uuid = fields.Char(readonly=True, index=True)
    pos_refunded_order_id = fields.Many2one('pos.order', string="Refunded POS Order",
                                            readonly=True)
    pos_amount_cents = fields.Integer(
        string="Till Amount (cents)", readonly=True,
        help="The refund line's amount at the till (the customer's price).")
    pos_payment_id = fields.Many2one(
        'pos.payment', string="POS Refund Line", readonly=True, copy=False, index=True,
        ondelete='restrict',
        help="The refund order's line this refund paid: it pays one line, once.")

    _sql_constraints = [
        ('reference_unique', 'unique(reference)', "An Alma refund reference is unique."),
        ('alma_refund_id_unique', 'unique(alma_refund_id)', "This Alma refund is recorded."),
        ('pos_payment_unique', 'unique(pos_payment_id)',
         "This Alma refund is already recorded on a line of the till."),
    ]

    @api.model
    def fields_get(self, allfields=None, attributes=None):
        """Override of `base` to keep the integer cents out of the search's filters and
        groupings (see `without_cents_fields`)."""
        return without_cents_fields(self, super().fields_get(allfields, attributes))

    def init(self):
        # One refund per key; a refused one may be asked again.
        self.env.cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS alma_refund_one_per_key ON alma_refund (refund_key)
             WHERE state != 'refused' AND refund_key IS NOT NULL
        """)

    @api.depends('alma_refund_id', 'refused', 'transaction_id.state')
    def _compute_state(self):
        """What the refund is: what its refund transaction is; a refund of a payment that has
        no transaction (the till's, from before transactions) is what Alma said of it."""
        for refund in self:
            tx_state = refund.transaction_id.state
            refund.state = const.REFUND_STATE_OF_TRANSACTION[tx_state] if tx_state \
                else refund._alma_verdict()

    def _alma_verdict(self):
        """What Alma's answers make of the refund: refunded once Alma lists it, else refused
        when Alma refused it or never received it, else still asked."""
        self.ensure_one()
        return 'done' if self.alma_refund_id else 'refused' if self.refused else 'asked'

    @api.depends('amount_cents')
    def _compute_amount(self):
        for refund in self:
            refund.amount = from_cents(refund.amount_cents)

    # === The one entry point of every refund === #

    @api.model
    def _alma_refund_for(self, payment, *, key, amount_cents=None, document=None,
                         refunded_tx=None, credit_note=None, **links):
        """Find or ask the refund of `key` on `payment`; `amount_cents` None = what is left.

        The callers check who may refund. It runs in a transaction of its own, holding a lock
        on the payment in the database, committed before Alma is asked and once it answered.
        `key` names what is refunded (a credit note, a till's line, a transaction and the
        amount asked), never the click: asking it again finds the same refund. While another
        refund whose key starts with `document` waits for Alma's answer, nothing is sent.
        A refund of `refunded_tx` (paying `credit_note`, if any) is made with its refund
        transaction, in the same transaction: committed together before Alma is asked.

        :return: the refund as plain data (the caller's transaction may not see it yet):
                 {'id', 'reference', 'state', 'amount_cents', 'alma_refund_id', 'error',
                 'existing', 'refunded_cents' (of the payment, in all),
                 'transaction_id' (its refund transaction's id)}; state
                 'asked' means that Alma's answer was lost: it is looked for at Alma later.
        """
        # su: the callers checked the user's rights; refunds are the add-on's own books.
        with own_transaction_locked(self.env, f'refunds:{payment.id}', su=True) as env:
            payment = payment.with_env(env)
            if refunded_tx:
                refunded_tx = (refunded_tx.with_env(env), credit_note and credit_note.with_env(env))
            refund, existing, error = env['alma.refund']._alma_find_or_ask(
                payment, key, amount_cents, links, document, refunded_tx)
            return {
                'id': refund.id, 'reference': refund.reference or '',
                'state': refund.state or False, 'amount_cents': refund.amount_cents,
                'alma_refund_id': refund.alma_refund_id or False,
                'transaction_id': refund.transaction_id.id,
                'refunded_cents': payment.amount_refunded_cents,
                'error': error, 'existing': existing,
            }

    @api.model
    def _alma_find_or_ask(self, payment, key, amount_cents, links, document=None,
                          refunded_tx=None):
        """Return (refund, whether it existed, error); runs under the payment's refund lock.

        :param tuple refunded_tx: (the transaction refunded, the credit note paid or None): a
                                  new refund is made with its refund transaction
        """
        refund = self.search([('refund_key', '=', key), ('state', '!=', 'refused')], limit=1)
        if refund.state == 'done':
            return refund, True, ''
        mismatch = key == f'amount_mismatch:{payment.id}' and payment._alma_is_mismatch_to_refund()
        if (payment.state != 'accepted' and not mismatch) or not payment.alma_id:
            return refund, False, self.env._("Only an accepted Alma payment can be refunded.")
        try:
            client = payment.provider_id._alma_client()
            data = client.get_payment(payment.alma_id)
        except UserError as error:  # AlmaError, or a provider left without its key.
            return refund, False, error.args[0]
        # What Alma did already, asked by us (a lost answer) or on its dashboard.
        payment._alma_record_refunds(data)
        if refund.state == 'done':
            return refund, True, ''
        paid_cents = data.get('purchase_amount') or 0
        refunded_cents = data.get('amount_already_refunded') or 0
        left = left_to_refund(paid_cents, refunded_cents)
        waiting = document and self.search([
            ('payment_id', '=', payment.id), ('state', '=', 'asked'), ('id', '!=', refund.id),
        ]).filtered(lambda other: (other.refund_key or '').startswith(document))[:1]
        if waiting:  # Another refund of the same document, still unanswered: nothing sent.
            return refund, False, self.env._(
                "Alma has not yet answered the refund of %(amount)s asked for it at %(time)s: "
                "nothing was sent again. It is looked for at Alma every few minutes; ask again "
                "once it is answered.",
                amount=waiting.currency_id.format(waiting.amount),
                time=fields.Datetime.context_timestamp(self, waiting.asked_at).strftime('%H:%M')
                if waiting.asked_at else '?')
        if refund:  # Asked before, and Alma does not have it (yet).
            wait = refund.asked_at and refund.asked_at + LOST_ANSWER_GRACE - fields.Datetime.now()
            if refund.unanswered and wait and wait.total_seconds() > 0:
                return refund, True, self.env._(
                    "Alma has not confirmed the refund yet: try again in %s seconds (it will "
                    "not be made twice).", math.ceil(wait.total_seconds()))
            amount_cents = refund.amount_cents  # Never received: asked again, as it was.
        elif amount_cents is None:
            amount_cents = left
        problem = self._alma_amount_problem(payment.currency_id, amount_cents, paid_cents,
                                            refunded_cents)
        if problem:
            return refund, False, problem
        if not refund:
            if refunded_tx:
                refund_tx = refunded_tx[0]._alma_refund_transaction(amount_cents, refunded_tx[1])
                links = {**links, 'transaction_id': refund_tx.id}
            refund = self.create({'payment_id': payment.id, 'refund_key': key,
                                  'amount_cents': amount_cents, **links})
        refund._alma_ask(client)
        if not refund.alma_refund_id:  # Done, its transaction followed (`_alma_on_done`).
            self.env['payment.transaction']._alma_sync_from_refunds(refund)
        return refund, False, refund.error or ''

    @api.model
    def _alma_amount_problem(self, currency, amount_cents, paid_cents, refunded_cents):
        """Why `amount_cents` cannot be refunded of a payment of `paid_cents`, `refunded_cents`
        of which are refunded already, or ''."""
        left_cents = left_to_refund(paid_cents, refunded_cents)
        if left_cents <= 0:
            return self.env._(
                "This Alma payment is already fully refunded (%(refunded)s of %(paid)s): "
                "nothing is left to refund.",
                refunded=currency.format(from_cents(refunded_cents)),
                paid=currency.format(from_cents(paid_cents)))
        if amount_cents <= 0:
            return self.env._("A refund must be of a positive amount.")
        if amount_cents > left_cents:
            return self.env._(
                "Only %(left)s of this Alma payment is left to refund (%(refunded)s already "
                "refunded of %(paid)s): %(asked)s is too much.",
                left=currency.format(from_cents(left_cents)),
                refunded=currency.format(from_cents(refunded_cents)),
                paid=currency.format(from_cents(paid_cents)),
                asked=currency.format(from_cents(amount_cents)))
        return ''

    def _alma_ask(self, client):
        """Ask Alma for this refund; commits before and after."""
        self.ensure_one()
        payment = self.payment_id
        self.write({'asked_at': fields.Datetime.now(), 'unanswered': False, 'error': False})
        payment.message_post(body=self.env._(
            "Refund of %(amount)s asked of Alma by %(user)s.",
            amount=self.currency_id.format(self.amount), user=self.env.user.name))
        payment._alma_checkpoint()  # On record before Alma is asked.
        # A full refund of a payment not refunded yet omits `amount`: Alma computes it (alma/
        # alma-php-client src/Endpoints/Payments.php `refund`; alma/alma-python-client
        # alma_client/endpoints/payments.py `refund(full_refund=True)`). Only when the customer
        # paid no fee (offered, or none in the plan): what Alma then lists as refunded, with
        # the customer's fees, is not public.
        # A payment Alma took for a wrong amount is refunded in full, whatever its fees, as
        # Alma's Sylius plugin does (`fullRefund`).
        full = payment.state_reason_code == 'amount_mismatch' or (
            not payment.customer_fee_cents and not payment.amount_refunded_cents
            and self.amount_cents == payment.purchase_amount_cents)
        try:
            data = client.refund(payment.alma_id, amount=None if full else self.amount_cents,
                                 merchant_reference=self.reference)
        except AlmaError as error:
            if error.kind in ('timeout', 'connection', 'bad_response'):
                # Alma may be refunding: found again by its reference, never asked twice.
                self.write({'unanswered': True, 'error': self.env._(
                    "Alma has not confirmed the refund yet: it will be checked again, and "
                    "it will not be made twice. (%s)", error.args[0])})
            elif error.kind in ('server', 'rate_limited'):
                # Alma failed: a retry looks for it at Alma first, then asks again.
                self.error = error.args[0]
                payment.message_post(body=self.env._("Alma did not refund: %s", error.args[0]))
            else:
                self.write({'refused': True, 'error': error.args[0]})
                payment.message_post(body=self.env._("Alma did not refund: %s", error.args[0]))
            payment._alma_checkpoint()
            return
        payment._alma_record_refunds(data)
        payment._alma_checkpoint()

    # === What Alma says of the refunds === #

    @api.model
    def _alma_record(self, payment, data):
        """Mark done each refund Alma lists; record those made elsewhere; return the new ones."""
        new = dashboard = self.browse()
        mine = self.search([('payment_id', '=', payment.id)])
        by_alma_id = {refund.alma_refund_id: refund for refund in mine if refund.alma_refund_id}
        by_reference = {refund.reference: refund for refund in mine}
        for listed in data.get('refunds') or []:
            if listed['id'] in by_alma_id:
                continue
            refund = by_reference.get(listed.get('merchant_reference') or '')
            values = {'unanswered': False, 'error': False,
                      'alma_refund_id': listed['id'], 'amount_cents': int(listed['amount'])}
            if refund:
                refund.write(values)
            else:  # Made on Alma's dashboard: a refund transaction too, as ours have.
                if payment.transaction_id:
                    values['transaction_id'] = payment.transaction_id._create_child_transaction(
                        from_cents(values['amount_cents']), is_refund=True).id
                refund = self.create({'payment_id': payment.id,
                                      'refund_key': f"alma:{listed['id']}", **values})
                dashboard |= refund
            new |= refund
        dashboard._alma_ask_credit_note()
        return new

    def _alma_ask_credit_note(self):
        """A refund made on Alma's dashboard of an invoice's payment: its bookkeeper is asked
        for the credit note, which the refund's outgoing payment in the Alma journal pays."""
        for refund in self:
            tx = refund.payment_id.transaction_id
            invoice = tx.invoice_ids.sorted('id')[:1] or refund.payment_id.invoice_id
            if not invoice or (tx and tx._alma_is_till()):
                continue
            # The business's books: in its language, whoever learnt of the refund.
            env = self.with_context(lang=refund.company_id.partner_id.lang or self.env.lang).env
            invoice._alma_ask_bookkeeper(env._("Credit note to make"), env._(
                "Alma refunded %(amount)s of %(invoice)s from its dashboard: make the credit "
                "note of what was refunded, then reconcile it with the refund's payment in the "
                "Alma journal.", amount=refund.currency_id.format(refund.amount),
                invoice=invoice.name))

    def _alma_on_done(self):
        """What a refund Alma made changes here: Frais Alma, the chatter, the transaction."""
        for refund in self:
            payment = refund.payment_id
            if payment.state == 'accepted':  # A refused payment (a wrong amount) has no line.
                self.env['alma.fee.line']._alma_create_for_refund(
                    payment, refund.alma_refund_id, refund.amount_cents)
            payment.message_post(body=self.env._(
                "Refunded %s.", refund.currency_id.format(refund.amount)))
        # sudo: refunds are recorded for whoever learnt of them; their transactions follow.
        self.env['payment.transaction'].sudo()._alma_sync_from_refunds(self)

    def _alma_notification_data(self):
        """What its refund transaction is told of this refund (`payment.transaction`'s
        notification path)."""
        self.ensure_one()
        return {'reference': self.transaction_id.reference, 'status': self._alma_verdict(),
                'reason': self.error, 'provider_reference': self.alma_refund_id}

    @api.model
    def _alma_check_unanswered(self):
        """Look at Alma for the refunds whose answer was lost (cron); those Alma never received
        are refused after a grace, so that they may be asked again."""
        # sudo: the cron's own books; it runs for every company.
        refunds = self.sudo().search([('state', '=', 'asked')])
        for payment in refunds.payment_id:
            try:
                data = payment.provider_id._alma_client().get_payment(payment.alma_id)
            except UserError as error:
                _logger.warning("Refunds of Alma payment %s not checked: %s",
                                payment.alma_id, error)
                continue
            payment._alma_record_refunds(data)
        deadline = fields.Datetime.now() - LOST_ANSWER_GRACE
        lost = refunds.filtered(lambda r: r.state == 'asked' and r.asked_at
                                and r.asked_at < deadline)
        lost.write({'refused': True, 'error': self.env._(
            "Alma never received this refund: nothing was refunded. Ask it again.")})
        self.env['payment.transaction'].sudo()._alma_sync_from_refunds(lost)

    # === Data for the POS === #

    def _alma_pos_data(self):
        """The till's view of this refund (see `_alma_pos_refund_data`)."""
        self.ensure_one()
        return self._alma_pos_refund_data(
            self.payment_id, state=self.state, error=self.error or '',
            unanswered=self.unanswered, amount_cents=self.amount_cents,
            pos_amount_cents=self.pos_amount_cents, alma_refund_id=self.alma_refund_id,
            reference=self.reference, pos_payment_uuid=self.pos_payment_uuid,
            refunded_cents=self.payment_id.amount_refunded_cents)

    @api.model
    def _alma_pos_refund_data(self, payment, *, state, error, unanswered, amount_cents,
                              pos_amount_cents, alma_refund_id, reference, pos_payment_uuid,
                              refunded_cents):
        """A till's refund as plain data: also built from `_alma_refund_for`'s answer, which
        the caller's transaction may not see yet."""
        currency = payment.currency_id
        states = dict(self._fields['state']._description_selection(self.env))
        data = {
            'pos_payment_uuid': pos_payment_uuid,
            'reference': reference or '',
            'state': state,
            'state_label': states.get(state, ''),
            'error': error or '',
            'unanswered': bool(unanswered),
            'amount': from_cents(pos_amount_cents or amount_cents),
            'alma_amount': from_cents(amount_cents),
            'alma_refund_id': alma_refund_id or False,
            'payment': payment._alma_pos_refund_summary(refunded_cents),
        }
        format_amount = currency.format
        lines = [self.env._("Alma refund")]
        if state == 'done':
            lines.append(self.env._("Refunded through Alma: %s", format_amount(data['amount'])))
        else:
            lines.append(self.env._("Not refunded yet: %s", format_amount(data['amount'])))
        if data['alma_amount'] != data['amount']:
            lines.append(self.env._("Alma's purchase amount refunded: %s",
                                    format_amount(data['alma_amount'])))
        # Alma's id on a line of its own: 40 characters overflow a ticket beside anything else.
        lines.append(self.env._("Alma payment: %s", payment.plan_id.name))
        lines.append(payment.alma_id)
        lines.append(self.env._("Refunded in all: %(refunded)s of %(paid)s",
                                refunded=format_amount(from_cents(refunded_cents)),
                                paid=format_amount(payment.purchase_amount)))
        data['receipt_text'] = '\n'.join(lines)
        return data
