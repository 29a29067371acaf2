from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.payment_alma.utils.money import from_cents


class AlmaFeeLineSettlement(models.Model):
    """Alma's transfer received: the lines it paid settled, and the transfer and the fees
    booked."""

    _inherit = 'alma.fee.line'

    # === Settlement: Alma's transfer has arrived === #

    def _alma_check_bookkeeper(self):
        """Bookkeepers settle lines but may not edit them: the write itself runs as superuser."""
        # Billing ("Facturation") is a Community clinic's bookkeeper: the accounting's other
        # groups (full accounting features, administrator) imply it.
        if not self.env.user.has_group('account.group_account_invoice'):
            raise UserError(self.env._("Only bookkeepers can mark Alma transfers as received."))
        self.check_access('read')
        return self.sudo()

    def action_toggle_settled(self):
        """The double-click of the grid: settle a line, or un-settle it; says what it did."""
        user = self.env.user
        messages = []
        for line in self._alma_check_bookkeeper().with_context(alma_settled_by=user.id):
            if line.settled:
                line._alma_unsettle()
                messages.append(self.env._("Transfer marked as not received for %s.",
                                           line.origin))
            else:
                line._alma_settle()
                messages.append(self.env._("Transfer received marked for %s.", line.origin))
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {'type': 'success', 'message': "\n".join(messages)},
        }

    def action_mark_settled(self):
        lines = self._alma_check_bookkeeper().with_context(alma_settled_by=self.env.user.id)
        lines.filtered(lambda line: not line.settled)._alma_settle()
        return True

    def action_alma_record_transfer(self):
        """Open the dialog that records Alma's transfer of the selected lines."""
        self._alma_check_transfer()
        company = self.company_id
        bank = self.env['account.journal'].search([
            ('type', '=', 'bank'), ('company_id', '=', company.id),
            ('id', '!=', self.provider_id.sudo().journal_id.id)], limit=1)
        # Alma pays a line on its expected payout date: the transfer of these lines arrives
        # on the last of them.
        payout_dates = [date for date in self.mapped('payout_date') if date]
        transfer = self.env['alma.transfer'].create({
            'line_ids': [Command.set(self.ids)],
            'company_id': company.id,
            'currency_id': self.currency_id.id,
            'journal_id': bank.id,
            'date': max(payout_dates) if payout_dates else fields.Date.context_today(self),
        })
        return {
            'type': 'ir.actions.act_window',
            'name': self.env._("Alma's Transfer Received"),
            'res_model': 'alma.transfer',
            'res_id': transfer.id,
            'view_mode': 'form',
            'target': 'new',
        }

    def _alma_check_transfer(self):
        """Lines one transfer can pay, read by a bookkeeper: the wizard's lines come from the
        browser, so the dialog's confirmation checks them again."""
        lines = self._alma_check_bookkeeper()
        if not lines:
            raise UserError(self.env._("Select the lines that Alma's transfer pays."))
        if len(lines.provider_id) > 1 or len(lines.currency_id) > 1:
            raise UserError(self.env._(
                "An Alma transfer pays one Alma account in one currency: select its lines only."))
        recorded = lines.filtered('transfer_move_id')
        if recorded:
            raise UserError(self.env._(
                "The transfer of %(origin)s is already recorded (%(entry)s).",
                origin=recorded[0].origin, entry=recorded[0].transfer_move_id.name))
        return lines

    def _alma_record_transfer(self, journal, date):
        """Settle these lines and book Alma's transfer of their net amount to `journal`'s bank.

        The transfer moves the net from Alma's outstanding receipts to the account where Odoo
        books a receipt on that bank journal (where the bank statement line reconciles it as
        any receipt); then the items these lines put on Alma's outstanding receipts (their
        sales, refunds and fee entries) are reconciled with it, and nothing else.
        """
        lines = self._alma_check_transfer().with_context(alma_settled_by=self.env.user.id)
        # sudo: another company's bank typed into the dialog is refused by name, not by a
        # rule's access error; its company is only compared.
        if journal.sudo().company_id != lines.company_id:
            raise UserError(self.env._("Choose a bank account of %s.", lines.company_id.name))
        lines._alma_check_booked()
        lines.filtered(lambda line: not line.settled)._alma_settle()
        provider = lines.provider_id
        outstanding = provider._alma_outstanding_account()
        total_cents = lines._alma_net_cents()
        net = from_cents(abs(total_cents))
        received = total_cents >= 0  # Refunds beyond the sales: Alma takes money back.
        bank_account = self._alma_receipt_account(journal, 'inbound' if received else 'outbound')
        label = self.env._("Alma transfer of %(count)s lines, %(date)s",
                           count=len(lines), date=fields.Date.to_string(date))
        move = self.env['account.move'].sudo().create({
            'move_type': 'entry',
            'journal_id': provider.journal_id.id,
            'date': date,
            'ref': label,
            'company_id': provider.company_id.id,
            'line_ids': [
                Command.create({'name': label, 'account_id': bank_account.id,
                                'debit': net if received else 0.0,
                                'credit': 0.0 if received else net}),
                Command.create({'name': label, 'account_id': outstanding.id,
                                'debit': 0.0 if received else net,
                                'credit': net if received else 0.0}),
            ],
        })
        move.action_post()
        lines.transfer_move_id = move
        items = lines._alma_outstanding_items(outstanding) | move.line_ids.filtered(
            lambda item: item.account_id == outstanding)
        items.filtered(lambda item: not item.reconciled).reconcile()
        return move

    @api.model
    def _alma_receipt_account(self, journal, payment_type):
        """Where Odoo 18 books a payment of `payment_type` on `journal`: its method line's
        outstanding account, else the chart's outstanding receipts (or payments), else the
        company's transfer account (`account.payment`'s `_get_outstanding_account`)."""
        # sudo: a bookkeeper reads the journal's settings to book, as account.payment does.
        payment = self.env['account.payment'].sudo().new({
            'journal_id': journal.id, 'company_id': journal.company_id.id,
            'payment_type': payment_type,
            'partner_type': 'customer' if payment_type == 'inbound' else 'supplier',
        })
        return (payment.payment_method_line_id.payment_account_id
                or payment._get_outstanding_account(payment_type))

    def _alma_refunds(self):
        """The `alma.refund` of these refund lines."""
        refund_ids = self.filtered('refund_id').mapped('refund_id')
        return self.env['alma.refund'].sudo().search([
            ('alma_refund_id', 'in', refund_ids),
            ('payment_id', 'in', self.alma_payment_id.ids)]) if refund_ids else \
            self.env['alma.refund']

    def _alma_check_booked(self):
        """Alma pays a till sale once its session is closed and booked: before, the sale is
        not on Alma's outstanding receipts and the transfer could not settle it."""
        for line in self:
            pos_payment = (line._alma_refunds().pos_payment_id if line.refund_id
                           else line.alma_payment_id.pos_payment_id)
            session = pos_payment.session_id
            if session and session.state != 'closed':
                raise UserError(self.env._(
                    "%(origin)s is in the till session %(session)s, still open: close the "
                    "session first, then record Alma's transfer.",
                    origin=line.origin, session=session.name))

    def _alma_outstanding_items(self, outstanding):
        """What these lines put on Alma's outstanding receipts `outstanding`, still open.

        A till sale or refund is there through its session's Alma payment (one per session
        and till method: its other Alma sales share it, and stay open for their own
        transfer); an online or invoice payment through its transaction's payment; a refund
        of a credit note or a transaction through its refund transaction's payment; the fees
        through each line's fee entry.
        """
        # sudo: what these lines booked, to reconcile it, whoever records the transfer.
        sale_payments = self.filtered(lambda line: not line.refund_id).alma_payment_id.sudo()
        refunds = self._alma_refunds()
        pos_payments = sale_payments.pos_payment_id | refunds.pos_payment_id
        session_payments = self.env['account.payment'].sudo().search([
            ('pos_session_id', 'in', pos_payments.session_id.ids),
            ('pos_payment_method_id', 'in', pos_payments.payment_method_id.ids),
        ]) if pos_payments else self.env['account.payment']
        transactions = (sale_payments.transaction_id | refunds.transaction_id).sudo()
        moves = session_payments.move_id | transactions.payment_id.move_id | self.sudo().move_id
        return moves.line_ids.filtered(
            lambda item: item.account_id == outstanding and item.parent_state == 'posted'
            and not item.reconciled)

    def _alma_settle(self):
        for line in self:
            line.write({
                'settled': True,
                'settled_date': fields.Datetime.now(),
                'settled_by_id': self.env.context.get('alma_settled_by', self.env.user.id),
                'move_id': line._alma_post_fee_entry().id,
            })

    def _alma_unsettle(self):
        recorded = self.filtered('transfer_move_id')
        if recorded:
            raise UserError(self.env._(
                "Alma's transfer of %(origin)s is recorded (%(entry)s): a line paid by a "
                "recorded transfer stays settled.",
                origin=recorded[0].origin, entry=recorded[0].transfer_move_id.name))
        for line in self:
            if line.move_id:
                line.move_id._reverse_moves(
                    [{'ref': self.env._("Reversal of %s", line.move_id.ref)}], cancel=True)
            line.write({'settled': False, 'settled_date': False, 'settled_by_id': False,
                        'move_id': False})

    def _alma_post_fee_entry(self):
        """Post the fee and its VAT against Alma's outstanding receipts.

        The POS or invoice put the price on Alma's outstanding account; once the fee is out,
        what is left there is exactly the net Alma transfers, which the bank line reconciles.
        """
        self.ensure_one()
        if not self.fee_cents and not self.fee_vat_cents:
            return self.env['account.move']
        provider = self.provider_id.sudo()
        outstanding = provider._alma_outstanding_account()
        fee_account, vat_account = provider._alma_fee_accounts()
        if not provider.journal_id or not fee_account or not vat_account:
            raise UserError(self.env._(
                "Set the Alma journal and the fee and VAT accounts on the Alma provider first."))
        label = self.env._("Alma fees %(payment)s (%(origin)s)",
                           payment=self.alma_id, origin=self.origin)
        lines = [
            (0, 0, {'name': label, 'account_id': fee_account.id, 'debit': self.fee,
                    'partner_id': self.partner_id.id}),
            (0, 0, {'name': label, 'account_id': outstanding.id, 'credit': self.fee_total,
                    'partner_id': self.partner_id.id}),
        ]
        if self.fee_vat_cents:
            lines.insert(1, (0, 0, {'name': self.env._("VAT on %s", label),
                                    'account_id': vat_account.id, 'debit': self.fee_vat}))
        move = self.env['account.move'].sudo().create({
            'move_type': 'entry',
            'journal_id': provider.journal_id.id,
            'date': fields.Date.context_today(self),
            'ref': label,
            'company_id': self.company_id.id,
            'line_ids': lines,
        })
        move.action_post()
        return move
