"""The only code that speaks HTTP to Alma.

Models ask `payment.provider._alma_client()` for a client and call its methods; they never build
URLs, headers or retries themselves.
"""

import logging
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from http.cookiejar import DefaultCookiePolicy

import requests
from requests.adapters import HTTPAdapter

from odoo.exceptions import UserError

from odoo.addons.payment_alma import const

_logger = logging.getLogger(__name__)


class AlmaError(UserError):
    """Alma refused a request, or could not be reached; the message is for the user.

    `kind` tells callers what happened without parsing text: 'auth', 'validation', 'payment',
    'forbidden', 'not_found', 'rate_limited', 'server', 'timeout', 'connection', 'bad_response'.
    """

    def __init__(self, message, kind, status=None, error_code=None, field_errors=(),
                 retry_after=None):
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.error_code = error_code
        self.field_errors = list(field_errors)
        self.retry_after = retry_after  # seconds Alma asked to wait (429), or None


class _TimeoutAdapter(HTTPAdapter):
    """Gives every request its (connect, read) timeouts. Set here, below `Session.send`: Odoo's
    test harness patches `Session.send` and reads a timeout there as one number."""

    def __init__(self, timeouts):
        self.timeouts = timeouts
        super().__init__()

    def send(self, request, **kwargs):
        """Override of `requests` to apply the (connect, read) timeouts when none is given."""
        if kwargs.get('timeout') is None:
            kwargs['timeout'] = self.timeouts
        return super().send(request, **kwargs)


# One pool of connections per worker process (per pair of timeouts, in practice one), shared by
# every key and thread: a request to Alma reuses an open TLS connection instead of a handshake
# per call. It holds no business state (the key travels in each request's headers, no cookie is
# kept), so workers and servers need not share it.
_SESSIONS = {}


def _session(timeouts):
    session = _SESSIONS.get(timeouts)
    if session is None:
        session = requests.Session()
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        adapter = _TimeoutAdapter(timeouts)
        session.mount('http://', adapter)
        session.mount('https://', adapter)
        session = _SESSIONS.setdefault(timeouts, session)  # Two threads at once: one kept.
    return session


class AlmaClient:
    """A conversation with Alma with one API key.

    Reads (GET, eligibility) are retried with backoff on 429, 5xx and connection failures; a
    request that creates or changes something is never retried blindly: Alma documents no
    idempotency key, so a second POST could create a second payment.
    """

    def __init__(self, env, base_url, api_key, timeouts=None,
                 retries=const.READ_RETRIES, backoff=const.RETRY_BACKOFF_SECONDS):
        self.env = env
        self.base_url = base_url.rstrip('/')
        self.retries = retries
        self.backoff = backoff
        self.session = _session(tuple(timeouts or const.TIMEOUTS))
        self.headers = {
            'Authorization': f'Alma-Auth {api_key}',
            'Accept': 'application/json',
            'User-Agent': 'Odoo/18.0 payment_alma',
        }

    # === Endpoints === #

    def get_merchant(self):
        return self._request('GET', '/v1/me')

    def get_fee_plans(self, kind=const.FEE_PLAN_KIND):
        return self._request('GET', '/v1/me/fee-plans', params={
            'kind': kind, 'only': 'all', 'deferred': 'true',
        })

    def check_eligibility(self, purchase_amount, queries, origin=None,
                          merchant_covers_all_fees=False, billing_country=None):
        payload = {'purchase_amount': purchase_amount, 'queries': queries}
        if origin:
            payload['origin'] = origin
        if billing_country:
            # The customer's country, as Alma's widgets ask it (billing and shipping: a service
            # or goods taken at the clinic, nothing shipped elsewhere). Source: alma/widgets
            # widgets-lit/src/utils/fetch-eligibility.ts (`billing_address: {country}`,
            # `shipping_address: {country}`).
            payload['billing_address'] = {'country': billing_country}
            payload['shipping_address'] = {'country': billing_country}
        if merchant_covers_all_fees:
            # The same value as in the payment's creation. Source: alma/widgets
            # widgets-lit/src/utils/fetch-eligibility.ts, documentation.md.
            payload['merchant_covers_all_fees'] = True
        # Eligibility creates nothing: safe to retry.
        return self._request('POST', '/v2/payments/eligibility', json=payload, idempotent=True)

    def create_payment(self, payload):
        return self._request('POST', '/v1/payments', json=payload)

    def get_payment(self, payment_id):
        return self._request('GET', f'/v1/payments/{payment_id}')

    def list_payments(self, states=(), limit=const.LIST_LIMIT, starting_after=None):
        params = {'limit': limit}
        if states:
            params['state'] = ','.join(states)
        if starting_after:
            params['starting_after'] = starting_after
        return self._request('GET', '/v1/payments', params=params)

    def cancel_payment(self, payment_id):
        return self._request('PUT', f'/v1/payments/{payment_id}/cancel')

    def send_sms(self, payment_id):
        return self._request('POST', f'/v1/payments/{payment_id}/send-sms')

    def refund(self, payment_id, amount=None, merchant_reference='', comment=''):
        payload = {'merchant_reference': merchant_reference, 'comment': comment}
        if amount is not None:
            payload['amount'] = amount
        return self._request('POST', f'/v1/payments/{payment_id}/refund', json=payload)

    def flag_potential_fraud(self, payment_id, reason):
        return self._request(
            'POST', f'/v1/payments/{payment_id}/potential-fraud', json={'reason': reason}
        )

    def create_data_export(self, export_type, start, end):
        return self._request('POST', '/v1/data-exports', json={
            'type': export_type, 'start': start, 'end': end,
        })

    def get_data_export(self, export_id):
        return self._request('GET', f'/v1/data-exports/{export_id}')

    def download_data_export(self, export_id, file_format='csv'):
        return self._request(
            'GET', f'/v1/data-exports/{export_id}', params={'format': file_format}, raw=True
        )

    # === Transport === #

    def _request(self, method, path, params=None, json=None, idempotent=None, raw=False):
        """Send one request and return its decoded JSON (or bytes when `raw`).

        :raise AlmaError: for any answer but a 2xx, or when Alma cannot be reached.
        """
        if idempotent is None:
            idempotent = method == 'GET'
        url = self.base_url + path
        attempts = 1 + (self.retries if idempotent else 0)
        for attempt in range(1, attempts + 1):
            started = time.monotonic()
            try:
                response = self.session.request(method, url, params=params, json=json,
                                                headers=self.headers)
            except requests.exceptions.Timeout as error:
                failure = self._error_timeout(error)
            except requests.exceptions.ConnectionError as error:
                failure = self._error_connection(error)
            else:
                _logger.info(
                    "Alma %s %s -> %s in %.0f ms", method, path, response.status_code,
                    (time.monotonic() - started) * 1000,
                )
                if response.ok:
                    return response.content if raw else self._decode(response)
                failure = self._error_from_response(response)
            retryable = failure.kind in ('timeout', 'connection', 'rate_limited', 'server')
            if (failure.retry_after or 0) > const.RETRY_AFTER_MAX_SECONDS:
                retryable = False  # Alma asks for a longer wait than a cashier can give.
            if attempt == attempts or not retryable:
                raise failure
            delay = self.backoff * 2 ** (attempt - 1)
            if failure.retry_after is not None:
                delay = failure.retry_after  # Alma said when: neither sooner nor later.
            _logger.warning(
                "Alma %s %s failed (%s), retry %s/%s in %.1f s",
                method, path, failure.kind, attempt, attempts - 1, delay,
            )
            time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _decode(self, response):
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise AlmaError(
                self.env._("Alma sent an answer that could not be read. Please try again."),
                kind='bad_response', status=response.status_code,
            ) from None

    # === Errors: one clear, translatable message for each === #

    def _error_timeout(self, error):
        _logger.warning("Alma did not answer in time: %s", error)
        return AlmaError(
            self.env._("Alma did not answer in time. Please try again in a moment."),
            kind='timeout',
        )

    def _error_connection(self, error):
        _logger.warning("Alma could not be reached: %s", error)
        return AlmaError(
            self.env._(
                "Alma cannot be reached. Check the internet connection of the Odoo server, "
                "then try again."
            ),
            kind='connection',
        )

    def _error_from_response(self, response):
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        error_code = body.get('error_code')
        detail = _meaningful(body.get('message')) or _meaningful(body.get('error'))
        _logger.warning("Alma answered %s: %s", status, response.text[:500])
        if status == 401:
            return AlmaError(
                self.env._(
                    "Alma refused the API key. Copy the key again from your Alma dashboard "
                    "(Settings › API keys): test keys (sk_test_…) work on Alma's sandbox only, "
                    "live keys (sk_live_…) on the live API only."
                ),
                kind='auth', status=status, error_code=error_code,
            )
        if status == 400:
            field_errors = [error for error in body.get('errors') or [] if isinstance(error, dict)]
            return AlmaError(
                self._validation_message(error_code, field_errors, detail),
                kind='validation', status=status, error_code=error_code,
                field_errors=field_errors,
            )
        if status == 402:
            return AlmaError(
                self.env._("The customer's bank refused the payment. %s", detail).strip(),
                kind='payment', status=status, error_code=error_code,
            )
        if status == 403:
            return AlmaError(
                self.env._(
                    "This feature is not enabled on your Alma account. Contact Alma to "
                    "enable it. (%s)", detail or error_code or self._status_text(status),
                ),
                kind='forbidden', status=status, error_code=error_code,
            )
        if status == 404:
            return AlmaError(
                self.env._("Alma does not know this payment or resource."),
                kind='not_found', status=status, error_code=error_code,
            )
        if status == 429:
            retry_after = _retry_after_seconds(response.headers.get('Retry-After'))
            if retry_after:
                message = self.env._(
                    "Alma is receiving too many requests and asks to wait %s s. Please try "
                    "again then.", retry_after)
            else:
                message = self.env._(
                    "Alma is receiving too many requests. Please try again in a minute.")
            return AlmaError(message, kind='rate_limited', status=status,
                             error_code=error_code, retry_after=retry_after)
        if status >= 500:
            return AlmaError(
                self.env._(
                    "Alma is temporarily unavailable (error %s). Please try again in a few "
                    "minutes.", status,
                ),
                kind='server', status=status, error_code=error_code,
            )
        return AlmaError(
            self.env._("Alma refused the request (error %(status)s): %(detail)s",
                       status=status, detail=detail or self._code_text(error_code)
                       or self._status_text(status)),
            kind='bad_response', status=status, error_code=error_code,
        )

    def _validation_message(self, error_code, field_errors, detail):
        """Alma's own words for a 400: each `errors[]` entry as "field: message"."""
        if error_code == 'merchant_cant_create_payments':
            return self.env._(
                "Your Alma account cannot create payments yet. Finish its activation in the "
                "Alma dashboard."
            )
        lines = [self._field_error_line(error) for error in field_errors]
        lines = [line for line in lines if line]
        if not lines:
            lines = [detail or self._code_text(error_code) or self._status_text(400)]
        elif detail and detail not in lines:
            lines.insert(0, detail)
        return self.env._("Alma refused the data sent:\n%s", '\n'.join(lines))

    def _field_error_line(self, error):
        field = _meaningful(error.get('field'))
        problem = _meaningful(error.get('message')) or self._code_text(error.get('error_code'))
        value = error.get('value')
        if not _meaningful(error.get('message')) and isinstance(value, str | int | float) \
                and not isinstance(value, bool) and str(value):
            problem = self.env._("%(problem)s (value sent: %(value)s)",
                                 problem=problem or self.env._("refused"), value=value)
        if field and problem:
            return self.env._("%(field)s: %(problem)s", field=field, problem=problem)
        return problem or (field and self.env._("%s: refused", field)) or ''

    def _code_text(self, error_code):
        """A readable phrase for one of Alma's documented `error_code` values."""
        if not error_code:
            return ''
        texts = {
            'missing_field': self.env._("is required"),
            'invalid_type': self.env._("has the wrong type"),
            'invalid_value': self.env._("is not a valid value"),
            'too_short': self.env._("is too short"),
            'too_long': self.env._("is too long"),
            'unique_violated': self.env._("is already used"),
            'incompatible_parameters': self.env._("does not go with the other values sent"),
            'validation_error': self.env._("the data sent is not valid"),
            'invalid_state': self.env._("the payment is not in a state that allows this"),
            'not_found': self.env._("not found"),
            'generic_error': self.env._("refused (no detail given by Alma)"),
        }
        return texts.get(error_code) or self.env._("refused (Alma's code: %s)", error_code)

    def _status_text(self, status):
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ''
        return self.env._("HTTP error %(status)s %(phrase)s", status=status, phrase=phrase).strip()


def _meaningful(text):
    """The text, unless it says nothing ('', 'error', 'Error')."""
    if not isinstance(text, str):
        return ''
    text = text.strip()
    return '' if text.lower() in ('', 'error', 'errors', 'none', 'null') else text


def _retry_after_seconds(header):
    """Seconds to wait from an HTTP `Retry-After` (seconds or a date), or None."""
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        return int(header)
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0, round((when - datetime.now(timezone.utc)).total_seconds()))
