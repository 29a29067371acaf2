from . import payment_alma_plan
from . import account_move
from . import alma_fee_line
from . import alma_payment
from . import payment_provider
from . import pos_order
from . import pos_payment_method
from . import res_partner
