"""Everything outside the API: the customer page, the home page, the SMS outbox, admin routes."""

import json
from dataclasses import asdict

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import html, ipn, payments, plans
from .errors import json_response
from .state import API_KEYS, MERCHANTS, FailRule, State, now

# Test cards: True is accepted, False is refused by the "bank"; any other number is unknown.
# Alma's real payment page (behind the payment's `url`: alma/alma-php-client README.md,
# "redirecting a customer to the payment page") is Alma's own; this page, its cards and its
# states (`in_progress` once the first installment is paid, `scored_no` when refused) only
# imitate it. States: alma/alma-php-client src/Entities/Payment.php (STATE_IN_PROGRESS, …).
TEST_CARDS = {"4242424242424242": True, "4000000000000002": False}
UNKNOWN_CARD = "Carte de test inconnue"


def handle(state: State, request: Request) -> Response:
    try:
        endpoint, arguments = ROUTES.bind_to_environ(request.environ).match()
    except NotFound:
        return html_response(html.not_found_page(), 404)
    except MethodNotAllowed:
        return Response("Method not allowed", 405)
    return endpoint(state, request, **arguments)


def html_response(page: str, status: int = 200) -> Response:
    return Response(page, status, mimetype="text/html")


# --- the customer side --------------------------------------------------------------------


def show_payment(state: State, request: Request, payment_id: str) -> Response:
    with state.lock:
        if payment_id not in state.payments:
            return html_response(html.not_found_page(), 404)
        return html_response(payment_page(state, payment_id))


def submit_card(state: State, request: Request, payment_id: str) -> Response:
    card = "".join(request.form.get("card_number", "").split())
    with state.lock:
        if payment_id not in state.payments:
            return html_response(html.not_found_page(), 404)
        payment = state.payments[payment_id]
        status = payments.customer_status(payment, state.meta[payment_id], now())
        if status != "payable":
            return html_response(payment_page(state, payment_id))  # too late: nothing changes
        accepted = TEST_CARDS.get(card)
        if accepted is None:
            return html_response(payment_page(state, payment_id, error=UNKNOWN_CARD))
        if accepted:
            payments.accept(payment, now())
        else:
            payments.refuse(payment)
        status = "accepted" if accepted else "refused"
        page = html.result_page(
            state.merchant_of(payment_id).name, accepted, return_target(payment, status)
        )
    # Alma notifies every state change, refusals included.
    ipn.notify(state, payment_id)
    return html_response(page)


def payment_page(state: State, payment_id: str, error: str | None = None) -> str:
    payment = state.payments[payment_id]
    status = payments.customer_status(payment, state.meta[payment_id], now())
    return html.payment_page(
        payment,
        state.merchant_of(payment_id).name,
        status,
        plans.utc_day(now()),
        error=error,
        return_url=return_target(payment, status),
        cancel_url=give_up_target(payment),
    )


def return_target(payment: dict, status: str) -> str | None:
    """Where the customer goes back to, with `?pid=` appended as Alma does."""
    if status == "accepted":
        candidates = ("return_url",)
    elif status == "refused":
        candidates = ("failure_return_url", "return_url")
    elif status in ("cancelled", "expired"):
        candidates = ("customer_cancel_url", "failure_return_url", "return_url")
    else:
        return None
    url = next((payment[name] for name in candidates if payment.get(name)), None)
    return ipn.with_pid(url, payment["id"]) if url else None


def give_up_target(payment: dict) -> str | None:
    """Where a customer who gives up on the page goes: `customer_cancel_url`. Alma's own
    plugins send the customer back to the checkout with it (WooCommerce plugin:
    `'customer_cancel_url' => wc_get_checkout_url()`; Magento 2 plugin: a "customer cancel"
    controller). Nothing in Alma's sources says that leaving cancels the payment: it stays as
    it was, and its link keeps working until it expires."""
    url = payment.get("customer_cancel_url")
    return ipn.with_pid(url, payment["id"]) if url else None


# --- pages for people running the demo ----------------------------------------------------


def home(state: State, request: Request) -> Response:
    with state.lock:
        rows = [
            {
                "payment": payment,
                "merchant_name": state.merchant_of(payment_id).name,
                "status": payments.customer_status(payment, state.meta[payment_id], now()),
            }
            for payment_id, payment in reversed(state.payments.items())
        ]
    keys = {key: MERCHANTS[merchant_id].name for key, merchant_id in API_KEYS.items()}
    return html_response(html.home_page(rows, keys))


def sms_outbox(state: State, request: Request) -> Response:
    """Newest first, as HTML or (`?format=json`) as JSON."""
    with state.lock:
        messages = list(reversed(state.sms_outbox))
    if request.args.get("format") == "json":
        return json_response(messages)
    return html_response(html.sms_page(messages))


# --- admin routes (demo and browser tests) ------------------------------------------------


def admin_reset(state: State, request: Request) -> Response:
    state.reset()
    return json_response({"reset": True})


def admin_config(state: State, request: Request) -> Response:
    """Same keys as `StandIn.configure()`, plus `fail: {status, method, path_prefix, times}`."""
    try:
        changes = json.loads(request.get_data() or b"{}")
        if not isinstance(changes, dict):
            raise ValueError("the body must be a JSON object")
        failure = changes.pop("fail", None)
        rule = FailRule(**failure) if failure is not None else None
        state.configure(**changes)
    except (TypeError, ValueError) as error:
        return json_response({"message": str(error)}, 400)
    if rule is not None:
        state.add_failure(rule)
    return json_response(asdict(state.settings))


def admin_expire(state: State, request: Request, payment_id: str) -> Response:
    try:
        return json_response(state.expire(payment_id))
    except KeyError:
        return json_response({"error_code": "not_found", "message": "Payment not found"}, 404)


ROUTES = Map(
    [
        Rule("/", methods=["GET"], endpoint=home),
        Rule("/pay/<payment_id>", methods=["GET"], endpoint=show_payment),
        Rule("/pay/<payment_id>", methods=["POST"], endpoint=submit_card),
        Rule("/_standin/sms", methods=["GET"], endpoint=sms_outbox),
        Rule("/_standin/reset", methods=["POST"], endpoint=admin_reset),
        Rule("/_standin/config", methods=["POST"], endpoint=admin_config),
        Rule("/_standin/payments/<payment_id>/expire", methods=["POST"], endpoint=admin_expire),
    ],
    strict_slashes=False,
)
