"""Fee plans, fees, installment schedules and eligibility answers."""

import calendar
from datetime import date, datetime, timedelta, timezone

PLAN_KINDS = ("general", "pos")

# installments_count, deferred_days, merchant_fee_variable (bps), customer_fee_variable (bps)
DEFAULT_PLAN_TERMS = (
    (1, 15, 150, 0),
    (1, 30, 190, 0),
    (1, 45, 230, 0),
    (2, 0, 250, 0),
    (3, 0, 290, 0),
    (4, 0, 330, 145),
)


VAT_PERCENT = 20  # VAT on Alma's commission in France


def default_plans() -> list[dict]:
    """The plans of every merchant, without `id`/`kind` (the same terms serve both kinds)."""
    return [_plan(*terms) for terms in DEFAULT_PLAN_TERMS]


def _plan(installments_count, deferred_days, merchant_bps, customer_bps, deferred_months=0) -> dict:
    return {
        "installments_count": installments_count,
        "deferred_days": deferred_days,
        "deferred_months": deferred_months,
        "deferred_trigger_limit_days": None,
        "allowed": True,
        "available_online": True,
        "available_in_pos": True,
        "min_purchase_amount": 5000,
        "max_purchase_amount": 200000,
        "merchant_fee_variable": merchant_bps,
        "merchant_fee_fixed": 0,
        "customer_fee_variable": customer_bps,
        "customer_fee_fixed": 0,
        "customer_lending_rate": 0,
        "capped": False,
        "is_under_maximum_interest_regulated_rate": True,
        "first_installment_ratio": None,
        "payout_on_acceptance": False,
    }


def make_plan(count: int, days: int = 0, months: int = 0) -> dict:
    """A plan the account may be given besides the default ones (`StandIn.add_plan`): the
    deferred plans' rates."""
    return _plan(count, days, 190, 0, deferred_months=months)


def terms(plan: dict) -> tuple[int, int, int]:
    """What identifies a plan in Alma requests: (installments, deferred days, deferred months)."""
    return plan["installments_count"], plan["deferred_days"], plan["deferred_months"]


def as_fee_plan(plan: dict, kind: str) -> dict:
    """The plan as `GET /v1/me/fee-plans` shows it for one kind."""
    count, days, months = terms(plan)
    return {"id": f"{kind}_{count}_{days}_{months}", "kind": kind, **plan}


def find_plan(plans: list[dict], count: int, days: int = 0, months: int = 0) -> dict | None:
    return next((plan for plan in plans if terms(plan) == (count, days, months)), None)


def is_deferred(plan: dict) -> bool:
    return bool(plan["deferred_days"] or plan["deferred_months"])


def is_in_store(origin: str | None) -> bool:
    """In-store origins start with `pos_` and use the `pos` fee plans.

    Source: alma/alma-php-client src/Endpoints/Merchants.php (`feePlans` docblock).
    """
    return (origin or "").startswith("pos_")


def kind_for_origin(origin: str | None) -> str:
    """The fee plan kind an eligibility result is about: `general` online, `pos` in store.

    Source for `general` without origin: alma/alma-php-client tests/Integration/Endpoints/
    PaymentsTest.php (reads the result as `general_3_0_0`). `pos` for `pos_…` origins follows
    src/Endpoints/Merchants.php; not confirmed on the sandbox.
    """
    return "pos" if is_in_store(origin) else "general"


def is_offered(plan: dict, origin: str | None) -> bool:
    """Allowed, and available where the sale happens (fee plan fields `available_online`,
    `available_in_pos`: alma/alma-php-client src/Entities/FeePlan.php)."""
    where = "available_in_pos" if is_in_store(origin) else "available_online"
    return plan["allowed"] and plan[where]


def fits_amount(plan: dict, amount: int) -> bool:
    # Alma's limits are inclusive: 50 € and 2 000 € are both eligible by default.
    return plan["min_purchase_amount"] <= amount <= plan["max_purchase_amount"]


def amount_constraints(plan: dict) -> dict:
    return {"minimum": plan["min_purchase_amount"], "maximum": plan["max_purchase_amount"]}


def kind_label(plan: dict) -> str:
    """Alma's payment `kind`: `P3X`, `P1X_D+30`, `P1X_M+1`."""
    count, days, months = terms(plan)
    label = f"P{count}X"
    if days:
        label += f"_D+{days}"
    if months:
        label += f"_M+{months}"
    return label


def round_half_up(numerator: int, denominator: int) -> int:
    """Integer division rounded half up (Python's round() rounds half to even)."""
    return (2 * numerator + denominator) // (2 * denominator)


def fee(amount: int, bps: int, fixed: int) -> int:
    return round_half_up(amount * bps, 10000) + fixed


def customer_fee(plan: dict, amount: int) -> int:
    return fee(amount, plan["customer_fee_variable"], plan["customer_fee_fixed"])


def merchant_fee(plan: dict, amount: int) -> int:
    return fee(amount, plan["merchant_fee_variable"], plan["merchant_fee_fixed"])


# `merchant_covers_all_fees` (boolean, per payment): the merchant takes the customer's fees.
# Source: alma/widgets widgets-lit/src/utils/fetch-eligibility.ts (sends it to
# /v2/payments/eligibility), documentation.md ("The value should be the same as the one used in
# the payment creation request"); Alma API summaries: `payment.merchant_covers_all_fees` true =
# the customer pays no fees, the merchant takes them. How Alma bills the merchant for them is not
# public: the stand-in charges the merchant its own fee plus the customer's (its choice).
def customer_fee_of(plan: dict, amount: int, covers_all_fees: bool = False) -> int:
    """The customer's fee: none when the merchant covers all fees."""
    return 0 if covers_all_fees else customer_fee(plan, amount)


def merchant_fee_of(plan: dict, amount: int, covers_all_fees: bool = False) -> int:
    """The merchant's fee: its own, plus the customer's when it covers all fees."""
    return merchant_fee(plan, amount) + (customer_fee(plan, amount) if covers_all_fees else 0)


def utc_day(timestamp: float) -> date:
    return datetime.fromtimestamp(timestamp, timezone.utc).date()


def noon_utc(day: date) -> int:
    """Installment due dates are the due day at 12:00 UTC: the same calendar day everywhere."""
    return int(datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc).timestamp())


def add_months(day: date, months: int) -> date:
    """Same day `months` later, clipped to the last day of a shorter month (31 Jan → 28 Feb)."""
    year, month_index = divmod(day.month - 1 + months, 12)
    year += day.year
    last_day = calendar.monthrange(year, month_index + 1)[1]
    return date(year, month_index + 1, min(day.day, last_day))


def due_days(plan: dict, today: date) -> list[date]:
    count, days, months = terms(plan)
    first = add_months(today, months) + timedelta(days=days)
    return [add_months(first, index) for index in range(count)]


def interests(plan: dict, parts: list[int]) -> list[int]:
    """Interest of each installment: the yearly `customer_lending_rate` (bps) on what is still
    owed, one month per installment after the first (paid today, no interest).

    Alma publishes no formula: only that a plan has a `customer_lending_rate` in bps
    (alma/alma-php-client src/Entities/FeePlan.php) and that each installment may carry
    `customer_interest` (alma/alma-php-client README.md, "You will pay … including … fees & …
    of interest"). This monthly simple interest is the stand-in's choice.
    """
    rate = plan.get("customer_lending_rate") or 0
    owed = sum(parts)
    result = []
    for part in parts:
        result.append(round_half_up(owed * rate, 12 * 10000) if result else 0)
        owed -= part
    return result if rate else [0] * len(parts)


def schedule(plan: dict, amount: int, today: date, covers_all_fees: bool = False) -> list[dict]:
    """The installments: equal integer parts, the remainder and the customer fee on the first,
    interest (if the plan lends) on the later ones.

    Installment fields (`due_date`, `purchase_amount`, `customer_fee`, `customer_interest`,
    `total_amount`): alma/alma-php-client README.md (eligibility example) and
    src/Entities/Instalment.php. How Alma splits an amount is not published: the stand-in's choice.
    """
    count = plan["installments_count"]
    parts = [amount // count] * count
    parts[0] += amount % count
    fees = [customer_fee_of(plan, amount, covers_all_fees)] + [0] * (count - 1)
    return [
        {
            "due_date": noon_utc(day),
            "purchase_amount": part,
            "customer_fee": part_fee,
            "customer_interest": interest,
            "total_amount": part + part_fee + interest,
        }
        for day, part, part_fee, interest in zip(
            due_days(plan, today), parts, fees, interests(plan, parts), strict=True
        )
    ]


def eligibility(
    plans: list[dict],
    amount: int,
    query: tuple[int, int, int],
    origin: str | None,
    today: date,
    covers_all_fees: bool = False,
) -> dict:
    """One result of `POST /v2/payments/eligibility` for one (count, days, months) query.

    Fields: alma/alma-php-client src/Endpoints/Results/Eligibility.php (`eligible`, `reasons`,
    `constraints`, `payment_plan`, `installments_count`, `deferred_days`, `deferred_months`,
    `customer_total_cost_amount`, `customer_total_cost_bps`, `annual_interest_rate` in bps),
    src/Entities/PaymentPlanTrait.php (`kind` in the plan key); a result below the minimum has
    `reasons.purchase_amount = invalid_value` and `constraints.purchase_amount.{minimum,maximum}`:
    tests/Integration/Endpoints/PaymentsTest.php (run against Alma's sandbox).
    `customer_total_cost_amount` is the whole cost of the credit, fees and interest:
    alma/alma-woocommerce-gateway src/alma-gateway-block/alma-gateway-block.js ("Total cost paid
    by the customer (including fees and interests)"). With `covers_all_fees` the customer's fee
    is 0 (see `customer_fee_of`).
    """
    count, days, months = query
    result = {
        "eligible": False,
        "kind": kind_for_origin(origin),
        "installments_count": count,
        "deferred_days": days,
        "deferred_months": months,
    }
    plan = find_plan(plans, *query)
    if plan is None or not is_offered(plan, origin):
        result["reasons"] = {"installments_count": "not_allowed"}
        return result
    if not fits_amount(plan, amount):
        result["reasons"] = {"purchase_amount": "invalid_value"}
        result["constraints"] = {"purchase_amount": amount_constraints(plan)}
        return result
    installments = schedule(plan, amount, today, covers_all_fees)
    fee = customer_fee_of(plan, amount, covers_all_fees)
    cost = fee + sum(installment["customer_interest"] for installment in installments)
    rate = plan.get("customer_lending_rate") or 0
    result.update(
        eligible=True,
        customer_fee=fee,
        customer_total_cost_amount=cost,
        customer_total_cost_bps=round_half_up(cost * 10000, amount),
        # In bps (alma/alma-php-client README.md divides it by 100 to show a percentage). Alma's
        # may include the fees (TAEG); the stand-in gives the lending rate: its choice.
        annual_interest_rate=rate,
        payment_plan=installments,
    )
    return result
