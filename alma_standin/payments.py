"""The payment object: built from a validated request, then changed by the customer and API."""

import secrets
import string

from . import plans
from .state import PaymentMeta

ID_ALPHABET = string.ascii_letters + string.digits
DEFAULT_EXPIRY_MINUTES = 7 * 24 * 60
PASSED_ON_FIELDS = ("return_url", "failure_return_url", "customer_cancel_url", "ipn_callback_url")


def new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(ID_ALPHABET) for _ in range(24))


def build_payment(body: dict, plan: dict, base_url: str, now: int) -> dict:
    """The payment as the API returns it, from a body that passed the checks."""
    request = body["payment"]
    customer = body["customer"]
    amount = request["purchase_amount"]
    covers_all_fees = request.get("merchant_covers_all_fees") is True
    payment_id = new_id("payment_")
    installments = plans.schedule(plan, amount, plans.utc_day(now), covers_all_fees)
    for installment in installments:
        installment.update(state="pending", date_paid=None)
    addresses = [address for address in customer.get("addresses") or [] if address]
    payment = {
        "id": payment_id,
        "url": f"{base_url}/pay/{payment_id}",
        "created": now,
        "origin": request.get("origin") or "online",
        "locale": request.get("locale") or "fr",
        "state": "not_started",
        "kind": plans.kind_label(plan),
        "installments_count": plan["installments_count"],
        "deferred_days": plan["deferred_days"],
        "deferred_months": plan["deferred_months"],
        "purchase_amount": amount,
        "customer_fee": plans.customer_fee_of(plan, amount, covers_all_fees),
        # Echoed as sent (see plans.customer_fee_of for the source).
        "merchant_covers_all_fees": covers_all_fees,
        "customer_interest": sum(i["customer_interest"] for i in installments),
        "amount_already_refunded": 0,
        "refunds": [],
        # Source: shared/alma-api.md, alma/alma-php-client src/Entities/Payment.php
        # (`expired_at` nullable): empty until the link has expired; the deadline is
        # `created` + `expires_after` (kept in PaymentMeta.deadline, not shown).
        "expired_at": None,
        "custom_data": request.get("custom_data"),
        "orders": [body["order"]] if body.get("order") else [],
        "customer": customer,
        "billing_address": request.get("billing_address") or (addresses or [None])[0],
        "shipping_address": request.get("shipping_address"),
        "payment_plan": installments,
        "potential_fraud": [],
    }
    payment.update({name: request.get(name) for name in PASSED_ON_FIELDS})
    return payment


def is_charged(payment: dict) -> bool:
    """The first installment is paid: the payment is accepted and can no longer be cancelled."""
    return payment["payment_plan"][0]["state"] == "paid"


def deadline(body: dict, now: int) -> int:
    """When a new payment's link expires: `expires_after` minutes from its creation."""
    return now + 60 * (body["payment"].get("expires_after") or DEFAULT_EXPIRY_MINUTES)


def note_expiry(payment: dict, meta: PaymentMeta, now: int) -> None:
    """Alma fills `expired_at` once the deadline of a link nobody paid has passed."""
    if payment["expired_at"] is None and not is_charged(payment) and meta.deadline <= now:
        payment["expired_at"] = meta.deadline


def customer_status(payment: dict, meta: PaymentMeta, now: int) -> str:
    """What the customer page shows: payable, accepted, refused, cancelled or expired."""
    note_expiry(payment, meta, now)
    if is_charged(payment):
        return "accepted"
    if payment["state"] == "scored_no":
        return "refused"
    if meta.cancelled:
        return "cancelled"
    if payment["expired_at"] is not None and payment["expired_at"] <= now:
        return "expired"
    return "payable"


def accept(payment: dict, now: int) -> None:
    # A deferred 1-installment plan also goes to in_progress: Alma has charged nothing yet but
    # has accepted the payment, which is what in_progress tells the merchant.
    payment["state"] = "in_progress"
    payment["payment_plan"][0].update(state="paid", date_paid=now)


def refuse(payment: dict) -> None:
    # No reason is given: no Alma client or plugin reads one (issue 20, item 13).
    payment["state"] = "scored_no"


def cancel(payment: dict, meta: PaymentMeta, now: int) -> None:
    # Alma keeps the state: a cancelled payment is a not_started one whose link has expired.
    payment["expired_at"] = now
    meta.cancelled = True


def refundable(payment: dict) -> int:
    return payment["purchase_amount"] - payment["amount_already_refunded"]


def add_refund(payment: dict, amount: int, merchant_reference: str | None, now: int) -> dict:
    refund = {
        "id": new_id("refund_"),
        "created": now,
        "amount": amount,
        "merchant_reference": merchant_reference,
    }
    payment["refunds"].append(refund)
    payment["amount_already_refunded"] += amount
    return refund


def customer_name(payment: dict) -> str:
    customer = payment["customer"]
    return " ".join(filter(None, (customer.get("first_name"), customer.get("last_name"))))


def merchant_fees(fee_excluding_tax: int) -> dict:
    """The merchant's fee as a payment shows it: `fees.merchant` and `merchant_target_fee`.

    Source: alma/alma-php-client (feature/3.0) tests/Unit/Infrastructure/Endpoint/Entity/
    PaymentTest.php (`fees.merchant` 989 + 197 tax = 1186 = `merchant_target_fee`). The VAT
    rate is France's on Alma's commission.
    """
    tax = plans.round_half_up(fee_excluding_tax * plans.VAT_PERCENT, 100)
    total = fee_excluding_tax + tax
    return {
        "fees": {
            "merchant": {"total": total, "total_excluding_tax": fee_excluding_tax, "tax": tax}
        },
        "merchant_target_fee": total,
    }
