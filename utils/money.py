"""Exact money arithmetic: Alma counts in integer cents, rounding half up.

The add-on's one pure money module: no `env`, tested with plain values.
"""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytz

# Alma's due dates are days in France: its timestamps are read in Paris time.
ALMA_TZ = pytz.timezone('Europe/Paris')


def to_cents(amount):
    """Return `amount` (in currency units, float or Decimal) as an integer number of cents."""
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_cents(cents):
    return float(Decimal(cents) / 100)


def fee_from_rates(amount_cents, variable_bps, fixed_cents):
    """Return the fee of a plan (basis points plus fixed cents) on an amount, in cents."""
    variable = (Decimal(amount_cents) * Decimal(variable_bps or 0) / 10000).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    return int(variable) + int(fixed_cents or 0)


def vat_on(fee_cents, rate_percent):
    """Return the VAT at `rate_percent` (e.g. 20.0) on a fee, in cents."""
    vat = Decimal(fee_cents) * Decimal(str(rate_percent or 0)) / 100
    return int(vat.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def split_vat_included(total_cents, rate_percent):
    """Return (the amount excluding VAT, the VAT) of an amount that includes VAT at
    `rate_percent`, in cents: the two add up to `total_cents`."""
    excluded = Decimal(total_cents) * 100 / (100 + Decimal(str(rate_percent or 0)))
    excluded = int(excluded.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return excluded, total_cents - excluded


def with_vat(fee_cents, fee_vat_cents):
    """A fee and its VAT, together (what the clinic pays Alma for a sale), in cents."""
    return fee_cents + fee_vat_cents


def schedule_as_json(schedule):
    """A schedule of `offer_figures` as JSON holds it (a payment's, a wizard's offers): each
    due date as ISO text, each amount in the currency's units."""
    return [{'date': line['date'].isoformat(), 'amount': line['amount']} for line in schedule]


def left_to_refund(paid_cents, refunded_cents):
    """What is left to refund of a payment, in cents: never below nothing."""
    return max(paid_cents - refunded_cents, 0)


def net_cents(gross_cents, fee_cents, fee_vat_cents):
    """What Alma pays out for a sale (or takes back for a refund): the gross less its fee and
    the VAT on that fee, in cents."""
    return gross_cents - fee_cents - fee_vat_cents


def merchant_fee_estimate(amount_cents, fee_plan, covers_all_fees=False):
    """Return (the merchant's fee, the part of it that is the customer's fee), in cents,
    estimated from a fee plan of Alma's (`GET /v1/me/fee-plans`) until the payment gives its
    own (`merchant_target_fee`).

    With `covers_all_fees` (Alma's per-payment `merchant_covers_all_fees`: the customer pays no
    fee, the merchant takes it on), the merchant's fee is its own rates plus the customer's.
    """
    fee_plan = fee_plan or {}
    own = fee_from_rates(
        amount_cents, fee_plan.get('merchant_fee_variable'), fee_plan.get('merchant_fee_fixed'))
    if not covers_all_fees:
        return own, 0
    covered = fee_from_rates(
        amount_cents, fee_plan.get('customer_fee_variable'), fee_plan.get('customer_fee_fixed'))
    return own + covered, covered


def offer_figures(result, amount_cents, fee_plan, fees_offered, vat_rate):
    """Return what an eligible plan costs whom, from Alma's eligibility `result` for an amount
    (in cents): the schedule, the customer's fee, interest and total, the clinic's fee, its VAT
    and the net. Every figure in cents, so that they add up exactly.

    The customer pays the purchase amount plus Alma's `customer_total_cost_amount`, the whole
    cost of the credit (fees and interest); the schedule adds up to that total. With
    `fees_offered` (asked with `merchant_covers_all_fees`) Alma charges the customer no fee: the
    clinic's fee is estimated with the plan's merchant and customer rates
    (`merchant_fee_estimate`), until the payment gives Alma's own.
    """
    customer_fee = int(result.get('customer_fee') or 0)
    merchant_fee, covered_fee = merchant_fee_estimate(amount_cents, fee_plan, fees_offered)
    merchant_fee_vat = vat_on(merchant_fee, vat_rate)
    schedule, interest = [], 0
    for installment in result.get('payment_plan') or []:
        total = installment.get('total_amount')
        if total is None:
            total = sum(int(installment.get(key) or 0) for key in (
                'purchase_amount', 'customer_fee', 'customer_interest'))
        interest += int(installment.get('customer_interest') or 0)
        schedule.append({
            'date': datetime.fromtimestamp(installment['due_date'], tz=ALMA_TZ).date(),
            'amount_cents': int(total),
            'amount': from_cents(total),
        })
    total_cost = result.get('customer_total_cost_amount')
    total_cost = int(total_cost) if total_cost is not None else customer_fee + interest
    rate = result.get('annual_interest_rate')
    return {
        'schedule': schedule,
        'customer_fee_cents': customer_fee,
        'customer_interest_cents': max(total_cost - customer_fee, 0),
        'customer_total_cost_cents': total_cost,
        'customer_total_cents': amount_cents + total_cost,
        # Alma gives the rate in basis points (100 = 1 %); None when it gives none.
        'annual_interest_rate': rate / 100 if isinstance(rate, int | float) else None,
        'absorbed_fee_cents': covered_fee,
        'merchant_fee_cents': merchant_fee,
        'merchant_fee_vat_cents': merchant_fee_vat,
        'clinic_fee_total_cents': with_vat(merchant_fee, merchant_fee_vat),
        'net_cents': net_cents(amount_cents, merchant_fee, merchant_fee_vat),
    }


def without_cents_fields(model, descriptions):
    """Return `fields_get`'s `descriptions` without the integer cents (fields named *_cents)
    outside debug mode: they are the code's exact amounts, which the search would offer to
    filter and group by as "(centimes)"; users read the amounts in euros. The ORM, searches and
    groupings in the code still use them (not `groups=`: every read would need sudo)."""
    if model.env.su or model.env.user.has_group('base.group_no_one'):
        return descriptions
    return {name: description for name, description in descriptions.items()
            if not name.endswith('_cents')}
