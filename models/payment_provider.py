from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.utils.alma_client import AlmaClient


class PaymentProvider(models.Model):
    _inherit = 'payment.provider'

    code = fields.Selection(selection_add=[('alma', "Alma")], ondelete={'alma': 'set default'})
    # The keys are read by the server only (sudo), never sent to a browser, not even an
    # administrator's: they are in no view, and the form writes them through the *_input fields.
    alma_api_key_live = fields.Char(
        string="Alma Live API Key (stored)", groups=fields.NO_ACCESS, copy=False,
        help="The key starting with sk_live_, from the Alma dashboard.",
    )
    alma_api_key_test = fields.Char(
        string="Alma Test API Key (stored)", groups=fields.NO_ACCESS, copy=False,
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

    # === BUSINESS METHODS: talking to Alma === #

    def _alma_payment_method(self):
        """The payment method of this provider's transactions."""
        self.ensure_one()
        return self.with_context(active_test=False).payment_method_ids.filtered(
            lambda method: method.code == 'alma')[:1] or self.env.ref('payment.payment_method_alma')

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
