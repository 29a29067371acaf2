from . import alma_payment_wizard
