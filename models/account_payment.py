from odoo import models
from odoo.exceptions import UserError


class AccountPayment(models.Model):
    _inherit = 'account.payment'

    def action_post(self):
        """Override of `account` to refuse a payment typed by hand in an Alma journal.

        Money moves there only through Alma: a payment is Alma's when it comes from a payment
        transaction (the web, and an invoice's "Pay with Alma" link), from a till's session, or
        from the add-on itself (as superuser). Anything else would show an invoice or a credit
        note paid while Alma moved nothing.
        """
        # sudo: which journals are Alma's, to compare only.
        alma_journals = self.env['payment.provider'].sudo().search(
            [('code', '=', 'alma')]).journal_id
        by_hand = self.filtered(lambda payment: payment.journal_id in alma_journals and not (
            payment.payment_transaction_id or payment.pos_session_id or self.env.su))
        if by_hand:
            raise UserError(self.env._(
                "Only Alma moves money in the journal %s: a customer pays with \"Pay with "
                "Alma\" (a payment link) or at the till, and a credit note of an invoice paid "
                "with Alma is refunded with its button \"Refund with Alma\". Register this "
                "payment in another journal.",
                by_hand.journal_id[:1].display_name))
        return super().action_post()
