"""The Alma REST API under /v1 and /v2.

Order of work for each request: it is appended to `State.requests` on arrival (before any fail
switch and before authentication, so every call the client made is counted), then a matching
fail switch answers instead, then the key is checked (401), then the route runs under the lock.
"""

import json
import logging
import random
import socket
import time
from dataclasses import dataclass

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import exports, payments, plans, validation
from .errors import (
    UNAUTHORIZED,
    ApiError,
    invalid_field,
    invalid_state,
    json_response,
    not_found,
    simulated_failure,
    validation_error,
)
from .french import short_euros
from .state import DataExport, FailRule, Merchant, PaymentMeta, State, now

AUTH_SCHEME = "Alma-Auth "
_logger = logging.getLogger(__name__)


@dataclass
class ApiCall:
    """One authenticated API request and what its handler needs."""

    request: Request
    state: State
    merchant: Merchant
    api_key: str
    base_url: str

    def body(self) -> dict:
        """The JSON object sent; an empty body counts as `{}`."""
        raw = self.request.get_data()
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise invalid_field("body", "invalid_type", None, "The body is not JSON") from None
        if not isinstance(body, dict):
            raise invalid_field("body", "invalid_type", body, "The body must be a JSON object")
        return body

    def payment(self, payment_id: str) -> dict:
        """The payment, if it belongs to the caller's merchant: another merchant gets a 404."""
        meta = self.state.meta.get(payment_id)
        if meta is None or meta.merchant_id != self.merchant.id:
            raise not_found("Payment not found")
        payments.note_expiry(self.state.payments[payment_id], meta, now())
        return self.state.payments[payment_id]


def handle(state: State, base_url: str, request: Request, face: str = "sandbox") -> Response:
    """One API request on one face: `sandbox` (the root) or `live` (under /live)."""
    with state.lock:
        state.requests.append((request.method, request.script_root + request.path))
    delay = answer_delay(state.settings.latency, state.settings.latency_jitter)
    if delay:
        time.sleep(delay)
    rule = state.take_failure(request.method, request.path)
    if rule is not None:
        failure = simulate(state, rule, request)
        if failure is not None:
            return failure
    try:
        call = authenticate(state, base_url, request, face)
        handler, arguments = ROUTES.bind_to_environ(request.environ).match()
        with state.lock:
            answer = handler(call, **arguments)
    except ApiError as error:
        return error.response()
    except NotFound:
        return json_response({"error_code": "not_found", "message": "Not found"}, 404)
    except MethodNotAllowed:
        return json_response({"message": "Method not allowed"}, 405)
    except Exception:
        # A bug of the stand-in: still answer JSON, as the client expects from Alma.
        _logger.exception("Alma stand-in failed on %s %s", request.method, request.path)
        return json_response({"message": "Internal server error"}, 500)
    return answer if isinstance(answer, Response) else json_response(answer)


def answer_delay(latency: float, jitter: float) -> float:
    """Seconds an answer waits: `latency` ± up to `jitter`, uniformly, never below 0."""
    if not jitter:
        return latency
    return max(0.0, latency + random.uniform(-jitter, jitter))


def simulate(state: State, rule: FailRule, request: Request) -> Response | None:
    """The answer of a fail switch, or None when the request must then run normally."""
    if rule.status == "disconnect":
        drop_connection(request)
    if rule.status == "timeout":
        generation = state.generation
        time.sleep(state.settings.timeout_seconds)
        if state.generation != generation:
            drop_connection(request)  # reset while sleeping: this call belongs to a finished test
        return None
    return simulated_failure(rule.status, rule.retry_after, rule.body)


def drop_connection(request: Request) -> None:
    """Close the socket without answering (werkzeug's dev server exposes it in the environ)."""
    request.get_data()  # read the body first: unread data would turn the close into a reset
    request.environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
    # werkzeug treats a ConnectionError from the app as a dropped connection and stays quiet.
    raise ConnectionAbortedError("simulated disconnect")


def authenticate(state: State, base_url: str, request: Request, face: str) -> ApiCall:
    """`Authorization: Alma-Auth <key>`; an unknown key, or a key of the other host, gets 401.

    Source: alma/alma-python-client alma_client/credentials/api_key.py (the header);
    docs.almapay.com/docs/custom-integration-technical-guide ("Authentification des appels API":
    401 `{"message": "Credentials invalid or not supplied"}`).
    """
    header = request.headers.get("Authorization", "")
    api_key = header[len(AUTH_SCHEME) :].strip() if header.startswith(AUTH_SCHEME) else None
    merchant = state.merchant_for_key(api_key, face)
    if merchant is None:
        raise UNAUTHORIZED
    return ApiCall(request, state, merchant, api_key, base_url)


# --- merchant and plans -------------------------------------------------------------------


def get_me(call: ApiCall):
    """`GET /v1/me`: the merchant of the key (`id`, `name`, `can_create_payments`).

    Source: alma/alma-python-client alma_client/endpoints/merchants.py (ME_PATH);
    alma/alma-woocommerce-gateway includes/Application/Entity/Form/KeyConfiguration.php (the
    merchant id read to validate each key).
    """
    return call.merchant.as_json()


def get_fee_plans(call: ApiCall):
    """`only=all` includes the plans that are not allowed; `deferred=false` drops deferred ones.

    Source: alma/alma-php-client src/Endpoints/Merchants.php (`feePlans`: kind general|pos,
    only, deferred as the strings "true"/"false"), src/Entities/FeePlan.php (the fields).
    """
    args = call.request.args
    kind = args.get("kind", "general")
    if kind not in plans.PLAN_KINDS:
        raise invalid_field("kind", "invalid_value", kind, "kind must be general or pos")
    deferred = args.get("deferred")
    if deferred not in (None, "true", "false"):
        raise invalid_field("deferred", "invalid_value", deferred, "deferred must be true or false")
    return [
        plans.as_fee_plan(plan, kind)
        for plan in call.state.plans
        if (plan["allowed"] or args.get("only") == "all")
        and not (deferred == "false" and plans.is_deferred(plan))
    ]


def post_eligibility(call: ApiCall):
    """`POST /v2/payments/eligibility`: one result per plan of the account that was asked about.

    Alma's own clients never rely on the order of the results: they key each result by its plan
    (kind, installments count, deferred days, deferred months). So the stand-in answers in its
    own order (by installments, then deferral), not in the order of the queries, and gives no
    result for a plan the account does not have: a client matching by position fails here.
    Source: alma/alma-php-client src/Endpoints/Payments.php (`eligibility`: results keyed by
    `getPlanKey()`), src/Entities/PaymentPlanTrait.php (`getPlanKey`), tests/Integration/
    Endpoints/PaymentsTest.php (a query for 3 installments is read back as `general_3_0_0`);
    alma/alma-woocommerce-gateway includes/Infrastructure/Repository/FeePlanRepository.php
    (`setInstallmentPlanList` matches by plan key). The order and the missing result are the
    stand-in's choice where Alma is silent.
    """
    body = call.body()
    amount, queries, covers = validation.check_eligibility_request(body)
    origin = body.get("origin")
    validation.check_origin("origin", origin)
    today = plans.utc_day(now())
    if queries is not None:
        known = [q for q in dict.fromkeys(queries) if plans.find_plan(call.state.plans, *q)]
        return [
            plans.eligibility(call.state.plans, amount, query, origin, today, covers)
            for query in sorted(known)
        ]
    # Discovery: every plan this amount can use, nothing about the others.
    results = [
        plans.eligibility(call.state.plans, amount, plans.terms(plan), origin, today, covers)
        for plan in call.state.plans
    ]
    return [result for result in results if result["eligible"]]


# --- payments -----------------------------------------------------------------------------


def post_payment(call: ApiCall):
    """`POST /v1/payments` `{payment, customer, order}` answers the payment; a merchant that
    cannot create payments gets 400 `merchant_cant_create_payments`.

    Source: alma/alma-php-client README.md ("create a payment"), src/Endpoints/Payments.php
    (`create`); alma/alma-python-client README.md. The error code: alma-api.md ("Errors");
    not seen in a client's source.
    """
    if not call.merchant.can_create_payments:
        message = "This merchant cannot create payments"
        raise ApiError(
            400,
            {
                "error_code": "merchant_cant_create_payments",
                "message": message,
                "errors": [
                    {
                        "field": "merchant",
                        "error_code": "merchant_cant_create_payments",
                        "value": call.merchant.as_json()["id"],
                        "message": message,
                    }
                ],
            },
        )
    body = call.body()
    errors, plan = validation.check_payment_request(body, call.state.plans)
    if errors:
        raise validation_error(errors)
    created = now()
    payment = payments.build_payment(body, plan, call.base_url, created)
    fee = plans.merchant_fee_of(
        plan, payment["purchase_amount"], payment["merchant_covers_all_fees"])
    # With `merchant_covers_all_fees` the fee includes the customer's (plans.merchant_fee_of).
    # Source: alma/alma-php-client (feature/3.0) tests/Unit/Infrastructure/Endpoint/Entity/
    # PaymentTest.php: `fees.merchant {total, total_excluding_tax, tax}` on the payment, and
    # `merchant_target_fee` equal to `fees.merchant.total` (VAT included).
    payment.update(payments.merchant_fees(fee))
    call.state.add_payment(payment, PaymentMeta(
        call.merchant.id, call.api_key, fee, deadline=payments.deadline(body, created)))
    return payment


def get_payment(call: ApiCall, payment_id: str):
    """Source: alma/alma-php-client src/Endpoints/Payments.php (`fetch`), tests/Integration/
    Endpoints/PaymentsTest.php (`testCanFetchAPayment`)."""
    return call.payment(payment_id)


def list_payments(call: ApiCall):
    """Newest first; `starting_after` is the id of the last payment of the previous page.

    Source: alma/alma-python-client alma_client/endpoints/payments.py (`fetch_all`: limit,
    state=a,b, starting_after) and alma_client/paginated_results.py (`data`, `has_more`). The
    order and the largest `limit` are the stand-in's choice (not published).
    """
    args = call.request.args
    limit = _limit(args.get("limit", "20"))
    states = {state for state in args.get("state", "").split(",") if state}
    mine = [
        payment
        for payment_id, payment in reversed(call.state.payments.items())
        if call.state.meta[payment_id].merchant_id == call.merchant.id
    ]
    after = args.get("starting_after")
    if after:
        ids = [payment["id"] for payment in mine]
        if after not in ids:
            raise invalid_field("starting_after", "invalid_value", after, "Unknown payment id")
        mine = mine[ids.index(after) + 1 :]
    if states:
        mine = [payment for payment in mine if payment["state"] in states]
    for payment in mine[:limit]:
        payments.note_expiry(payment, call.state.meta[payment["id"]], now())
    return {"data": mine[:limit], "has_more": len(mine) > limit}


def _limit(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise invalid_field("limit", "invalid_value", raw, "limit must be between 1 and 100")
    return int(raw)


def put_cancel(call: ApiCall, payment_id: str):
    """Source: alma/alma-php-client src/Endpoints/Payments.php (`cancel`: PUT …/cancel). The
    400 once charged is the stand-in's reading of alma-api.md; not confirmed."""
    payment = call.payment(payment_id)
    if payments.is_charged(payment):
        raise invalid_state("Payment cannot be cancelled once the first installment is paid")
    payments.cancel(payment, call.state.meta[payment_id], now())
    return payment


def post_send_sms(call: ApiCall, payment_id: str):
    """Source: alma/alma-python-client alma_client/endpoints/payments.py (`send_sms`: "Will
    raise RequestError if the SMS API is not activated on your account"); the 403 status and
    the text of the SMS are the stand-in's choice."""
    payment = call.payment(payment_id)
    if not call.state.settings.sms_enabled:
        raise ApiError(
            403,
            {
                "error_code": "feature_not_enabled",
                "message": "SMS sending is not enabled for this merchant",
            },
        )
    amount = short_euros(payment["purchase_amount"])
    text = f"Finalisez votre achat de {amount} chez {call.merchant.name} : {payment['url']}"
    call.state.sms_outbox.append(
        {
            "payment_id": payment_id,
            "phone": payment["customer"].get("phone"),
            "text": text,
            "url": payment["url"],
            "sent_at": now(),
        }
    )
    return {}


def post_potential_fraud(call: ApiCall, payment_id: str):
    """Source: alma/alma-python-client alma_client/endpoints/payments.py
    (`flag_as_potential_fraud`); alma/alma-php-client src/Endpoints/Payments.php
    (`flagAsPotentialFraud`), branch feature/3.0 src/Domain/Entity/Payment.php (FRAUD_STATE_ERROR,
    amount_mismatch)."""
    payment = call.payment(payment_id)
    reason = validation.check_fraud_reason(call.body())
    payment["potential_fraud"].append({"reason": reason, "created": now()})
    return {}


# --- refunds ------------------------------------------------------------------------------


def post_refund(call: ApiCall, payment_id: str):
    """Alma's own clients: `POST …/refund` answers the payment (no `/refunds` endpoint exists
    in any Alma source). Source: alma/alma-php-client src/Endpoints/Payments.php (`refund`),
    alma/alma-python-client alma_client/endpoints/payments.py (`refund`)."""
    return refund(call, payment_id)


def refund(call: ApiCall, payment_id: str) -> dict:
    payment = call.payment(payment_id)
    body = call.body()
    if not payments.is_charged(payment):
        # Source: alma/alma-php-client (branch feature/3.0) tests/Integration/Infrastructure/
        # Endpoint/PaymentEndpointTest.php, run on Alma's sandbox: refunding an unpaid payment
        # answers a validation_error whose first error's value is the payment's state.
        raise invalid_field("state", "invalid_value", payment["state"],
                            "Only a payment whose first installment is paid can be refunded")
    amount = validation.check_refund_request(body, payments.refundable(payment))
    payments.add_refund(payment, amount, body.get("merchant_reference"), now())
    return payment


# --- accounting exports -------------------------------------------------------------------


def post_data_export(call: ApiCall):
    """Source: alma/alma-python-client alma_client/endpoints/exports.py (`create`, `get_file`
    with `format`); alma/alma-php-client src/Endpoints/DataExports.php. The CSV's columns:
    exports.py."""
    kind, start, end = validation.check_export_request(call.body())
    export = DataExport(payments.new_id("export_"), call.merchant.id, kind, start, end, now())
    call.state.exports[export.id] = export
    return export.as_json()


def get_data_export(call: ApiCall, export_id: str):
    """Completes on its first read; every type gives the same accounting CSV."""
    export = call.state.exports.get(export_id)
    if export is None or export.merchant_id != call.merchant.id:
        raise not_found("Export not found")
    export.complete = True
    file_format = call.request.args.get("format")
    if file_format is None:
        return export.as_json()
    if file_format != "csv":
        raise invalid_field("format", "invalid_value", file_format, "The stand-in only exports CSV")
    return Response(
        exports.accounting_csv(call.state, export),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{export.id}.csv"'},
    )


ROUTES = Map(
    [
        Rule("/v1/me", methods=["GET"], endpoint=get_me),
        Rule("/v1/me/fee-plans", methods=["GET"], endpoint=get_fee_plans),
        Rule("/v2/payments/eligibility", methods=["POST"], endpoint=post_eligibility),
        Rule("/v1/payments", methods=["POST"], endpoint=post_payment),
        Rule("/v1/payments", methods=["GET"], endpoint=list_payments),
        Rule("/v1/payments/<payment_id>", methods=["GET"], endpoint=get_payment),
        Rule("/v1/payments/<payment_id>/cancel", methods=["PUT"], endpoint=put_cancel),
        Rule("/v1/payments/<payment_id>/send-sms", methods=["POST"], endpoint=post_send_sms),
        Rule("/v1/payments/<payment_id>/refund", methods=["POST"], endpoint=post_refund),
        Rule(
            "/v1/payments/<payment_id>/potential-fraud",
            methods=["POST"],
            endpoint=post_potential_fraud,
        ),
        Rule("/v1/data-exports", methods=["POST"], endpoint=post_data_export),
        Rule("/v1/data-exports/<export_id>", methods=["GET"], endpoint=get_data_export),
    ],
    strict_slashes=False,
)
