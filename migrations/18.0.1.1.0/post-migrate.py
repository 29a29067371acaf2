"""Alma's payments and refunds name their transaction by a link, no longer by its reference."""

import logging

from odoo.tools import SQL
from odoo.tools.sql import column_exists

_logger = logging.getLogger(__name__)


def migrate(cr, version):
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
