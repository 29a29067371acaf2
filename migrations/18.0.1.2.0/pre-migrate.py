"""An Alma payment's state is read from its transaction and its reason from now on, a
refund's from its refund transaction: each payment's reason says what its transaction cannot
(never created at Alma, expired rather than cancelled), each refund whether Alma refused it,
before anything reads the states again."""

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
    # An Alma refund's state is read from its refund transaction, or from what Alma said of it.
    cr.execute("ALTER TABLE alma_refund ADD COLUMN IF NOT EXISTS refused boolean")
    cr.execute("UPDATE alma_refund SET refused = TRUE WHERE state = 'refused'")
