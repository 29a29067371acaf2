import hashlib
import hmac
import logging
import re

from werkzeug.exceptions import BadRequest, Forbidden

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from odoo.addons.payment.controllers.post_processing import PaymentPostProcessing

_logger = logging.getLogger(__name__)

# Alma's payment ids: a prefix and letters or digits (e.g. payment_11uPRjP4L9Dgbttx3cFUK7i3lEtu).
PAYMENT_ID_RE = re.compile(r'^[A-Za-z0-9_]{1,64}$')


class AlmaController(http.Controller):
    """Every /payment/alma route: Alma's notification, and the customer's side of Alma in Odoo's
    payment form (create the payment, come back)."""

    _ipn_url = '/payment/alma/ipn'
    _create_url = '/payment/alma/payment'
    _return_url = '/payment/alma/return'
    _cancel_url = '/payment/alma/cancel'

    @http.route(_ipn_url, type='http', auth='public', methods=['GET', 'POST'], csrf=False)
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


    @http.route(_create_url, type='json', auth='public')
    def alma_create_payment(self, reference, plan_id, access_token):
        """Create the Alma payment of a transaction of the payment form, in the chosen plan.

        The access token (from the transaction's processing values) proves the transaction is
        the caller's; amounts, currency and customer are read from the transaction itself.
        """
        # Anyone may call this route: a refusal is an answer the payment form shows, never an
        # error whose JSON carries the server's traceback.
        if not _is_text(reference) or not _is_text(access_token):
            return {'error': request.env._("The access token is invalid.")}
        # sudo: the customer may be the public user; the access token checked below proves that
        # the transaction is theirs, and nothing else is taken from the request but the plan.
        tx_sudo = request.env['payment.transaction'].sudo().search([
            ('reference', '=', reference), ('provider_code', '=', 'alma'),
        ], limit=1)
        if not tx_sudo or not tx_sudo._alma_check_access_token(access_token):
            _logger.warning("Alma payment refused: invalid access token for %r", reference)
            return {'error': request.env._("The access token is invalid.")}
        plan_id = plan_id if isinstance(plan_id, int) and not isinstance(plan_id, bool) \
            and 0 < plan_id < 2**31 else 0
        # sudo: plans are configuration; only one of the provider's plans is accepted.
        plan = request.env['payment.alma.plan'].sudo().browse(plan_id).exists()
        try:
            # Anyone's request: Alma's failures are said at once (no retry, no wait).
            return {'url': tx_sudo.with_context(alma_fail_fast=True)._alma_create_payment(plan)}
        except UserError as error:  # Said to the customer, on the payment form.
            return {'error': error.args[0]}

    @http.route(_return_url, type='http', auth='public', methods=['GET', 'POST'], csrf=False,
                save_session=False)
    def alma_return(self, pid=None, **_kwargs):
        """The customer's return from Alma's page (paid, refused or given up).

        Only the payment id is read from the request, to find our record; its state is re-read
        from Alma. `save_session=False` as for Mollie: the redirection to the status page brings
        the session (and its monitored transaction) back. A customer who paid on the till's own
        device ("Pay here") came in a window the till opened: a page that closes that window
        hands the device back to the cashier.
        """
        payment = self._alma_returning_payment(pid)
        if payment:
            payment._alma_refresh_notified(source='return')
        if payment and payment.channel == 'pos':
            # Only whether it is paid is shown: nothing of the sale or the customer.
            return request.render('payment_alma.pos_return_page', {
                'accepted': payment.state == 'accepted',
            })
        return request.redirect('/payment/status')

    @http.route(_cancel_url, type='http', auth='public', methods=['GET', 'POST'], csrf=False,
                save_session=False)
    def alma_cancel(self, pid=None, **_kwargs):
        """The customer gave up on Alma's page and came back: cancel the payment if nothing was
        paid, so that the link no longer works and the customer may pay otherwise.

        Only the browser that was paying this transaction (its session monitors it) may cancel
        it: a payment id is no secret, and anyone else is only sent to the status page.
        """
        payment = self._alma_returning_payment(pid)
        if not payment:
            return request.redirect('/payment/status')
        # sudo: the customer may be the public user; the session names their transaction.
        monitored = request.env['payment.transaction'].sudo().browse(
            request.session.get(PaymentPostProcessing.MONITORED_TX_ID_KEY)).exists()
        if monitored and monitored == payment.transaction_id:
            payment._alma_refresh(source='return')
            if payment.state == 'waiting':
                try:
                    payment._alma_cancel(reason_code='gave_up')
                except UserError as error:  # The link stays open; the regular check follows.
                    _logger.warning("Alma payment %s not cancelled on the customer's return: "
                                    "%s", payment.alma_id, error)
        else:
            payment._alma_refresh_notified(source='return')
        return request.redirect('/payment/status')

    @staticmethod
    def _alma_returning_payment(pid):
        """The web payment a customer comes back from, by Alma's id (only that is read)."""
        if not isinstance(pid, str) or not PAYMENT_ID_RE.match(pid):
            return None
        # sudo: whoever comes back from Alma; the id only selects a payment to re-read from Alma
        # (at most every few seconds, as for the notification: no flood of Alma on replays),
        # failing fast (no retry, no wait): anyone may call this page.
        payment = request.env['alma.payment'].sudo().with_context(alma_fail_fast=True).search([
            ('alma_id', '=', pid), '|', ('send_mode', '=', 'here'),
            '&', ('transaction_id', '!=', False), ('channel', '!=', 'pos'),
        ], limit=1)
        if not payment:
            _logger.warning("Return from Alma for an unknown payment %r", pid)
        return payment


def _signature_ok(api_key, pid, signature):
    expected = hmac.new(api_key.encode(), pid.encode(), hashlib.sha256).hexdigest()
    given = signature.strip().lower().encode('utf-8', 'replace')
    return hmac.compare_digest(expected.encode(), given)


def _is_text(value):
    """A non-empty string PostgreSQL can hold (no NUL character), of a sane length."""
    return isinstance(value, str) and 0 < len(value) <= 256 and '\x00' not in value
