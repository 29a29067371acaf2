"""An Alma payment's state is read from its transaction and its reason from now on: each
payment's reason says what its transaction cannot (never created at Alma, expired rather than
cancelled), before anything reads the state again."""

from odoo.addons.payment_alma import const

# The reason a payment of each state had when it had none (an earlier code wrote none).
REASON_OF_STATE = {'error': const.NOT_SENT, 'expired': 'expired', 'cancelled': 'cancelled',
                   'refused': 'refused'}


def migrate(cr, version):
    for state, code in REASON_OF_STATE.items():
        cr.execute("""
            UPDATE alma_payment SET state_reason_code = %s
             WHERE state = %s AND state_reason_code IS NULL
        """, [code, state])
