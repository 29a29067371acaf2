from . import payment_alma_plan
from . import payment_provider
