"""An Alma payment's or refund's state is read from its transaction: every state is read
again (those that change are logged; what they need was given by `pre-migrate.py`)."""

import logging

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {'tracking_disable': True})
    for model in ('alma.payment', 'alma.refund'):
        records = env[model].with_context(active_test=False).search([])
        before = {record.id: record.state for record in records}
        env.add_to_compute(records._fields['state'], records)
        records.flush_recordset(['state'])
        for record in records:
            if record.state == before[record.id]:
                continue
            _logger.warning("%s %s: %s, read from its transaction %s, was %s", model,
                            record.reference, record.state, record.transaction_id.reference,
                            before[record.id])
