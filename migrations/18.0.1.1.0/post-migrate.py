"""Alma's payments and refunds name their transaction by a link, no longer by its reference;
the till's, which had none, get theirs."""

import logging

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL
from odoo.tools.sql import column_exists

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.utils.money import from_cents

_logger = logging.getLogger(__name__)

# A transaction's state from its Alma payment's or refund's (`const.STATUS_MAPPING`).
TX_STATE = {state: tx_state for tx_state, states in const.STATUS_MAPPING.items()
            for state in states}


def migrate(cr, version):
    link_transactions(cr)
    give_till_payments_transactions(api.Environment(cr, SUPERUSER_ID, {}))


def link_transactions(cr):
    # Before Odoo drops the old column (at the end of the upgrade, with its field).
    for table in ('alma_payment', 'alma_refund'):
        if not column_exists(cr, table, 'transaction_reference'):
            continue
        cr.execute(SQL("""
            UPDATE %(table)s record
               SET transaction_id = tx.id
              FROM payment_transaction tx
             WHERE tx.reference = record.transaction_reference
               AND record.transaction_id IS NULL
        """, table=SQL.identifier(table)))
        cr.execute(SQL("""
            SELECT id, transaction_reference FROM %(table)s
             WHERE transaction_reference IS NOT NULL AND transaction_id IS NULL
        """, table=SQL.identifier(table)))
        for record_id, reference in cr.fetchall():
            _logger.warning("%s %s: no transaction %s to link it to", table, record_id,
                            reference)


def give_till_payments_transactions(env):
    """Each till's payment, and each of its refunds, gets the transaction it would have today,
    in the state Alma gave it. Their sessions booked their money: never post-processed."""
    payments = env['alma.payment'].search(
        [('pos_payment_uuid', '!=', False), ('transaction_id', '=', False)], order='id')
    for payment in payments:
        partner = payment.partner_id or payment.contact_id.commercial_partner_id
        if not partner:
            _logger.warning("Alma payment %s has no customer: no transaction", payment.reference)
            continue
        tx = env['payment.transaction']._alma_till_transaction(
            payment.provider_id, from_cents(payment.price_cents), payment.currency_id, partner,
            payment.pos_order_name)
        state = TX_STATE.get(payment.state, 'draft')
        if state == 'pending' and (payment.alma_state or 'not_started') in const.UNSTARTED_STATES:
            state = 'draft'
        tx.write({'state': state, 'provider_reference': payment.alma_id,
                  'state_message': payment.state_reason, 'is_post_processed': True})
        payment.transaction_id = tx
        for refund in payment.refund_ids.filtered(lambda refund: not refund.transaction_id):
            refund_tx = tx._create_child_transaction(from_cents(refund.amount_cents),
                                                     is_refund=True)
            refund_tx.write({'state': TX_STATE.get(refund.state, 'draft'),
                             'provider_reference': refund.alma_refund_id,
                             'state_message': refund.error, 'is_post_processed': True})
            refund.transaction_id = refund_tx
    date_as_their_records(env, payments)
    _logger.info("%s Alma payments of the till got their transactions", len(payments))


def date_as_their_records(env, payments):
    """The transactions made here are dated as their payments and refunds, not as the upgrade
    (Odoo's lists of transactions sort and filter on it)."""
    env.flush_all()
    for table in ('alma_payment', 'alma_refund'):
        column = 'id' if table == 'alma_payment' else 'payment_id'
        env.cr.execute(SQL("""
            UPDATE payment_transaction tx
               SET create_date = record.create_date, last_state_change = record.write_date
              FROM %(table)s record
             WHERE record.transaction_id = tx.id AND record.%(column)s IN %(ids)s
        """, table=SQL.identifier(table), column=SQL.identifier(column),
            ids=tuple(payments.ids) or (0,)))
    env.invalidate_all()
