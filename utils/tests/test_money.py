"""The money module alone, with plain pytest: no Odoo, no database, in well under a second.

`utils/money.py` imports nothing from Odoo; it is loaded by its path so that the add-on's
package (which imports Odoo) is not.
"""
import importlib.util
from decimal import Decimal
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    'alma_money', Path(__file__).resolve().parents[1] / 'money.py')
money = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(money)


@pytest.mark.parametrize(('amount', 'cents'), [
    (399.0, 39900), (0.1 + 0.2, 30), (1.005, 101), (2.675, 268), (Decimal('133.335'), 13334),
    (-1.005, -101), (0, 0),
])
def test_to_cents_rounds_half_up_from_the_amount_as_written(amount, cents):
    assert money.to_cents(amount) == cents


def test_from_cents_is_exact():
    assert money.from_cents(13301) == 133.01
    assert money.from_cents(-570) == -5.7


@pytest.mark.parametrize(('amount', 'bps', 'fixed', 'fee'), [
    (39900, 380, 0, 1516),      # 3.80 % of 399 € = 15.162 €
    (39900, 0, 50, 50),
    (12345, 125, 10, 164),      # 1.25 % of 123.45 € = 1.543 € (1.54) + 0.10 €
    (200, 250, 0, 5),           # 0.05 € exactly
    (100, 50, 0, 1),            # 0.005 €: half up
])
def test_fee_from_rates(amount, bps, fixed, fee):
    assert money.fee_from_rates(amount, bps, fixed) == fee


@pytest.mark.parametrize(('fee', 'rate', 'vat'), [
    (1516, 20.0, 303), (1516, 0, 0), (1517, 20.0, 303), (1518, 20.0, 304), (5, 10.0, 1),
])
def test_vat_on_a_fee(fee, rate, vat):
    assert money.vat_on(fee, rate) == vat


@pytest.mark.parametrize(('total', 'rate', 'parts'), [
    # alma/alma-php-client (feature/3.0) tests/Unit/Infrastructure/Endpoint/Entity/PaymentTest.php:
    # `merchant_target_fee` 1186 is `fees.merchant.total`; Alma splits it 989 + 197, which the
    # add-on takes as given when the payment carries `fees.merchant`: this split is its fallback.
    (1186, 20.0, (988, 198)),
    (1200, 20.0, (1000, 200)),
    (1, 20.0, (1, 0)),
    (0, 20.0, (0, 0)),
    (1200, 0.0, (1200, 0)),
])
def test_split_vat_included_adds_up(total, rate, parts):
    assert money.split_vat_included(total, rate) == parts
    assert sum(parts) == total


def test_net_is_the_gross_less_the_fee_and_its_vat():
    assert money.net_cents(39900, 1516, 303) == 38081
    assert money.net_cents(-10000, 0, 0) == -10000  # A refund: no fee returns.


def test_fee_estimate_with_and_without_the_customers_fees():
    plan = {'merchant_fee_variable': 100, 'merchant_fee_fixed': 0,
            'customer_fee_variable': 143, 'customer_fee_fixed': 0}
    assert money.merchant_fee_estimate(39900, plan) == (399, 0)
    # Offered: the clinic takes on the customer's 1.43 % (5.71 €) on top of its own 1 %.
    assert money.merchant_fee_estimate(39900, plan, covers_all_fees=True) == (399 + 571, 571)
    assert money.merchant_fee_estimate(39900, None) == (0, 0)


def test_a_month_adds_up_to_the_cent():
    """Many sales and refunds: the sum of the nets is the sum of the grosses less the sum of
    the fees and of their VAT, with no cent lost to rounding line by line."""
    lines = []
    for index in range(1, 500):
        gross = money.to_cents(index * 1.37)
        fee = money.fee_from_rates(gross, 380, 0)
        vat = money.vat_on(fee, 20.0)
        lines.append((gross, fee, vat))
        if index % 7 == 0:
            lines.append((-gross // 2, 0, 0))
    total_net = sum(money.net_cents(*line) for line in lines)
    assert total_net == sum(g for g, _f, _v in lines) - sum(f for _g, f, _v in lines) \
        - sum(v for _g, _f, v in lines)


def _eligibility(installments, *, customer_fee=0, interest=0):
    """An eligible plan of Alma's answer (`POST /v2/payments/eligibility`) for 399 €, the
    first installment on 23 Nov 2026 at midnight in Paris (23:00 UTC the day before)."""
    first_due = 1795388400  # 2026-11-22 23:00 UTC
    amounts = [39900 // installments + (1 if i < 39900 % installments else 0)
               for i in range(installments)]
    plan = [{'due_date': first_due + 30 * 86400 * i, 'purchase_amount': amount,
             'customer_fee': customer_fee if i == 0 else 0,
             'customer_interest': interest if i == 0 else 0}
            for i, amount in enumerate(amounts)]
    return {'eligible': True, 'installments_count': installments, 'payment_plan': plan,
            'customer_fee': customer_fee, 'annual_interest_rate': 1990 if interest else 0}


def test_an_offer_adds_up_to_the_cent_and_its_dates_are_days_in_paris():
    plan = {'merchant_fee_variable': 380, 'merchant_fee_fixed': 0,
            'customer_fee_variable': 0, 'customer_fee_fixed': 0}
    figures = money.offer_figures(_eligibility(3), 39900, plan, False, 20.0)
    assert [line['amount_cents'] for line in figures['schedule']] == [13300, 13300, 13300]
    assert str(figures['schedule'][0]['date']) == '2026-11-23'  # Not the UTC day, the 22nd.
    assert figures['customer_total_cents'] == 39900 == sum(
        line['amount_cents'] for line in figures['schedule'])
    assert (figures['merchant_fee_cents'], figures['merchant_fee_vat_cents']) == (1516, 303)
    assert figures['net_cents'] == 39900 - 1516 - 303
    assert figures['clinic_fee_total_cents'] == 1516 + 303
    assert money.schedule_as_json(figures['schedule'])[0] == {'date': '2026-11-23',
                                                              'amount': 133.0}


def test_the_customer_pays_the_fees_and_interest_alma_gives():
    figures = money.offer_figures(_eligibility(4, customer_fee=1234, interest=567), 39900,
                                  {}, False, 20.0)
    assert figures['customer_fee_cents'] == 1234
    assert figures['customer_interest_cents'] == 567
    assert figures['customer_total_cents'] == 39900 + 1234 + 567 == sum(
        line['amount_cents'] for line in figures['schedule'])
    assert figures['annual_interest_rate'] == 19.9
    # Alma's own total cost of the credit wins over the sum of the installments' parts.
    answer = dict(_eligibility(4, customer_fee=1234), customer_total_cost_amount=1300)
    assert money.offer_figures(answer, 39900, {}, False, 20.0)['customer_interest_cents'] == 66


def test_offered_fees_are_the_clinics():
    plan = {'merchant_fee_variable': 100, 'merchant_fee_fixed': 0,
            'customer_fee_variable': 143, 'customer_fee_fixed': 0}
    figures = money.offer_figures(_eligibility(2), 39900, plan, True, 20.0)
    assert figures['customer_fee_cents'] == 0
    assert figures['absorbed_fee_cents'] == 571
    assert figures['merchant_fee_cents'] == 399 + 571


def test_a_fee_with_its_vat_and_what_is_left_to_refund():
    assert money.with_vat(1157, 231) == 1388
    assert money.left_to_refund(39900, 10000) == 29900
    assert money.left_to_refund(39900, 39900) == 0
    assert money.left_to_refund(39900, 40000) == 0  # Never a negative refund.
