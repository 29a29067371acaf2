"""Alma's vocabulary, as documented in shared/alma-api.md."""

API_URL_LIVE = 'https://api.getalma.eu'
API_URL_TEST = 'https://api.sandbox.getalma.eu'

LIVE_KEY_PREFIX = 'sk_live_'
TEST_KEY_PREFIX = 'sk_test_'

# Odoo's payment.method with code 'alma' already exists in `payment`.
DEFAULT_PAYMENT_METHOD_CODES = {'alma'}
SUPPORTED_CURRENCIES = ('EUR',)

# `online` and `online_in_page` are the origins Alma's clients send; in-store payments use an
# origin starting with `pos_`, which makes Alma apply the account's in-store (`pos`) fee plans
# (alma/alma-php-client src/Endpoints/Merchants.php). The exact in-store value is in no public
# Alma source: see the README, "What is confirmed about Alma".
IN_STORE_ORIGIN_PREFIX = 'pos_'
DEFAULT_ORIGIN = 'pos_sms'
FEE_PLAN_KIND = 'pos'
# Alma's origin and fee plans of a payment made on the merchant's website.
ONLINE_ORIGIN = 'online'
ONLINE_FEE_PLAN_KIND = 'general'
FEE_PLANS_TTL_SECONDS = 300
# The payment form's eligibility is kept this long: anyone may reload the form at will.
ELIGIBILITY_TTL_SECONDS = 180

# (connect, read) in seconds: Alma answers in well under a second; a cashier must not wait long.
TIMEOUTS = (5, 20)
READ_RETRIES = 3
RETRY_BACKOFF_SECONDS = 0.5
# A 429's Retry-After is honoured up to this wait; beyond it the cashier is told how long to wait.
RETRY_AFTER_MAX_SECONDS = 10

# Pages of Alma's payment list: 20, alma/alma-python-client alma_client/endpoints/payments.py
# (`fetch_all(limit=20)`); no source gives a larger `limit` Alma accepts.
LIST_LIMIT = 20
# What a payment whose creation answer was lost may be at Alma: created, its link not sent yet
# (`not_started`), or its payment plan not initialized yet (`not_ready`, alma/alma-python-client
# alma_client/entities/payment.py `PaymentState`).
UNSTARTED_STATES = ('not_started', 'not_ready')

# Payment states: `in_progress` means the first installment is paid, i.e. the sale is accepted.
ACCEPTED_STATES = ('in_progress', 'paid')
REFUSED_STATES = ('scored_no',)
FINAL_STATES = ('accepted', 'refused', 'expired', 'cancelled')

# Our record's states, as the cashier reads them on the status pill.
PAYMENT_STATES = [
    ('draft', "Sending to Alma"),
    ('waiting', "Waiting for the customer"),
    ('accepted', "Accepted"),
    ('refused', "Refused"),
    ('expired', "Expired"),
    ('cancelled', "Cancelled"),
    ('error', "Not sent"),
]
# What an Alma payment is, read from its transaction (`alma.payment._compute_state`): Odoo's
# record of the sale. Its own reason code tells what the transaction cannot: an expired link
# from a cancelled one, and a payment never created at Alma (`NOT_SENT`), whose transaction
# stays in draft for another attempt.
STATE_OF_TRANSACTION = {'draft': 'waiting', 'pending': 'waiting', 'authorized': 'waiting',
                        'done': 'accepted', 'cancel': 'cancelled', 'error': 'refused'}
NOT_SENT = 'not_sent'
STATE_OF_REASON = {
    NOT_SENT: 'error', 'expired': 'expired',
    'refused': 'refused', 'amount_mismatch': 'refused', 'test_mode': 'refused',
    'cancelled': 'cancelled', 'cancelled_by': 'cancelled', 'gave_up': 'cancelled',
    'replaced_online': 'cancelled',
}
# What an Alma refund is, read from its refund transaction (`alma.refund._compute_state`).
REFUND_STATE_OF_TRANSACTION = {'draft': 'asked', 'pending': 'asked', 'authorized': 'asked',
                               'done': 'done', 'cancel': 'refused', 'error': 'refused'}
# What a transaction becomes as Alma's news makes its Alma payment (`PAYMENT_STATES`) or refund
# (`alma.refund`) go, in `payment.transaction._process_notification_data`: a waiting payment
# is pending only once its customer has started paying (not in `UNSTARTED_STATES`).
STATUS_MAPPING = {
    'pending': ('waiting', 'asked'),
    'done': ('accepted', 'done'),
    'cancel': ('expired', 'cancelled'),
    'error': ('refused', 'error'),
}
SEND_MODES = [('sms', "SMS"), ('email', "E-mail"), ('link', "Link"), ('here', "Pay here")]

# A counter payment is paid within minutes; a phone sale's link may wait a day.
LINK_EXPIRES_AFTER_MINUTES = 60 * 24
