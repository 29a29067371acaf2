import hashlib
import hmac
import logging
import re

from werkzeug.exceptions import BadRequest, Forbidden

from odoo import http
from odoo.http import request

from odoo.addons.payment_alma import const

_logger = logging.getLogger(__name__)

# Alma's payment ids: a prefix and letters or digits (e.g. payment_11uPRjP4L9Dgbttx3cFUK7i3lEtu).
PAYMENT_ID_RE = re.compile(r'^[A-Za-z0-9_]{1,64}$')


class AlmaController(http.Controller):

    @http.route(const.IPN_ROUTE, type='http', auth='public', methods=['GET', 'POST'], csrf=False)
    def alma_ipn(self, pid=None, **_kwargs):
        """Alma's notification: check its signature, then re-read the payment from Alma.

        The request proves nothing by itself: only the payment id is used, and only once its
        HMAC (keyed with the API key of the provider holding that payment) checks out. A final
        payment is not re-read, and replays re-read a payment at most every few seconds.
        """
        if not isinstance(pid, str) or not PAYMENT_ID_RE.match(pid):
            raise BadRequest()
        # sudo: the public user finds the payment only to check the signature with its key.
        payment = request.env['alma.payment'].sudo().search([('alma_id', '=', pid)], limit=1)
        signature = request.httprequest.headers.get('X-Alma-Signature', '')
        if not payment:
            return self._alma_unknown_payment(pid, signature)
        # The key of the account the payment was made on: a sandbox payment notified after
        # the provider went live is read from the sandbox, and refused (`_alma_state_from`).
        api_key = payment.provider_id._alma_api_key_of_state(payment.mode)
        if not api_key or not _signature_ok(api_key, pid, signature):
            _logger.warning("Alma notification refused for payment %r", pid)
            raise Forbidden()
        payment._alma_refresh_notified(source='notification')
        return request.make_json_response({'ok': True})

    def _alma_unknown_payment(self, pid, signature):
        """A payment this database does not hold: a notification Alma signed (with the test or
        live key of one of its Alma providers) is answered 200 and ignored, any other request
        refused. An IPN URL set for the whole account on Alma's dashboard, or another shop's
        payment, may bring it here; Alma's policy for an answer other than 2xx is not public,
        and a 200 costs nothing and stops any retry (issue 20, item 10).

        Source of the signature: alma/alma-php-client src/Lib/PaymentValidator.php.
        """
        # sudo: the public user reads the keys only to check the signature.
        providers = request.env['payment.provider'].sudo().search([('code', '=', 'alma')])
        keys = {provider._alma_api_key_of_state(mode) for provider in providers
                for mode in ('test', 'live')} - {''}
        if not any(_signature_ok(key, pid, signature) for key in keys):
            _logger.warning("Alma notification refused for unknown payment %r", pid)
            raise Forbidden()
        _logger.info("Alma notification for payment %r, which this database does not hold: "
                     "ignored", pid)
        return request.make_json_response({'ok': True, 'ignored': True})


def _signature_ok(api_key, pid, signature):
    expected = hmac.new(api_key.encode(), pid.encode(), hashlib.sha256).hexdigest()
    given = signature.strip().lower().encode('utf-8', 'replace')
    return hmac.compare_digest(expected.encode(), given)
