"""Checks of request bodies, answering Alma's field-by-field `validation_error`."""

from . import plans
from .errors import field_error, invalid_field, validation_error

URL_FIELDS = ("return_url", "failure_return_url", "customer_cancel_url", "ipn_callback_url")
EXPORT_TYPES = ("payments", "pos_export", "statement", "accounting", "accounting_for_payout")
FRAUD_REASONS = ("amount_mismatch", "state_error")


# `online` (redirect) and `online_in_page` are the origins Alma's clients send; in-store payments
# use an origin starting with `pos_`, which selects the `pos` fee plans. The exact `pos_…` values
# are not public: the stand-in takes any. Refusing anything else is the stand-in's choice.
# Source: alma/alma-php-client src/Endpoints/Merchants.php (`feePlans`: "KIND_POS … will be used
# when creating a Payment with origin=pos_*"); alma/alma-php-client branch feature/3.0
# src/Application/DTO/PaymentDto.php (ORIGIN_ONLINE, ORIGIN_ONLINE_IN_PAGE);
# alma/alma-monthlypayments-magento2 Gateway/Request/PaymentDataBuilder.php ('online_in_page' :
# 'online').
ONLINE_ORIGINS = ("online", "online_in_page")
IN_STORE_ORIGIN_PREFIX = "pos_"
ORIGIN_MESSAGE = "origin must be online, online_in_page or start with pos_"


def is_known_origin(origin: str) -> bool:
    return origin in ONLINE_ORIGINS or origin.startswith(IN_STORE_ORIGIN_PREFIX)


def check_origin(field: str, origin) -> None:
    """Refuse an origin that is neither online nor in-store (400, field by field)."""
    if origin is None:
        return
    if not isinstance(origin, str) or not is_known_origin(origin):
        raise invalid_field(field, "invalid_value", origin, ORIGIN_MESSAGE)


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON true is not a number


class FieldChecker:
    """Collects the errors of one body so that the client sees all of them at once."""

    def __init__(self):
        self.errors: list[dict] = []

    def add(self, field: str, code: str, value, message: str) -> None:
        self.errors.append(field_error(field, code, value, message))

    def object(self, field: str, value, *, required: bool) -> dict | None:
        if value is None:
            if required:
                self.add(field, "missing_field", None, f"{field} is required")
            return None
        if not isinstance(value, dict):
            self.add(field, "invalid_type", value, f"{field} must be an object")
            return None
        return value

    def integer(self, field: str, value, *, required: bool, minimum: int = 1) -> int | None:
        if value is None:
            if required:
                self.add(field, "missing_field", None, f"{field} is required")
            return None
        if not is_int(value):
            self.add(field, "invalid_type", value, f"{field} must be an integer")
            return None
        if value < minimum:
            self.add(field, "invalid_value", value, f"{field} must be at least {minimum}")
            return None
        return value

    def text(self, field: str, value, *, required: bool) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(field, "missing_field", value, f"{field} is required")
            return None
        if not isinstance(value, str):
            self.add(field, "invalid_type", value, f"{field} must be a string")
            return None
        return value.strip()

    def boolean(self, field: str, value) -> bool:
        """An optional JSON boolean; absent is false."""
        if value is not None and not isinstance(value, bool):
            self.add(field, "invalid_type", value, f"{field} must be a boolean")
        return value is True

    def url(self, field: str, value) -> None:
        url = self.text(field, value, required=False)
        if url and not url.startswith(("http://", "https://")):
            self.add(field, "invalid_value", value, f"{field} must be an http(s) URL")


def check_payment_request(body: dict, fee_plans: list[dict]) -> tuple[list[dict], dict | None]:
    """Errors of a `POST /v1/payments` body, and the plan it asks for (None when invalid)."""
    check = FieldChecker()
    payment = check.object("payment", body.get("payment"), required=True)
    customer = check.object("customer", body.get("customer"), required=True)
    check.object("order", body.get("order"), required=False)
    plan = None
    if payment is not None:
        plan = _check_plan_and_amount(check, payment, fee_plans)
        check.integer("payment.expires_after", payment.get("expires_after"), required=False)
        check.object("payment.custom_data", payment.get("custom_data"), required=False)
        check.boolean("payment.merchant_covers_all_fees", payment.get("merchant_covers_all_fees"))
        origin = check.text("payment.origin", payment.get("origin"), required=False)
        if origin and not is_known_origin(origin):
            check.add("payment.origin", "invalid_value", origin, ORIGIN_MESSAGE)
        for name in URL_FIELDS:
            check.url(f"payment.{name}", payment.get(name))
    if customer is not None:
        _check_customer(check, customer)
    _check_addresses(check, customer or {}, payment or {})
    return check.errors, plan


def _check_plan_and_amount(check: FieldChecker, payment: dict, fee_plans: list[dict]):
    amount_field = "payment.purchase_amount"
    amount = check.integer(amount_field, payment.get("purchase_amount"), required=True)
    # Alma's default plan is 3 installments, not deferred.
    count = check.integer(
        "payment.installments_count", payment.get("installments_count", 3), required=True
    )
    days = check.integer(
        "payment.deferred_days", payment.get("deferred_days", 0), required=True, minimum=0
    )
    months = check.integer(
        "payment.deferred_months", payment.get("deferred_months", 0), required=True, minimum=0
    )
    if None in (count, days, months):
        return None
    plan = plans.find_plan(fee_plans, count, days, months)
    if plan is None or not plans.is_offered(plan, payment.get("origin")):
        check.add(
            "payment.installments_count",
            "invalid_value",
            count,
            f"No allowed fee plan with {count} installments deferred {days} days/{months} months",
        )
        return None
    if amount is not None and not plans.fits_amount(plan, amount):
        limits = plans.amount_constraints(plan)
        check.add(
            amount_field,
            "invalid_value",
            amount,
            f"{amount_field} must be between {limits['minimum']} and {limits['maximum']} cents",
        )
    return plan


def _check_customer(check: FieldChecker, customer: dict) -> None:
    """Names only are required: Alma's own sandbox-run test creates a payment for a customer
    with a first and a last name and nothing else (alma/alma-php-client, branch feature/3.0,
    tests/Integration/Infrastructure/Endpoint/PaymentEndpointTest.php `testCreatePayment`).
    The merchant guide's demands (mobile, e-mail, address) are the add-on's rule, not the API's.
    """
    check.text("customer.first_name", customer.get("first_name"), required=True)
    check.text("customer.last_name", customer.get("last_name"), required=True)
    # Optional: a patient at the desk may have no email; when given, it must look like one.
    email = check.text("customer.email", customer.get("email"), required=False)
    if email and not _looks_like_email(email):
        check.add("customer.email", "invalid_value", email, "customer.email is not an email")
    phone = check.text("customer.phone", customer.get("phone"), required=False)
    if phone and not phone.startswith(("+", "0")):
        check.add("customer.phone", "invalid_value", phone, "customer.phone must start with + or 0")


def _looks_like_email(email: str) -> bool:
    local, at, domain = email.partition("@")
    return bool(local) and bool(at) and "@" not in domain and "." in domain.strip(".")


def _check_addresses(check: FieldChecker, customer: dict, payment: dict) -> None:
    addresses = customer.get("addresses")
    if addresses is not None and not isinstance(addresses, list):
        check.add("customer.addresses", "invalid_type", addresses, "must be a list")
        addresses = None
    # No address is required either (the same sandbox-run test sends none).


def check_eligibility_request(
    body: dict,
) -> tuple[int, list[tuple[int, int, int]] | None, bool]:
    """The amount, the (count, days, months) queries (None means discovery) and whether the
    merchant covers all fees (`merchant_covers_all_fees`, see plans.customer_fee_of)."""
    check = FieldChecker()
    amount = check.integer("purchase_amount", body.get("purchase_amount"), required=True)
    covers = check.boolean("merchant_covers_all_fees", body.get("merchant_covers_all_fees"))
    # The customer's country, as Alma's widgets send it (alma/widgets widgets-lit/src/utils/
    # fetch-eligibility.ts: `billing_address: {country}`, `shipping_address: {country}`). What
    # Alma does with it is not public: the stand-in checks its shape and prices alike.
    for key in ("billing_address", "shipping_address"):
        address = body.get(key)
        country = address.get("country") if isinstance(address, dict) else address
        if address is not None and not (isinstance(country, str) and len(country) == 2
                                        and country.isalpha()):
            check.add(f"{key}.country", "invalid_value", country,
                      "country must be a country code (ISO 3166-1 alpha-2)")
    raw_queries = body.get("queries")
    queries = None
    if raw_queries is not None and not isinstance(raw_queries, list):
        check.add("queries", "invalid_type", raw_queries, "queries must be a list")
    elif raw_queries is not None:
        queries = [_check_query(check, index, query) for index, query in enumerate(raw_queries)]
    if check.errors:
        raise validation_error(check.errors)
    return amount, queries, covers


def _check_query(check: FieldChecker, index: int, query) -> tuple[int, int, int]:
    field = f"queries[{index}]"
    if not isinstance(query, dict):
        check.add(field, "invalid_type", query, f"{field} must be an object")
        return (0, 0, 0)
    count = check.integer(
        f"{field}.installments_count", query.get("installments_count"), required=True
    )
    days = check.integer(
        f"{field}.deferred_days", query.get("deferred_days", 0), required=True, minimum=0
    )
    months = check.integer(
        f"{field}.deferred_months", query.get("deferred_months", 0), required=True, minimum=0
    )
    return (count, days, months)


def check_refund_request(body: dict, refundable: int) -> int:
    """The amount to refund: the one asked for, or everything not refunded yet."""
    check = FieldChecker()
    check.text("merchant_reference", body.get("merchant_reference"), required=False)
    check.text("comment", body.get("comment"), required=False)
    amount = check.integer("amount", body.get("amount"), required=False)
    if check.errors:
        raise validation_error(check.errors)
    if amount is None:
        amount = refundable
        if not amount:
            raise invalid_field("amount", "invalid_value", None, "Nothing left to refund")
    if amount > refundable:
        raise invalid_field(
            "amount",
            "invalid_value",
            amount,
            f"Refunds cannot exceed the purchase amount ({refundable} cents left to refund)",
        )
    return amount


def check_fraud_reason(body: dict) -> str:
    reason = body.get("reason")
    if reason not in FRAUD_REASONS:
        raise invalid_field(
            "reason", "invalid_value", reason, f"reason must be one of {', '.join(FRAUD_REASONS)}"
        )
    return reason


def check_export_request(body: dict) -> tuple[str, int, int]:
    check = FieldChecker()
    kind = body.get("type")
    if kind is None:
        check.add("type", "missing_field", None, "type is required")
    elif kind not in EXPORT_TYPES:
        check.add("type", "invalid_value", kind, f"type must be one of {', '.join(EXPORT_TYPES)}")
    start = check.integer("start", body.get("start"), required=True, minimum=0)
    end = check.integer("end", body.get("end"), required=True, minimum=0)
    if start is not None and end is not None and end < start:
        check.add("end", "invalid_value", end, "end must not be before start")
    if check.errors:
        raise validation_error(check.errors)
    return kind, start, end
