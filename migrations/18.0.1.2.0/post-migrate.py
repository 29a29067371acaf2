"""An Alma payment's state is read from its transaction: every state is read again (those
that change are logged; their reasons were given by `pre-migrate.py`)."""

import logging

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {'tracking_disable': True})
    payments = env['alma.payment'].with_context(active_test=False).search([])
    before = {payment.id: payment.state for payment in payments}
    env.add_to_compute(payments._fields['state'], payments)
    payments.flush_recordset(['state'])
    for payment in payments.filtered(lambda payment: payment.state != before[payment.id]):
        _logger.warning("Alma payment %s: %s, read from its transaction %s, was %s",
                        payment.reference, payment.state, payment.transaction_id.reference,
                        before[payment.id])
