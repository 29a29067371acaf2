from . import alma_fee_import
from . import alma_payment_wizard
from . import pos_make_payment
from . import alma_transfer
