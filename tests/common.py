from odoo.addons.payment.tests.common import PaymentCommon
from odoo.addons.payment_alma.alma_standin import StandIn

_standin = None


def get_standin():
    """Return the local Alma stand-in, started once per test run on a free port."""
    global _standin
    if _standin is None:
        _standin = StandIn(host='127.0.0.1', port=0).start()
    return _standin


class AlmaCommon(PaymentCommon):
    """An Alma provider in test state, talking over HTTP to a fresh local Alma stand-in."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.standin = get_standin()
        cls.alma = cls._prepare_provider('alma', update_values={
            'state': 'test',
            'alma_api_key_test': 'sk_test_standin',
            'alma_api_key_live': False,
            'alma_api_url': cls.standin.url,
        })
        cls.provider = cls.alma
        cls.currency = cls.currency_euro

    def setUp(self):
        super().setUp()
        self.standin.reset()
        self.alma._alma_clear_fee_plans_cache()

    def alma_requests(self, method, path):
        """Count the requests the stand-in received for `method` and `path`."""
        return sum(1 for request in self.standin.requests if request == (method, path))
