import hashlib
import hmac
import logging

from werkzeug.exceptions import Forbidden

from odoo import http
from odoo.http import request

from odoo.addons.payment_alma import const

_logger = logging.getLogger(__name__)


class AlmaController(http.Controller):

    @http.route(const.IPN_ROUTE, type='http', auth='public', methods=['GET', 'POST'], csrf=False)
    def alma_ipn(self, pid=None, **_kwargs):
        """Alma's notification: check its signature, then re-read the payment from Alma.

        The request proves nothing by itself: only the payment id is used, and only once its
        HMAC (keyed with the API key of the provider holding that payment) checks out.
        """
        payment = request.env['alma.payment'].sudo().search([('alma_id', '=', pid or '')], limit=1)
        signature = request.httprequest.headers.get('X-Alma-Signature', '')
        api_key = payment.provider_id.sudo()._alma_api_key_of_state() if payment else ''
        if not api_key or not _signature_ok(api_key, pid, signature):
            _logger.warning("Alma notification refused for payment %r", pid)
            raise Forbidden()
        payment._alma_refresh(source='notification')
        return request.make_json_response({'ok': True})


def _signature_ok(api_key, pid, signature):
    expected = hmac.new(api_key.encode(), pid.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())
