import json
import logging
import time
from datetime import datetime

import pytz

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools.misc import formatLang

from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.utils.alma_client import AlmaClient, AlmaError
from odoo.addons.payment_alma.utils.money import (
    from_cents,
    merchant_fee_estimate,
    net_cents,
    to_cents,
    vat_on,
)

_logger = logging.getLogger(__name__)

# The English name of the add-on's account, by which it is found (its source term).
OUTSTANDING_ACCOUNT_NAME = "Alma Outstanding Receipts"


class PaymentProvider(models.Model):
    _inherit = 'payment.provider'

    code = fields.Selection(selection_add=[('alma', "Alma")], ondelete={'alma': 'set default'})
    # The keys are read by the server only (sudo), never sent to a browser, not even an
    # administrator's: they are in no view, and the form writes them through the *_input fields.
    alma_api_key_live = fields.Char(
        string="Alma Live API Key", groups=fields.NO_ACCESS, copy=False,
        help="The key starting with sk_live_, from the Alma dashboard.",
    )
    alma_api_key_test = fields.Char(
        string="Alma Test API Key", groups=fields.NO_ACCESS, copy=False,
        help="The key starting with sk_test_, from the Alma sandbox dashboard.",
    )
    alma_api_key_live_input = fields.Char(
        string="Alma Live API Key", groups='base.group_system',
        compute='_compute_alma_api_key_inputs', inverse='_inverse_alma_api_key_live_input',
        help="Type the key starting with sk_live_, from the Alma dashboard, to set or replace "
             "it. A saved key is never shown.",
    )
    alma_api_key_test_input = fields.Char(
        string="Alma Test API Key", groups='base.group_system',
        compute='_compute_alma_api_key_inputs', inverse='_inverse_alma_api_key_test_input',
        help="Type the key starting with sk_test_, from the Alma sandbox dashboard, to set or "
             "replace it. A saved key is never shown.",
    )
    alma_api_key_live_hint = fields.Char(
        string="Saved Live Key", groups='base.group_system', compute='_compute_alma_api_key_hints')
    alma_api_key_test_hint = fields.Char(
        string="Saved Test Key", groups='base.group_system', compute='_compute_alma_api_key_hints')
    alma_api_url = fields.Char(
        string="Alma API URL", groups='base.group_system',
        help="Leave empty: each key goes to its own Alma host (sk_test_ keys to the sandbox, "
             "sk_live_ keys to the live API). Set it only to send both keys through a proxy or "
             "to a local Alma stand-in.",
    )
    alma_merchant_id = fields.Char(string="Alma Merchant ID", readonly=True, copy=False)
    alma_sandbox_check_ids = fields.One2many(
        'alma.sandbox.check', 'provider_id', string="Sandbox Check", readonly=True,
        groups='base.group_system')
    alma_merchant_name = fields.Char(string="Alma Merchant", readonly=True, copy=False)
    alma_cash_in_delay = fields.Integer(
        string="Cash-in Delay (days)", default=7,
        help="Days added to the acceptance date to expect Alma's transfer.",
    )
    alma_fee_vat_rate = fields.Float(
        string="VAT on Alma Fees (%)", default=20.0, digits=(5, 2),
        help="Alma's plan rates exclude VAT; this rate is added to the fees the clinic pays.",
    )
    alma_plan_ids = fields.Many2many(
        string="Alma Plans", comodel_name='payment.alma.plan',
        default=lambda self: self.env['payment.alma.plan'].search([]),
        help="The plans offered at the counter, when Alma accepts them for the amount.",
    )
    alma_fee_account_id = fields.Many2one(
        'account.account', string="Alma Fees Account", check_company=True,
        help="Expense account of Alma's fees (627800 in the French chart). Empty: found by code, "
             "else the company's expense account.",
    )
    alma_fee_vat_account_id = fields.Many2one(
        'account.account', string="Deductible VAT Account", check_company=True,
        help="Account of the VAT on Alma's fees (44566 in the French chart). Empty: found by "
             "code, else the account of the company's default purchase tax.",
    )
    alma_origin = fields.Char(
        string="In-store Origin", default=const.DEFAULT_ORIGIN, required_if_provider='alma',
        help="The `origin` sent to Alma for in-store payments. Alma applies its in-store (pos) "
             "fee plans to origins starting with pos_; change it only if Alma asks.",
    )

    # === COMPUTE METHODS === #

    def _compute_alma_api_key_inputs(self):
        """A key's field is only for typing a new one: it always starts empty."""
        self.alma_api_key_live_input = self.alma_api_key_test_input = False

    def _inverse_alma_api_key_live_input(self):
        self._alma_save_api_key('live')

    def _inverse_alma_api_key_test_input(self):
        self._alma_save_api_key('test')

    def _alma_save_api_key(self, kind):
        """Save the key typed in the form; an empty field keeps the saved key."""
        input_name = f'alma_api_key_{kind}_input'
        for provider in self:
            key = (provider[input_name] or '').strip()
            if key:
                # sudo: the saved keys are the server's only; the input field is for
                # administrators only (its groups).
                provider.sudo()[f'alma_api_key_{kind}'] = key
            provider.invalidate_recordset([input_name])  # Not even sent back to the browser.

    @api.depends('alma_api_key_live', 'alma_api_key_test')
    def _compute_alma_api_key_hints(self):
        """Whether a key is saved, shown by its prefix only (sk_test_…), never by its value."""
        for provider in self:
            # sudo: the prefix only of the keys leaves the server.
            saved = provider.sudo()
            provider.alma_api_key_live_hint = self._alma_key_hint(saved.alma_api_key_live)
            provider.alma_api_key_test_hint = self._alma_key_hint(saved.alma_api_key_test)

    def _alma_key_hint(self, key):
        if not key:
            return False
        prefix = next((prefix for prefix in (const.LIVE_KEY_PREFIX, const.TEST_KEY_PREFIX)
                       if key.startswith(prefix)), '')
        return self.env._("%(prefix)s… (saved)", prefix=prefix)

    # === CONSTRAINTS === #

    @api.constrains('alma_api_key_live', 'alma_api_key_test')
    def _check_alma_api_key_prefix(self):
        for provider in self.sudo().filtered(lambda p: p.code == 'alma'):
            live, test = provider.alma_api_key_live, provider.alma_api_key_test
            if live and not live.strip().startswith(const.LIVE_KEY_PREFIX):
                raise ValidationError(self.env._(
                    "The live API key must start with %s.", const.LIVE_KEY_PREFIX))
            if test and not test.strip().startswith(const.TEST_KEY_PREFIX):
                raise ValidationError(self.env._(
                    "The test API key must start with %s.", const.TEST_KEY_PREFIX))

    @api.constrains('alma_origin')
    def _check_alma_origin(self):
        for provider in self.filtered(lambda p: p.code == 'alma' and p.alma_origin):
            if not provider.alma_origin.strip().startswith(const.IN_STORE_ORIGIN_PREFIX):
                raise ValidationError(self.env._(
                    "The in-store origin must start with %s: Alma applies its in-store fee plans "
                    "only to such origins.", const.IN_STORE_ORIGIN_PREFIX))

    @api.constrains('alma_cash_in_delay', 'alma_fee_vat_rate')
    def _check_alma_numbers(self):
        for provider in self.filtered(lambda p: p.code == 'alma'):
            if provider.alma_cash_in_delay < 0:
                raise ValidationError(self.env._("The cash-in delay cannot be negative."))
            if not 0 <= provider.alma_fee_vat_rate < 100:
                raise ValidationError(self.env._("The VAT rate must be between 0 and 100 %."))

    # === CRUD === #

    def write(self, vals):
        """Override of `payment` to forget the cached fee plans when the account changes."""
        res = super().write(vals)
        if {'alma_api_key_live', 'alma_api_key_test', 'alma_api_url', 'state'} & set(vals):
            self._alma_clear_fee_plans_cache()
        return res

    # === BUSINESS METHODS: the payment form === #

    @api.model
    def _get_compatible_providers(
        self, company_id, partner_id, amount, currency_id=None, force_tokenization=False,
        is_express_checkout=False, is_validation=False, report=None, **kwargs
    ):
        """Override of `payment` to list Alma only when one of its plans takes the amount.

        Alma has no validation operation; an amount no enabled plan accepts (or Alma not
        answering) hides Alma rather than failing after the customer chose it.
        """
        providers = super()._get_compatible_providers(
            company_id, partner_id, amount, currency_id=currency_id,
            force_tokenization=force_tokenization, is_express_checkout=is_express_checkout,
            is_validation=is_validation, report=report, **kwargs,
        )
        currency = self.env['res.currency'].browse(currency_id).exists()
        unavailable = providers.filtered(lambda p: p.code == 'alma' and (
            is_validation or not amount or not currency or not p._alma_web_offers(amount, currency)
        ))
        payment_utils.add_to_report(
            report, unavailable, available=False,
            reason=self.env._("No Alma plan is offered for this amount."),
        )
        return providers - unavailable

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

    # === BUSINESS METHODS: setup === #

    def _compute_feature_support_fields(self):  # pylint: disable=missing-return
        """Override of `payment` to refund Alma payments in full or in part."""
        super()._compute_feature_support_fields()
        self.filtered(lambda provider: provider.code == 'alma').support_refund = 'partial'

    def _get_supported_currencies(self):
        """Override of `payment` to restrict Alma to the euro, its only currency."""
        supported_currencies = super()._get_supported_currencies()
        if self.code != 'alma':
            return supported_currencies
        return supported_currencies.filtered(lambda c: c.name in const.SUPPORTED_CURRENCIES)

    def _get_default_payment_method_codes(self):
        """Override of `payment` to link Odoo's existing Alma payment method."""
        default_codes = super()._get_default_payment_method_codes()
        if self.code != 'alma':
            return default_codes
        return const.DEFAULT_PAYMENT_METHOD_CODES

    def _alma_ensure_journal(self):
        """Give each Alma provider its own bank journal with its own outstanding receipts account.

        Alma pays out grouped transfers, net of its fees: keeping its receipts apart lets the
        bookkeeper reconcile each transfer with exactly the Alma payments it settles.
        """
        for provider in self.filtered(lambda p: p.code == 'alma'):
            company = provider.company_id
            if not company.chart_template:
                continue  # No chart of accounts yet: nothing to post into.
            Journal = self.env['account.journal'].with_company(company)
            journal = Journal.search([
                *Journal._check_company_domain(company), ('code', '=', 'ALMA'),
            ], limit=1) or Journal.create({
                'name': "Alma",
                'code': 'ALMA',
                'type': 'bank',
                'company_id': company.id,
            })
            provider.journal_id = journal
            outstanding = provider._alma_outstanding_account()
            journal.inbound_payment_method_line_ids.filtered(
                lambda line, p=provider: line.payment_provider_id == p
            ).payment_account_id = outstanding

    def _alma_pos_method_values(self):
        self.ensure_one()
        return {
            'name': "Alma",
            'payment_method_type': 'terminal',
            'use_payment_terminal': 'alma',
            'alma_provider_id': self.id,
            'journal_id': self.journal_id.id,
            'outstanding_account_id': self._alma_outstanding_account().id,
            'company_id': self.company_id.id,
        }

    def _alma_fee_accounts(self):
        """Return the (fee expense, deductible VAT) accounts: configured, French, or generic."""
        self.ensure_one()
        Account = self.env['account.account'].with_company(self.company_id)
        domain = Account._check_company_domain(self.company_id)
        # 627800 "Autres frais et commissions sur prestations de services" is where a French
        # accountant books a payment service's commissions (627100 is for securities).
        fee = self.alma_fee_account_id or Account.search(
            [*domain, ('code', '=like', '6278%')], limit=1) or Account.search(
            [*domain, ('code', '=like', '627%')], limit=1) or Account.search(
            [*domain, ('account_type', '=', 'expense')], limit=1)
        purchase_tax = self.company_id.account_purchase_tax_id
        vat = self.alma_fee_vat_account_id or Account.search(
            [*domain, ('code', '=like', '44566%')], limit=1) or (
            purchase_tax.invoice_repartition_line_ids.filtered(
                lambda line: line.repartition_type == 'tax').account_id[:1])
        return fee, vat

    def _alma_outstanding_account(self):
        """The add-on's account of Alma's receipts not paid out yet, named in every installed
        language (see `_alma_name_outstanding_account`)."""
        self.ensure_one()
        # Found by its English name, the source of its translations, whatever the reader's
        # language: searched in French, a translated name would not match and a twin be made.
        Account = self.env['account.account'].with_company(self.company_id).with_context(
            lang='en_US')
        account = Account.search([
            *Account._check_company_domain(self.company_id),
            ('name', '=', OUTSTANDING_ACCOUNT_NAME),
        ], limit=1)
        if not account:
            chart = self.env['account.chart.template'].with_company(self.company_id)
            receipts = chart.ref('account_journal_payment_debit_account_id',
                                 raise_if_not_found=False)
            start_code = receipts.code if receipts else '101400'
            account = Account.create({
                'name': OUTSTANDING_ACCOUNT_NAME,
                'code': Account._search_new_account_code(start_code),
                'account_type': 'asset_current',
                'reconcile': True,
            })
        self._alma_name_outstanding_account(account)
        return account.with_env(self.env).with_company(self.company_id)

    def _alma_name_outstanding_account(self, account):
        """Give the account its name in each installed language where it still has the English
        one: made before French was installed, or by an earlier version, it reads French too.
        A name the bookkeeper changed is left alone."""
        translations = {}
        for code, _name in self.env['res.lang'].get_installed():
            if code == 'en_US':
                continue
            translated = self.with_context(lang=code).env._("Alma Outstanding Receipts")
            if translated != OUTSTANDING_ACCOUNT_NAME \
                    and account.with_context(lang=code).name == OUTSTANDING_ACCOUNT_NAME:
                translations[code] = translated
        if translations:
            # sudo: whoever books Alma's money (a cashier closing the till, an invoicing user)
            # may not write accounts; only the add-on's own account is renamed, once.
            account.sudo().update_field_translations('name', translations)

    # === BUSINESS METHODS: talking to Alma === #

    def _alma_get_api_url(self, api_key=None):
        """Return the host of a key (of the state's key by default): a key works on its own host.

        Alma's own client picks the host from the key's prefix (sk_live_ -> live, else sandbox);
        a set API URL (a proxy, a stand-in) receives both keys.
        """
        self.ensure_one()
        url = self.sudo().alma_api_url
        if url:
            return url.strip()
        key = api_key if api_key is not None else self.sudo()._alma_api_key_of_state()
        if key:
            return const.API_URL_LIVE if key.startswith(const.LIVE_KEY_PREFIX) \
                else const.API_URL_TEST
        return const.API_URL_LIVE if self.state == 'enabled' else const.API_URL_TEST

    def _alma_get_api_key(self, mode=None):
        """Return the key of the provider's state (or of `mode`, 'test' or 'live': the account
        a payment was made on); only the server ever reads it. A disabled provider uses none."""
        self.ensure_one()
        if self.state == 'disabled':
            raise UserError(self.env._(
                "Alma is disabled: an administrator must enable it (test or live) before it is "
                "used again."))
        key = self.sudo()._alma_api_key_of_state(mode)
        if not key:
            raise UserError(self.env._(
                "The Alma provider has no %s API key. An administrator must set it in "
                "Accounting › Configuration › Payment Providers › Alma.",
                self.env._("live") if (mode or self._alma_mode()) == 'live'
                else self.env._("test"),
            ))
        return key

    def _alma_mode(self):
        """The Alma account of the provider's state: 'live' (enabled) or 'test'."""
        self.ensure_one()
        return 'live' if self.state == 'enabled' else 'test'

    def _alma_api_key_of_state(self, mode=None):
        """The key of the provider's state (or of `mode`), or '' (no error: for checking
        signatures); '' while the provider is disabled: no key is used then."""
        self.ensure_one()
        if self.state == 'disabled':
            return ''
        mode = mode or self._alma_mode()
        key = self.alma_api_key_live if mode == 'live' else self.alma_api_key_test
        return (key or '').strip()

    def _alma_client(self, api_key=None, mode=None):
        """A client of the provider's Alma account (or of `mode`'s). On the public path (the
        context's `alma_fail_fast`: the payment form, the customer's pages), a failure is said
        at once: no retry, no wait on Alma's Retry-After."""
        self.ensure_one()
        api_key = api_key or self._alma_get_api_key(mode)
        retries = 0 if self.env.context.get('alma_fail_fast') else const.READ_RETRIES
        return AlmaClient(self.env, self._alma_get_api_url(api_key), api_key, retries=retries)

    def action_alma_check_connection(self):
        """Ask Alma, on each key's own host, who owns the keys; store the merchant of the state.

        A test and a live key of two Alma accounts are refused (see `_alma_check_one_merchant`).
        """
        self.ensure_one()
        if not self.env.user.has_group('base.group_system'):
            raise AccessError(self.env._("Only administrators can check the Alma keys."))
        # sudo: the keys are readable by administrators only, checked just above.
        provider = self.sudo()
        keys = {kind: (key or '').strip() for kind, key in (
            ('test', provider.alma_api_key_test), ('live', provider.alma_api_key_live))}
        keys = {kind: key for kind, key in keys.items() if key}
        if not keys:
            raise UserError(self.env._("Enter a test or live API key first."))
        merchants = {kind: self._alma_client(api_key=key).get_merchant()
                     for kind, key in keys.items()}
        self._alma_check_one_merchant(merchants)
        state_kind = 'live' if self.state == 'enabled' else 'test'
        merchant = merchants.get(state_kind) or next(iter(merchants.values()))
        self.write({
            'alma_merchant_id': merchant.get('id'),
            'alma_merchant_name': merchant.get('name'),
        })
        if not self.journal_id:
            self._alma_ensure_journal()
        messages = [self.env._("Connected to Alma as %s.", merchant.get('name'))]
        warnings = []
        if merchant.get('can_create_payments') is False:
            warnings.append(self.env._(
                "This account cannot create payments yet: finish its activation with Alma."))
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'warning' if warnings else 'success',
                'message': ' '.join(messages + warnings),
                'sticky': bool(warnings),
                'next': {'type': 'ir.actions.act_window_close'},
            },
        }

    def action_alma_sandbox_check(self):
        """Check against the merchant's own Alma sandbox what no public text settles (test key
        only); the dated lines replace the previous check's."""
        self.ensure_one()
        if not self.env.user.has_group('base.group_system'):
            raise AccessError(self.env._("Only administrators can check Alma's sandbox."))
        previous = self.sudo().alma_sandbox_check_ids  # sudo: read-only lines, an admin.
        lines = self.env['alma.sandbox.check']._alma_run(self)
        previous.unlink()
        different = lines.filtered(lambda line: line.result == 'different')
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'warning' if different else 'success',
                'message': self.env._(
                    "Alma's sandbox checked: %(confirmed)s confirmed, %(different)s different, "
                    "%(untested)s not tested.",
                    confirmed=len(lines.filtered(lambda line: line.result == 'confirmed')),
                    different=len(different),
                    untested=len(lines.filtered(lambda line: line.result == 'not_tested'))),
                'sticky': bool(different),
                'next': {'type': 'ir.actions.client', 'tag': 'soft_reload'},
            },
        }

    def action_alma_clear_api_key(self):
        """Forget the saved key the button's context names ('test' or 'live'): a key is never
        shown, so it cannot be erased in its field."""
        self.ensure_one()
        if not self.env.user.has_group('base.group_system'):
            raise AccessError(self.env._("Only administrators can change the Alma keys."))
        kind = self.env.context.get('alma_key')
        if kind not in ('test', 'live'):
            raise UserError(self.env._("Which Alma key should be removed?"))
        # sudo: the saved keys are the server's only; an administrator, checked just above.
        self.sudo().write({f'alma_api_key_{kind}': False})
        return True

    def _alma_check_one_merchant(self, merchants):
        """Refuse a test key and a live key of two Alma accounts, as Alma's own WooCommerce
        plugin does: both keys of one account answer the same merchant `id` to `GET /v1/me`.

        Source: alma/alma-woocommerce-gateway includes/Application/Entity/Form/
        KeyConfiguration.php ("Les clés API de test et de production ne proviennent pas du
        même compte.").
        """
        if len(merchants) < 2:
            return
        test, live = merchants['test'], merchants['live']
        if test.get('id') != live.get('id'):
            raise UserError(self.env._(
                "The test key and the live key do not come from the same Alma account (test: "
                "%(test)s, %(test_id)s; live: %(live)s, %(live_id)s). Copy both keys from "
                "the same account in the Alma dashboard (Settings › API keys).",
                test=test.get('name'), test_id=test.get('id'), live=live.get('name'),
                live_id=live.get('id')))

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
        """Return the offer of one plan from Alma's eligibility `result` (None: no result).

        The customer pays the purchase amount plus Alma's `customer_total_cost_amount`, the
        whole cost of the credit (fees and interest); the schedule adds up to that total. With
        `fees_offered` (asked with `merchant_covers_all_fees`) Alma charges the customer no fee:
        the clinic's fee is estimated with the plan's merchant and customer rates
        (`merchant_fee_estimate`), until the payment gives Alma's own (`merchant_target_fee`).
        """
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
        customer_fee = int(result.get('customer_fee') or 0)
        merchant_fee, covered_fee = merchant_fee_estimate(amount_cents, fee_plan, fees_offered)
        merchant_fee_vat = vat_on(merchant_fee, self.alma_fee_vat_rate)
        paris = pytz.timezone('Europe/Paris')
        interest = 0
        for installment in result.get('payment_plan') or []:
            total = installment.get('total_amount')
            if total is None:
                total = sum(int(installment.get(key) or 0) for key in (
                    'purchase_amount', 'customer_fee', 'customer_interest'))
            interest += int(installment.get('customer_interest') or 0)
            offer['schedule'].append({
                'date': datetime.fromtimestamp(installment['due_date'], tz=paris).date(),
                'amount_cents': int(total),
                'amount': from_cents(total),
            })
        total_cost = result.get('customer_total_cost_amount')
        total_cost = int(total_cost) if total_cost is not None else customer_fee + interest
        rate = result.get('annual_interest_rate')
        offer.update({
            'customer_fee_cents': customer_fee,
            'customer_interest_cents': max(total_cost - customer_fee, 0),
            'customer_total_cost_cents': total_cost,
            'customer_total_cents': amount_cents + total_cost,
            # Alma gives the rate in basis points (100 = 1 %); None when it gives none.
            'annual_interest_rate': rate / 100 if isinstance(rate, int | float) else None,
            'absorbed_fee_cents': covered_fee,
            'merchant_fee_cents': merchant_fee,
            'merchant_fee_vat_cents': merchant_fee_vat,
            'merchant_fee_total_cents': merchant_fee + merchant_fee_vat,
            'clinic_fee_total_cents': merchant_fee + merchant_fee_vat,
            'net_cents': net_cents(amount_cents, merchant_fee, merchant_fee_vat),
        })
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
