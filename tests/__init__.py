from . import test_alma_client
from . import test_alma_fee_line
from . import test_alma_payment
from . import test_eligibility
from . import test_pos_tours
from . import test_payment_provider
