import json
import logging
import time

from odoo import api, models, tools
from odoo.exceptions import UserError
from odoo.tools.misc import formatLang

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.utils.alma_client import AlmaClient, AlmaError
from odoo.addons.payment_alma.utils.money import (
    from_cents,
    offer_figures,
    to_cents,
)

_logger = logging.getLogger(__name__)



class PaymentProviderOffers(models.Model):
    """The plans Alma offers for an amount, each with its figures (`money.offer_figures`)."""

    _inherit = 'payment.provider'

    def _alma_web_offers(self, amount, currency):
        """Return the eligible offers of the payment form, asked once per request and amount.

        Anyone may load the form, again and again: Alma's answer is kept a few minutes on
        every worker (`_alma_fetch_eligibility`), and a failure hides Alma at once, without
        retrying or waiting on Alma's Retry-After.
        """
        self.ensure_one()
        if currency.name not in const.SUPPORTED_CURRENCIES:
            return []
        cache = self.env.cr.cache.setdefault('alma_web_offers', {})
        key = (self.id, tuple(self.alma_plan_ids.ids), to_cents(amount), currency.id)
        if key not in cache:
            try:
                offers = self.with_context(alma_fail_fast=True)._alma_get_offers(
                    amount, currency, online=True, cached=True)
            except (UserError, AlmaError) as error:
                _logger.warning("Alma hidden from the payment form: %s", error)
                offers = []
            cache[key] = [offer for offer in offers if offer['eligible']]
        return cache[key]

    # === The plans Alma offers for an amount === #

    def _alma_clear_fee_plans_cache(self):
        """Forget the fee plans on every worker and server (Odoo signals the cleared cache)."""
        self.env.registry.clear_cache()

    def _alma_get_fee_plans(self, kind=const.FEE_PLAN_KIND):
        """Return Alma's fee plans of this account (in-store by default), keyed by
        (installments, days, months).

        Cached for a few minutes on each worker: rates rarely change, and a sale must not wait
        for them. Changing the key, the URL or the state clears them on every worker.
        """
        self.ensure_one()
        api_key = self._alma_get_api_key()
        period = int(time.time() // const.FEE_PLANS_TTL_SECONDS)
        plans = self._alma_fetch_fee_plans(
            self.id, self._alma_get_api_url(api_key), api_key, kind, period)
        return {
            (plan['installments_count'], plan.get('deferred_days') or 0,
             plan.get('deferred_months') or 0): plan
            for plan in plans
        }

    @api.model
    @tools.ormcache('provider_id', 'base_url', 'api_key', 'kind', 'period')
    def _alma_fetch_fee_plans(self, provider_id, base_url, api_key, kind, period):
        """Alma's fee plans of an account, as a tuple; `period` ends the cache's validity."""
        retries = 0 if self.env.context.get('alma_fail_fast') else const.READ_RETRIES
        answer = AlmaClient(self.env, base_url, api_key, retries=retries).get_fee_plans(kind=kind)
        return tuple(answer.get('data', []) if isinstance(answer, dict) else answer or ())

    @api.model
    @tools.ormcache('provider_id', 'base_url', 'api_key', 'amount_cents', 'queries', 'origin',
                    'fees_offered', 'country_code', 'period')
    def _alma_fetch_eligibility(self, provider_id, base_url, api_key, amount_cents, queries,
                                origin, fees_offered, country_code, period):
        """Alma's eligibility answer for the payment form, kept until `period` ends on each
        worker (Odoo's ormcache: no module-level state; a key's change clears it everywhere).

        A failure is kept too, as (None, its message): a visitor reloading the form while Alma
        refuses (429) or is down does not ask Alma again before the period ends.

        :param str queries: the plans asked, as JSON (hashable)
        :return: (Alma's answer as a tuple, '') or (None, the error's message)
        """
        client = AlmaClient(self.env, base_url, api_key, retries=0)  # The public path: fail fast.
        try:
            answer = client.check_eligibility(amount_cents, json.loads(queries), origin=origin,
                                              merchant_covers_all_fees=fees_offered,
                                              billing_country=country_code)
        except AlmaError as error:
            return None, error.args[0]
        return tuple(answer) if isinstance(answer, list) else (), ''

    def _alma_get_offers(self, amount, currency=None, fees_offered=False, online=False,
                         cached=False, country=None):
        """Return, for each enabled plan, what Alma offers for `amount` (in currency units).

        Each offer: the plan, whether it is eligible and why not, the schedule, the customer fee
        and the clinic's fee with its VAT, all in integer cents so that they add up exactly.
        With `fees_offered`, Alma is asked with `merchant_covers_all_fees`: the purchase amount
        stays the price, the customer pays no fee and the clinic's fee takes it on. `online`: a
        payment made on the website (Odoo's payment form), priced on Alma's general plans and
        asked with the online origin. `cached`: the payment form's offers, Alma's eligibility
        kept a few minutes (see `_alma_fetch_eligibility`). `country`: the customer's, sent
        to Alma as the billing country (the business's when the customer's is not known).
        """
        self.ensure_one()
        currency = currency or self.company_id.currency_id
        if currency.name not in const.SUPPORTED_CURRENCIES:
            raise UserError(self.env._("Alma only accepts payments in euros."))
        amount_cents = to_cents(amount)
        plans = self.alma_plan_ids
        if not plans:
            return []
        origin = const.ONLINE_ORIGIN if online else self.alma_origin
        fee_plans = self._alma_get_fee_plans(
            kind=const.ONLINE_FEE_PLAN_KIND if online else const.FEE_PLAN_KIND)
        # A fee plan Alma says is not for this channel is not offered on it. Issue 20 names
        # `available_in_pos` / `available_online`; no public Alma source shows them, so they
        # count only when Alma sends them as false.
        channel_flag = 'available_online' if online else 'available_in_pos'
        fee_plans = {key: plan for key, plan in fee_plans.items()
                     if plan.get(channel_flag) is not False}
        # A plan the account does not have (deferred by months, say) is not offered; one it
        # has but Alma does not allow is shown as not activated.
        plans = plans.filtered(lambda plan: plan._alma_key() in fee_plans)
        if not plans:
            return []
        country_code = (country or self.company_id.country_id).code or False
        results = self._alma_eligibility(amount_cents, plans, origin, fees_offered,
                                         cached=cached, country_code=country_code)
        return [
            self._alma_make_offer(plan, fee_plans.get(plan._alma_key()) or {},
                                  results.get(plan._alma_key()), amount_cents, currency,
                                  fees_offered=fees_offered)
            for plan in plans
        ]

    def _alma_eligibility(self, amount_cents, plans, origin, fees_offered=False, cached=False,
                          country_code=False):
        """Ask Alma about `plans` for an amount; return its results keyed by plan key.

        Alma's clients key each result by its plan (installments count, deferred days, deferred
        months), never by its position: a plan without a result is not offered.
        `fees_offered` asks with `merchant_covers_all_fees`, as the payment will be created
        (alma/widgets documentation.md: "The value should be the same as the one used in the
        payment creation request"). `cached`: Alma's answer of the last few minutes will do
        (the payment form).
        """
        queries = [plan._alma_query() for plan in plans]
        if cached:
            api_key = self._alma_get_api_key()
            answer, error = self._alma_fetch_eligibility(
                self.id, self._alma_get_api_url(api_key), api_key, amount_cents,
                json.dumps(queries, sort_keys=True), origin, bool(fees_offered), country_code,
                int(time.time() // const.ELIGIBILITY_TTL_SECONDS))
            if error:
                raise UserError(error)
            answer = list(answer)  # Kept as a tuple: the cached answer is shared.
        else:
            answer = self._alma_client().check_eligibility(
                amount_cents, queries, origin=origin, merchant_covers_all_fees=fees_offered,
                billing_country=country_code)
        results = {}
        for result in answer if isinstance(answer, list) else []:
            if isinstance(result, dict) and result.get('installments_count') is not None:
                results[_alma_result_key(result)] = result
        return results

    def _alma_make_offer(self, plan, fee_plan, result, amount_cents, currency,
                         fees_offered=False):
        """Return the offer of one plan from Alma's eligibility `result` (None: no result):
        why it is not offered, or its figures (`offer_figures`)."""
        result = result or {}
        offer = {
            'fees_offered': bool(fees_offered),
            'price_cents': amount_cents,
            'absorbed_fee_cents': 0,
            'plan_id': plan.id,
            'plan_code': plan.code,
            'name': plan.name,
            'installments_count': plan.installments_count,
            'deferred_days': plan.deferred_days,
            'deferred_months': plan.deferred_months,
            'purchase_amount_cents': amount_cents,
            'eligible': bool(result.get('eligible')) and bool(fee_plan.get('allowed', True)),
            'reason': '',
            'schedule': [],
            'annual_interest_rate': None,
        }
        if not fee_plan or not fee_plan.get('allowed', True):
            offer.update(eligible=False, reason=self.env._(
                "This plan is not activated on your Alma account."))
            return offer
        if not result:
            offer['reason'] = self.env._("Alma does not offer this plan for this sale.")
            return offer
        if not offer['eligible']:
            offer['reason'] = self._alma_refusal_reason(result, amount_cents, currency)
            return offer
        offer.update(offer_figures(result, amount_cents, fee_plan, fees_offered,
                                   self.alma_fee_vat_rate))
        return offer

    def _alma_refusal_reason(self, result, amount_cents, currency):
        limits = (result.get('constraints') or {}).get('purchase_amount') or {}
        minimum, maximum = limits.get('minimum'), limits.get('maximum')
        if minimum is not None and amount_cents < minimum:
            return self.env._("Below the minimum of %s for this plan.",
                              formatLang(self.env, from_cents(minimum), currency_obj=currency))
        if maximum is not None and amount_cents > maximum:
            return self.env._("Above the maximum of %s for this plan.",
                              formatLang(self.env, from_cents(maximum), currency_obj=currency))
        return self.env._("Alma does not offer this plan for this amount.")


def _alma_result_key(result):
    """The plan key of an eligibility result: (installments, deferred days, deferred months)."""
    return (int(result.get('installments_count') or 0), int(result.get('deferred_days') or 0),
            int(result.get('deferred_months') or 0))
