"""The stand-in over HTTP, as the add-on sees it."""

import csv
import hashlib
import hmac
import io
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from alma_standin import StandIn
from alma_standin.api import answer_delay
from alma_standin.plans import add_months, noon_utc, utc_day

KEY = "sk_test_standin"
OTHER_KEY = "sk_test_other"
ACCEPTED_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000000000000002"


@pytest.fixture(scope="module")
def standin():
    server = StandIn(port=0).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh(standin):
    standin.reset()


@pytest.fixture
def http():
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment for localhost
    yield session
    session.close()


@pytest.fixture
def call(standin, http):
    """`call("POST", "/v1/payments", json=...)` with the clinic's test key unless `key=` says."""

    def send(method, path, key=KEY, timeout=5, **kwargs):
        headers = {"Authorization": f"Alma-Auth {key}"} if key else {}
        # Live keys go to the live face, as Alma's clients pick the host from the key.
        base = standin.live_url if (key or "").startswith("sk_live_") else standin.url
        return http.request(method, base + path, headers=headers, timeout=timeout, **kwargs)

    return send


class IpnReceiver:
    """A tiny merchant endpoint: records each IPN, answers `statuses` in turn, then 200."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.calls = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                receiver.calls.append((self.path, self.headers.get("X-Alma-Signature")))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/alma/ipn"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    ipn_receiver = IpnReceiver()
    yield ipn_receiver
    ipn_receiver.stop()


def wait_for(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def payment_body(**payment_fields):
    payment = {
        "purchase_amount": 39900,
        "installments_count": 3,
        "return_url": "http://merchant.test/alma/return",
        "custom_data": {"order": 7},
        **payment_fields,
    }
    return {
        "payment": payment,
        "customer": {
            "first_name": "Marie",
            "last_name": "Curie",
            "email": "marie@example.fr",
            "phone": "+33612345678",
            "addresses": [{"line1": "1 rue des Lilas", "postal_code": "75020", "city": "Paris"}],
        },
        "order": {"merchant_reference": "S00042"},
    }


@pytest.fixture
def create(call):
    def create_payment(key=KEY, **payment_fields):
        answer = call("POST", "/v1/payments", key=key, json=payment_body(**payment_fields))
        assert answer.status_code == 200, answer.text
        return answer.json()

    return create_payment


def eligibility(call, amount, *queries):
    body = {"purchase_amount": amount}
    if queries:
        body["queries"] = [
            {"installments_count": count, "deferred_days": days, "deferred_months": 0}
            for count, days in queries
        ]
    answer = call("POST", "/v2/payments/eligibility", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


# --- authentication, merchant, plans --------------------------------------------------------


@pytest.mark.parametrize("key", [None, "sk_test_unknown"])
def test_without_a_valid_key_the_api_answers_401(standin, call, key):
    answer = call("GET", "/v1/me", key=key)
    assert answer.status_code == 401
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json() == {"message": "Credentials invalid or not supplied"}
    assert standin.requests == [("GET", "/v1/me")]


def test_me_shows_the_merchant_of_the_key(call):
    test = call("GET", "/v1/me").json()
    live = call("GET", "/v1/me", key="sk_live_standin").json()
    other = call("GET", "/v1/me", key=OTHER_KEY).json()
    # Both keys of one account: the same id (Alma's WooCommerce plugin requires it).
    assert test["name"] == live["name"]
    assert live["id"] == "merchant_11standinclinic"
    assert test["id"] == "merchant_11standinclinic"
    assert test["name"] == "Clinique des Lilas (Alma stand-in)"
    assert test["can_create_payments"] is True
    assert other["id"] == "merchant_11otherstandin"
    assert call("GET", "/v1/me", key="sk_test_nopayments").json()["can_create_payments"] is False


def test_fee_plans_per_kind_and_deferred_filter(standin, call):
    pos = call("GET", "/v1/me/fee-plans?kind=pos&only=all&deferred=true").json()
    assert [(p["installments_count"], p["deferred_days"]) for p in pos] == [
        (1, 15),
        (1, 30),
        (1, 45),
        (2, 0),
        (3, 0),
        (4, 0),
    ]
    assert {p["kind"] for p in pos} == {"pos"}
    four = pos[-1]
    assert four["merchant_fee_variable"] == 330
    assert four["customer_fee_variable"] == 145
    assert (four["min_purchase_amount"], four["max_purchase_amount"]) == (5000, 200000)
    assert four["allowed"] and four["available_in_pos"]
    for field in ("deferred_trigger_limit_days", "capped", "first_installment_ratio", "id"):
        assert field in four

    general = call("GET", "/v1/me/fee-plans?kind=general&only=all&deferred=false").json()
    assert [p["installments_count"] for p in general] == [2, 3, 4]
    assert {p["kind"] for p in general} == {"general"}
    assert len(call("GET", "/v1/me/fee-plans?kind=general&only=all").json()) == 6

    standin.update_plan(installments_count=4, allowed=False)
    assert len(call("GET", "/v1/me/fee-plans?kind=general&only=all").json()) == 6
    assert len(call("GET", "/v1/me/fee-plans?kind=general").json()) == 5


# --- eligibility and schedules ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "eligible"), [(4999, False), (5000, True), (200000, True), (200001, False)]
)
def test_eligibility_limits_are_inclusive(call, amount, eligible):
    [result] = eligibility(call, amount, (3, 0))
    assert result["eligible"] is eligible
    assert result["installments_count"] == 3
    if not eligible:
        assert result["reasons"] == {"purchase_amount": "invalid_value"}
        assert result["constraints"] == {"purchase_amount": {"minimum": 5000, "maximum": 200000}}
        assert "payment_plan" not in result


def test_eligibility_follows_plan_changes(standin, call):
    standin.set_plan_limits(10000, 300000)
    standin.update_plan(installments_count=4, allowed=False)
    below, disabled = eligibility(call, 9999, (3, 0), (4, 0), (10, 0))  # no 10x plan: no result
    assert below["constraints"] == {"purchase_amount": {"minimum": 10000, "maximum": 300000}}
    assert disabled["eligible"] is False
    assert disabled["reasons"] == {"installments_count": "not_allowed"}
    assert "constraints" not in disabled
    assert eligibility(call, 250000, (3, 0))[0]["eligible"] is True


def test_discovery_lists_only_the_eligible_plans(standin, call):
    assert eligibility(call, 4000) == []
    found = eligibility(call, 10000)
    assert [(r["installments_count"], r["deferred_days"]) for r in found] == [
        (1, 15),
        (1, 30),
        (1, 45),
        (2, 0),
        (3, 0),
        (4, 0),
    ]
    standin.update_plan(installments_count=1, deferred_days=30, allowed=False)
    assert len(eligibility(call, 10000)) == 5


def test_three_installments_put_the_remainder_on_the_first(call):
    [result] = eligibility(call, 10000, (3, 0))
    assert [i["purchase_amount"] for i in result["payment_plan"]] == [3334, 3333, 3333]
    today = utc_day(time.time())
    assert [i["due_date"] for i in result["payment_plan"]] == [
        noon_utc(add_months(today, months)) for months in range(3)
    ]
    [result] = eligibility(call, 39900, (3, 0))
    assert [i["total_amount"] for i in result["payment_plan"]] == [13300, 13300, 13300]
    assert result["customer_fee"] == 0
    assert result["annual_interest_rate"] == 0


def test_four_installments_carry_the_customer_fee_on_the_first(call):
    [result] = eligibility(call, 39900, (4, 0))
    fee = 579  # 1.45 % of 39900 = 578.55, rounded half up
    assert result["customer_fee"] == fee
    assert result["customer_total_cost_amount"] == fee
    assert result["customer_total_cost_bps"] == 145
    first, *others = result["payment_plan"]
    assert (first["purchase_amount"], first["customer_fee"], first["total_amount"]) == (
        9975,
        fee,
        9975 + fee,
    )
    assert all(i["customer_fee"] == 0 and i["total_amount"] == 9975 for i in others)


def test_deferred_plan_has_one_installment_after_the_delay(call):
    [result] = eligibility(call, 12000, (1, 30))
    [installment] = result["payment_plan"]
    assert installment["due_date"] == noon_utc(utc_day(time.time()) + timedelta(days=30))
    assert installment["total_amount"] == 12000


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "missing_field"),
        ({"purchase_amount": "100"}, "invalid_type"),
        ({"purchase_amount": 0}, "invalid_value"),
    ],
)
def test_eligibility_rejects_a_bad_amount(call, body, code):
    answer = call("POST", "/v2/payments/eligibility", json=body)
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "validation_error"
    [error] = answer.json()["errors"]
    assert (error["field"], error["error_code"]) == ("purchase_amount", code)
    assert "message" in error and "value" in error


def test_eligibility_takes_the_customers_country_as_the_widgets_send_it(call):
    """alma/widgets fetch-eligibility.ts: `billing_address: {country}`, `shipping_address`."""
    query = {"purchase_amount": 39900, "queries": [{"installments_count": 3}]}
    answer = call("POST", "/v2/payments/eligibility", json={
        **query, "billing_address": {"country": "BE"}, "shipping_address": {"country": "FR"}})
    assert answer.status_code == 200
    assert answer.json()[0]["eligible"] is True
    wrong = call("POST", "/v2/payments/eligibility", json={
        **query, "billing_address": {"country": "Belgique"}})
    assert wrong.status_code == 400
    [error] = wrong.json()["errors"]
    assert (error["field"], error["error_code"]) == ("billing_address.country", "invalid_value")


# --- creating and reading payments ----------------------------------------------------------


def _drop(section, name):
    def change(body):
        del body[section][name]

    return change


def _set(section, name, value):
    def change(body):
        body[section][name] = value

    return change


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        (_drop("payment", "purchase_amount"), "payment.purchase_amount", "missing_field"),
        (_set("payment", "purchase_amount", "399"), "payment.purchase_amount", "invalid_type"),
        (_set("payment", "purchase_amount", -5), "payment.purchase_amount", "invalid_value"),
        (_set("payment", "purchase_amount", 4999), "payment.purchase_amount", "invalid_value"),
        (_set("payment", "purchase_amount", 200001), "payment.purchase_amount", "invalid_value"),
        (_set("payment", "installments_count", 12), "payment.installments_count", "invalid_value"),
        (_set("payment", "deferred_days", 20), "payment.installments_count", "invalid_value"),
        (_set("customer", "email", "marie@example"), "customer.email", "invalid_value"),
        (_set("customer", "email", "marie@@example.fr"), "customer.email", "invalid_value"),
        (_set("customer", "phone", "612345678"), "customer.phone", "invalid_value"),
        (_drop("customer", "first_name"), "customer.first_name", "missing_field"),
        (_set("customer", "last_name", " "), "customer.last_name", "missing_field"),
        (
            _set("payment", "ipn_callback_url", "ftp://x"),
            "payment.ipn_callback_url",
            "invalid_value",
        ),
    ],
)
def test_create_payment_validates_field_by_field(standin, call, change, field, code):
    body = payment_body()
    change(body)
    answer = call("POST", "/v1/payments", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error_code"] == "validation_error"
    assert [(e["field"], e["error_code"]) for e in answer.json()["errors"]] == [(field, code)]
    assert standin.payments == {}


def test_a_billing_address_is_enough(create, call):
    body = payment_body(billing_address={"city": "Lyon", "country": "FR"})
    body["customer"]["addresses"] = []
    assert call("POST", "/v1/payments", json=body).status_code == 200


def test_a_disallowed_plan_cannot_be_used(standin, call):
    standin.update_plan(installments_count=3, allowed=False)
    answer = call("POST", "/v1/payments", json=payment_body())
    assert answer.json()["errors"][0]["field"] == "payment.installments_count"


def test_merchant_without_payments_cannot_create_one(call):
    answer = call("POST", "/v1/payments", key="sk_test_nopayments", json=payment_body())
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "merchant_cant_create_payments"


def test_created_payment_is_complete(standin, create, call):
    before = int(time.time())
    payment = create(expires_after=60, origin="pos_sms")
    assert payment["id"].startswith("payment_") and len(payment["id"]) == len("payment_") + 24
    assert payment["url"] == f"{standin.url}/pay/{payment['id']}"
    assert payment["state"] == "not_started"
    assert payment["kind"] == "P3X"
    assert payment["origin"] == "pos_sms"
    assert payment["purchase_amount"] == 39900
    assert payment["expired_at"] is None  # Until the link has expired.
    assert standin._state.meta[payment["id"]].deadline - payment["created"] == 3600
    assert payment["created"] >= before
    assert payment["orders"][0]["merchant_reference"] == "S00042"
    assert payment["custom_data"] == {"order": 7}
    assert payment["amount_already_refunded"] == 0 and payment["refunds"] == []
    assert [i["state"] for i in payment["payment_plan"]] == ["pending"] * 3
    assert all(i["date_paid"] is None for i in payment["payment_plan"])
    assert call("GET", f"/v1/payments/{payment['id']}").json() == payment
    assert standin.payments[payment["id"]] == payment
    deferred = create(installments_count=1, deferred_days=30)
    assert deferred["kind"] == "P1X_D+30"
    assert standin._state.meta[deferred["id"]].deadline - deferred["created"] == 7 * 24 * 3600


def test_list_pages_newest_first(create, call, standin):
    ids = [create(purchase_amount=10000 + n)["id"] for n in range(5)]
    create(key=OTHER_KEY)
    first = call("GET", "/v1/payments?limit=2").json()
    assert [p["id"] for p in first["data"]] == [ids[4], ids[3]]
    assert first["has_more"] is True
    second = call("GET", f"/v1/payments?limit=2&starting_after={ids[3]}").json()
    assert [p["id"] for p in second["data"]] == [ids[2], ids[1]]
    last = call("GET", f"/v1/payments?limit=2&starting_after={ids[1]}").json()
    assert [p["id"] for p in last["data"]] == [ids[0]]
    assert last["has_more"] is False
    standin.pay(ids[2])
    paid = call("GET", "/v1/payments?state=in_progress,paid").json()["data"]
    assert [p["id"] for p in paid] == [ids[2]]


def test_another_merchant_gets_404(create, call):
    payment = create()
    answer = call("GET", f"/v1/payments/{payment['id']}", key=OTHER_KEY)
    assert answer.status_code == 404
    assert answer.json() == {"error_code": "not_found", "message": "Payment not found"}
    assert call("GET", "/v1/payments/payment_unknown").status_code == 404
    assert call("GET", f"/v1/payments/{payment['id']}").status_code == 200
    # The clinic's live account is another account: its payments are not the sandbox's.
    assert call("GET", f"/v1/payments/{payment['id']}", key="sk_live_standin").status_code == 404


# --- cancel, SMS ----------------------------------------------------------------------------


def test_cancel_before_the_first_charge_expires_the_link(standin, create, call, http):
    payment = create()
    answer = call("PUT", f"/v1/payments/{payment['id']}/cancel")
    assert answer.status_code == 200
    assert answer.json()["state"] == "not_started"
    assert answer.json()["expired_at"] <= time.time()
    page = http.get(payment["url"]).text
    assert 'id="payment_state"' in page and "annulé" in page
    assert 'id="payment_form"' not in page


def test_cancel_after_the_first_charge_is_refused(standin, create, call):
    payment = create()
    standin.pay(payment["id"])
    answer = call("PUT", f"/v1/payments/{payment['id']}/cancel")
    assert answer.status_code == 400
    assert answer.json() == {
        "error_code": "invalid_state",
        "message": "Payment cannot be cancelled once the first installment is paid",
    }


@pytest.mark.parametrize(
    ("amount", "text"), [(39900, "399 €"), (7500, "75 €"), (10050, "100,50 €")]
)
def test_send_sms_writes_to_the_outbox(standin, create, call, amount, text):
    payment = create(purchase_amount=amount)
    answer = call("POST", f"/v1/payments/{payment['id']}/send-sms")
    assert (answer.status_code, answer.json()) == (200, {})
    [sms] = standin.sms_outbox
    assert sms["payment_id"] == payment["id"]
    assert sms["phone"] == "+33612345678"
    assert sms["url"] == payment["url"]
    assert sms["text"] == (
        f"Finalisez votre achat de {text} chez Clinique des Lilas (Alma stand-in) : "
        f"{payment['url']}"
    )


def test_send_sms_is_403_when_the_feature_is_off(standin, create, call):
    standin.configure(sms_enabled=False)
    payment = create()
    answer = call("POST", f"/v1/payments/{payment['id']}/send-sms")
    assert answer.status_code == 403
    assert answer.json()["error_code"] == "feature_not_enabled"
    assert standin.sms_outbox == []
    # No Alma client or plugin calls a send-email endpoint: the stand-in has none.
    assert call("POST", f"/v1/payments/{payment['id']}/send-email").status_code == 404


def test_sms_outbox_page_links_to_the_payment(standin, create, call, http):
    first, second = create(), create()
    for payment in (first, second):
        call("POST", f"/v1/payments/{payment['id']}/send-sms")
    page = http.get(f"{standin.url}/_standin/sms").text
    assert f'class="sms_link" id="latest_sms_link" href="{second["url"]}"' in page
    assert page.index(second["url"]) < page.index(first["url"])
    as_json = http.get(f"{standin.url}/_standin/sms?format=json").json()
    assert [sms["payment_id"] for sms in as_json] == [second["id"], first["id"]]


# --- the customer pays --------------------------------------------------------------------


def test_customer_page_shows_the_schedule_and_the_form(create, http):
    payment = create()
    page = http.get(payment["url"]).text
    assert "Clinique des Lilas (Alma stand-in)" in page
    assert '<td>Aujourd\'hui</td><td class="amount">133,00 €</td>' in page
    assert 'id="schedule_total">399,00 €' in page
    for marker in ('id="customer_name">Marie Curie', 'name="card_number"', 'id="card_number"'):
        assert marker in page
    assert "4242 4242 4242 4242 : acceptée — 4000 0000 0000 0002 : refusée" in page
    assert '<button type="submit" id="pay" name="pay" value="1">Payer en 3 fois</button>' in page


def test_accepted_card_charges_the_first_installment_and_sends_a_signed_ipn(
    standin, create, receiver
):
    payment = create(ipn_callback_url=receiver.url + "?shop=1")
    paid = standin.pay(payment["id"], card=ACCEPTED_CARD)
    assert paid["state"] == "in_progress"
    first = paid["payment_plan"][0]
    assert first["state"] == "paid" and first["date_paid"] >= payment["created"]
    assert paid["payment_plan"][1]["state"] == "pending"
    wait_for(lambda: receiver.calls and standin.ipn_log)
    expected = hmac.new(KEY.encode(), payment["id"].encode(), hashlib.sha256).hexdigest()
    assert receiver.calls == [(f"/alma/ipn?shop=1&pid={payment['id']}", expected)]
    [log] = standin.ipn_log
    assert (log["payment_id"], log["status"], log["signature"]) == (payment["id"], 200, expected)


def test_ipn_is_retried_until_a_2xx(standin, create):
    standin.configure(ipn_retry_delay=0.05)
    receiver = IpnReceiver(statuses=[500, 503, 200])
    try:
        payment = create(ipn_callback_url=receiver.url)
        standin.pay(payment["id"])
        wait_for(lambda: len(standin.ipn_log) == 3)
        time.sleep(0.2)  # no fourth attempt after the 200
        assert [log["status"] for log in standin.ipn_log] == [500, 503, 200]
    finally:
        receiver.stop()


def test_declined_card_refuses_the_payment_and_notifies(standin, create, http, receiver):
    payment = create(
        ipn_callback_url=receiver.url, failure_return_url="http://merchant.test/alma/failed"
    )
    answer = http.post(payment["url"], data={"card_number": DECLINED_CARD, "pay": "1"})
    assert 'id="result_title" data-state="refused">Paiement refusé' in answer.text
    assert f'href="http://merchant.test/alma/failed?pid={payment["id"]}"' in answer.text
    refused = standin.payments[payment["id"]]
    assert refused["state"] == "scored_no"
    assert "state_reason" not in refused  # In no Alma source.
    assert refused["payment_plan"][0]["state"] == "pending"
    wait_for(lambda: receiver.calls)


def test_accepted_page_links_back_to_the_merchant(create, http):
    payment = create()
    answer = http.post(payment["url"], data={"card_number": ACCEPTED_CARD})
    assert 'data-state="accepted">Paiement accepté' in answer.text
    assert f'id="return_link" href="http://merchant.test/alma/return?pid={payment["id"]}"' in (
        answer.text
    )
    again = http.get(payment["url"]).text
    assert 'data-state="accepted"' in again and 'id="payment_form"' not in again


def test_a_customer_giving_up_goes_back_by_the_cancel_url(standin, create, http):
    payment = create(customer_cancel_url="http://merchant.test/alma/cancel")
    page = http.get(payment["url"]).text
    assert f'id="give_up_link" href="http://merchant.test/alma/cancel?pid={payment["id"]}"' in (
        page
    )
    assert standin.payments[payment["id"]]["state"] == "not_started", "leaving changes nothing"


def test_unknown_card_shows_an_error_and_changes_nothing(standin, create, http):
    payment = create()
    answer = http.post(payment["url"], data={"card_number": "1234"})
    assert 'id="card_error"' in answer.text and "Carte de test inconnue" in answer.text
    assert 'id="payment_form"' in answer.text
    assert standin.payments[payment["id"]]["state"] == "not_started"


def test_expired_link_refuses_payment(standin, create, http, call):
    payment = create()
    standin.expire(payment["id"])
    answer = http.post(payment["url"], data={"card_number": ACCEPTED_CARD})
    assert "Ce lien a expiré" in answer.text
    assert standin.payments[payment["id"]]["state"] == "not_started"
    assert call("GET", f"/v1/payments/{payment['id']}").json()["expired_at"] < time.time()


# --- after the sale -----------------------------------------------------------------------


def test_refunds_partial_full_and_over(standin, create, call):
    payment = create()
    pid = payment["id"]
    too_early = call("POST", f"/v1/payments/{pid}/refund", json={"merchant_reference": "R1"})
    assert too_early.status_code == 400
    assert too_early.json()["error_code"] == "validation_error"
    assert too_early.json()["errors"][0]["value"] == "not_started"
    standin.pay(pid)

    partial = call("POST", f"/v1/payments/{pid}/refund", json={"amount": 10000, "comment": "x"})
    assert partial.status_code == 200
    assert partial.json()["amount_already_refunded"] == 10000
    over = call("POST", f"/v1/payments/{pid}/refund", json={"amount": 29901})
    assert over.status_code == 400
    assert over.json()["errors"][0]["field"] == "amount"

    rest = call("POST", f"/v1/payments/{pid}/refund", json={"merchant_reference": "R2"})
    refunds = rest.json()["refunds"]
    assert [r["amount"] for r in refunds] == [10000, 29900]
    assert refunds[1]["merchant_reference"] == "R2"
    assert all(r["id"].startswith("refund_") and r["created"] for r in refunds)
    # Alma has no `/refunds` endpoint: the stand-in offers none either.
    assert call("GET", f"/v1/payments/{pid}/refunds").status_code == 404
    assert call("POST", f"/v1/payments/{pid}/refunds", json={}).status_code in (404, 405)
    assert standin.payments[pid]["amount_already_refunded"] == 39900
    assert call("POST", f"/v1/payments/{pid}/refund", json={}).status_code == 400


def test_potential_fraud_is_recorded(create, call):
    pid = create()["id"]
    answer = call("POST", f"/v1/payments/{pid}/potential-fraud", json={"reason": "amount_mismatch"})
    assert (answer.status_code, answer.json()) == (200, {})
    payment = call("GET", f"/v1/payments/{pid}").json()
    assert [f["reason"] for f in payment["potential_fraud"]] == ["amount_mismatch"]
    bad = call("POST", f"/v1/payments/{pid}/potential-fraud", json={"reason": "because"})
    assert bad.status_code == 400


def test_accounting_export_csv(standin, create, call):
    three = create(purchase_amount=12000)
    deferred = create(purchase_amount=50000, installments_count=1, deferred_days=30)
    create(purchase_amount=20000)  # never paid: not in the export
    create(key=OTHER_KEY)
    standin.pay(three["id"])
    standin.pay(deferred["id"])
    call("POST", f"/v1/payments/{three['id']}/refund", json={"amount": 2000})

    bad = call("POST", "/v1/data-exports", json={"type": "everything", "start": 0})
    assert {e["field"] for e in bad.json()["errors"]} == {"type", "end"}
    period = {"start": int(time.time()) - 60, "end": int(time.time()) + 60}
    export = call("POST", "/v1/data-exports", json={"type": "accounting", **period}).json()
    assert export["id"].startswith("export_") and export["complete"] is False
    assert call("GET", f"/v1/data-exports/{export['id']}").json()["complete"] is True
    assert call("GET", f"/v1/data-exports/{export['id']}", key=OTHER_KEY).status_code == 404

    answer = call("GET", f"/v1/data-exports/{export['id']}?format=csv")
    assert answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8"))))
    lines = {(row["ID du paiement"], row["ID du remboursement"] != ""): row for row in rows}
    assert len(rows) == 3
    sale = lines[(three["id"], False)]
    assert [
        sale[c] for c in ("Montant brut", "Frais Alma", "Montant net", "TVA sur les frais")
    ] == [
        "12000",
        "348",  # 2.90 % of 12000
        "11652",
        "70",  # 20 % of 348 = 69.6
    ]
    assert sale["Nombre d'échéances"] == "3"
    assert sale["Nom du client"] == "Marie Curie"
    assert sale["Email du client"] == "marie@example.fr"
    assert sale["ID de la transaction de solde"]
    assert "Date de création (Europe/Paris)" in sale
    assert lines[(three["id"], True)]["Montant brut"] == "-2000"
    assert lines[(deferred["id"], False)]["Frais Alma"] == "950"  # 1.90 % of 50000
    xlsx = call("GET", f"/v1/data-exports/{export['id']}?format=xlsx")
    assert xlsx.status_code == 400


# --- fail switches and admin routes ----------------------------------------------------------


def test_fail_500_once_then_ok(standin, call):
    standin.fail(500, method="GET", path_prefix="/v1/me")
    failed = call("GET", "/v1/me")
    assert failed.status_code == 500
    assert failed.headers["Content-Type"] == "application/json"
    assert failed.json() == {"message": "Internal server error"}
    assert call("GET", "/v1/me").status_code == 200
    assert standin.requests == [("GET", "/v1/me"), ("GET", "/v1/me")]


def test_fail_only_matching_requests(standin, call):
    standin.fail(503, method="POST", path_prefix="/v1/payments", times=2)
    assert call("GET", "/v1/me").status_code == 200
    assert call("POST", "/v1/payments", json=payment_body()).status_code == 503
    assert call("POST", "/v1/payments", json=payment_body()).status_code == 503
    assert call("POST", "/v1/payments", json=payment_body()).status_code == 200


def test_fail_429_says_retry_after(standin, call):
    standin.fail(429)
    answer = call("GET", "/v1/me")
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "0"
    assert answer.json() == {"message": "Too many requests"}


def test_fail_timeout_then_the_request_still_happens(standin, call):
    standin.configure(timeout_seconds=1)
    standin.fail("timeout", method="POST", path_prefix="/v1/payments")
    with pytest.raises(requests.exceptions.Timeout):
        call("POST", "/v1/payments", json=payment_body(), timeout=0.3)
    wait_for(lambda: len(standin.payments) == 1, seconds=3)


def test_fail_disconnect_raises_connection_error(standin, call):
    standin.fail("disconnect", path_prefix="/v1/payments")
    with pytest.raises(requests.exceptions.ConnectionError):
        call("POST", "/v1/payments", json=payment_body())
    assert standin.payments == {}
    assert call("POST", "/v1/payments", json=payment_body()).status_code == 200


def test_latency_delays_every_answer_within_its_jitter(standin, call):
    standin.configure(latency=0.1, latency_jitter=0.05)
    waits = []
    for _ in range(8):
        started = time.monotonic()
        assert call("GET", "/v1/me").status_code == 200
        waits.append(time.monotonic() - started)
    assert min(waits) >= 0.05 and max(waits) < 0.15 + 0.1  # 0.1 ± 0.05, plus the round trip
    assert len({round(wait, 3) for wait in waits}) > 1  # spread, not one fixed wait


def test_jitter_never_makes_a_negative_wait():
    assert all(answer_delay(0.01, 0.5) >= 0 for _ in range(200))
    assert answer_delay(0.2, 0) == 0.2


def test_admin_routes(standin, create, http):
    config = http.post(
        f"{standin.url}/_standin/config",
        json={"sms_enabled": False, "fail": {"status": 502, "path_prefix": "/v1/me"}},
    )
    assert config.status_code == 200 and config.json()["sms_enabled"] is False
    assert http.post(f"{standin.url}/_standin/config", json={"nope": 1}).status_code == 400
    assert http.get(f"{standin.url}/v1/me").status_code == 502
    payment = create()
    expired = http.post(f"{standin.url}/_standin/payments/{payment['id']}/expire").json()
    assert expired["expired_at"] < time.time()
    home = http.get(standin.url + "/").text
    assert f'href="/pay/{payment["id"]}"' in home and "expiré" in home
    assert http.post(f"{standin.url}/_standin/reset").json() == {"reset": True}
    assert standin.payments == {} and standin.requests == []


# --- what Alma does that a client must not assume away (issue 9) -----------------------------


def test_a_key_works_on_its_own_host_only(standin, http):
    """Sandbox at the root, live under /live: a key of the other environment gets 401."""

    def me(base, key):
        return http.get(base + "/v1/me", headers={"Authorization": f"Alma-Auth {key}"}, timeout=5)

    assert me(standin.url, "sk_test_standin").status_code == 200
    assert me(standin.live_url, "sk_live_standin").status_code == 200
    refused = me(standin.url, "sk_live_standin")
    assert refused.status_code == 401
    assert refused.json() == {"message": "Credentials invalid or not supplied"}
    assert me(standin.live_url, "sk_test_standin").status_code == 401
    assert ("GET", "/live/v1/me") in standin.requests


def test_eligibility_is_keyed_by_plan_not_by_position(standin, call):
    """Results come in the stand-in's order, with `kind`; a plan the account lacks has none."""
    standin.remove_plan(1, 45)
    results = eligibility(call, 39900, (3, 0), (1, 45), (2, 0), (1, 15))
    assert [(r["kind"], r["installments_count"], r["deferred_days"]) for r in results] == [
        ("general", 1, 15),
        ("general", 2, 0),
        ("general", 3, 0),
    ]
    answer = call(
        "POST",
        "/v2/payments/eligibility",
        json={"purchase_amount": 39900, "origin": "pos_sms",
              "queries": [{"installments_count": 3}]},
    )
    assert [r["kind"] for r in answer.json()] == ["pos"]


def test_a_lending_rate_costs_interest_on_top_of_the_fee(standin, call, create):
    standin.update_plan(4, customer_lending_rate=1200)  # 12 % a year
    [result] = eligibility(call, 40000, (4, 0))
    interest = [i["customer_interest"] for i in result["payment_plan"]]
    # 1 % a month on what is still owed after each installment: 3 €, 2 €, 1 €.
    assert interest == [0, 300, 200, 100]
    fee = 580  # 1.45 % of 400 euros
    assert result["customer_fee"] == fee
    assert result["customer_total_cost_amount"] == fee + 600
    assert result["annual_interest_rate"] == 1200
    total = sum(i["total_amount"] for i in result["payment_plan"])
    assert total == 40000 + result["customer_total_cost_amount"]
    payment = create(purchase_amount=40000, installments_count=4)
    assert payment["customer_interest"] == 600
    assert sum(i["total_amount"] for i in payment["payment_plan"]) == 40000 + fee + 600


def test_an_unknown_origin_is_refused(call, create):
    answer = call(
        "POST", "/v2/payments/eligibility", json={"purchase_amount": 39900, "origin": "web"}
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "origin"
    assert create(origin="online_in_page")["origin"] == "online_in_page"
    assert create(origin="pos_device")["origin"] == "pos_device"


def test_429_carries_the_retry_after_asked(standin, call):
    standin.fail(429, method="GET", path_prefix="/v1/me", retry_after=7)
    answer = call("GET", "/v1/me")
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "7"
    assert call("GET", "/v1/me").status_code == 200


def test_expired_at_stays_empty_until_the_link_has_expired(standin, create, call):
    """Alma's `expired_at` is a fact, not a deadline (shared/alma-api.md)."""
    payment = create()
    assert payment["expired_at"] is None
    assert call("GET", f"/v1/payments/{payment['id']}").json()["expired_at"] is None
    standin.expire(payment["id"])
    assert call("GET", f"/v1/payments/{payment['id']}").json()["expired_at"] is not None


def test_the_payment_gives_the_merchant_fee_with_and_without_vat(create):
    """alma/alma-php-client (feature/3.0) tests/Unit/Infrastructure/Endpoint/Entity/
    PaymentTest.php: `fees.merchant {total, total_excluding_tax, tax}`, and
    `merchant_target_fee` equal to its `total`."""
    payment = create()
    merchant = payment["fees"]["merchant"]
    assert merchant["total_excluding_tax"] > 0
    assert merchant["tax"] == round(merchant["total_excluding_tax"] * 0.2)
    assert merchant["total"] == merchant["total_excluding_tax"] + merchant["tax"]
    assert payment["merchant_target_fee"] == merchant["total"]


def test_merchant_covering_all_fees_leaves_the_customer_the_price(call, create):
    """`merchant_covers_all_fees` (alma/widgets widgets-lit/src/utils/fetch-eligibility.ts,
    documentation.md): in eligibility and creation alike, the customer pays no fee, the
    purchase amount stays the price, and the merchant's fee takes the customer's on."""
    body = {
        "purchase_amount": 39900,
        "queries": [{"installments_count": 4, "deferred_days": 0, "deferred_months": 0}],
        "merchant_covers_all_fees": True,
    }
    [result] = call("POST", "/v2/payments/eligibility", json=body).json()
    assert (result["customer_fee"], result["customer_total_cost_amount"]) == (0, 0)
    assert sum(i["total_amount"] for i in result["payment_plan"]) == 39900
    assert all(i["customer_fee"] == 0 for i in result["payment_plan"])
    shared = create(installments_count=4)
    covered = create(installments_count=4, merchant_covers_all_fees=True)
    assert (covered["purchase_amount"], covered["customer_fee"]) == (39900, 0)
    assert covered["merchant_covers_all_fees"] is True
    assert shared["merchant_covers_all_fees"] is False
    assert sum(i["total_amount"] for i in covered["payment_plan"]) == 39900
    assert covered["fees"]["merchant"]["total_excluding_tax"] == (
        shared["fees"]["merchant"]["total_excluding_tax"] + shared["customer_fee"])
    refused = call("POST", "/v2/payments/eligibility",
                   json={**body, "merchant_covers_all_fees": "yes"})
    assert refused.status_code == 400


def test_a_payment_for_a_customer_with_names_only_is_created(call):
    """As Alma's own sandbox-run test creates one (alma/alma-php-client, feature/3.0,
    tests/Integration/Infrastructure/Endpoint/PaymentEndpointTest.php)."""
    body = payment_body()
    body["customer"] = {"first_name": "Test", "last_name": "Php-client Integration"}
    body["payment"].pop("billing_address", None)
    answer = call("POST", "/v1/payments", json=body)
    assert answer.status_code == 200, answer.text
