import csv
import io
import logging
import random
import time
import uuid

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.payment_alma import const
from odoo.addons.payment_alma.utils.alma_client import AlmaClient, AlmaError
from odoo.addons.payment_alma.wizards.alma_fee_import import COLUMNS, REQUIRED, _label_key

_logger = logging.getLogger(__name__)

RESULTS = [('confirmed', "Confirmed"), ('different', "Different"), ('not_tested', "Not tested")]


class AlmaSandboxCheck(models.Model):
    """One behaviour the add-on relies on but no public text settles, as the merchant's own
    Alma sandbox answered it (issue 20): confirmed, different (with what Alma answered) or not
    tested (with why). The provider's *Check against Alma's sandbox* writes them."""

    _name = 'alma.sandbox.check'
    _description = "Alma Sandbox Check"
    _order = 'checked_on desc, sequence, id'

    provider_id = fields.Many2one('payment.provider', required=True, readonly=True,
                                  ondelete='cascade', index=True)
    checked_on = fields.Datetime(required=True, readonly=True)
    sequence = fields.Integer(readonly=True)
    code = fields.Char(readonly=True, help="The behaviour's code, for the README's table.")
    behaviour = fields.Char(required=True, readonly=True)
    result = fields.Selection(RESULTS, required=True, readonly=True)
    detail = fields.Char(readonly=True, help="What Alma answered, or why it was not tested.")

    @api.model
    def _alma_run(self, provider):
        """Run the check on `provider`'s test key and record its lines; return them.

        Only the test key (sk_test_) is sent, to Alma's sandbox; the one payment created is for
        an obviously fictitious customer and is cancelled at once.
        """
        if not self.env.user.has_group('base.group_system'):
            raise AccessError(self.env._("Only administrators can check Alma's sandbox."))
        # sudo: the keys are the server's only; an administrator, checked just above.
        api_key = (provider.sudo().alma_api_key_test or '').strip()
        if not api_key.startswith(const.TEST_KEY_PREFIX):
            raise UserError(self.env._(
                "Enter the test API key (sk_test_…) first: the check runs on Alma's sandbox "
                "only, never with the live key."))
        run = _SandboxRun(provider, api_key)
        run.check_all()
        checked_on = fields.Datetime.now()
        # sudo: the check's lines are read-only for everyone; an administrator ran it.
        return self.sudo().create([
            {'provider_id': provider.id, 'checked_on': checked_on, 'sequence': index,
             'code': code, 'behaviour': behaviour, 'result': result, 'detail': detail or False}
            for index, (code, behaviour, result, detail) in enumerate(run.lines)
        ])


class _SandboxRun:
    """The scripted conversation with the sandbox: each step records one line and never stops
    the others."""

    def __init__(self, provider, api_key):
        self.provider = provider
        self.env = provider.env
        self.api_key = api_key
        self.sandbox_url = provider._alma_get_api_url(api_key)
        self.client = AlmaClient(self.env, self.sandbox_url, api_key, retries=0)
        self.lines = []

    def note(self, code, behaviour, result, detail=''):
        self.lines.append((code, behaviour, result, detail))

    def step(self, code, behaviour, check):
        """Run `check()`, which returns (result, detail); an error of Alma's is *different*."""
        try:
            result, detail = check()
        except AlmaError as error:
            result, detail = 'different', error.args[0]
        self.note(code, behaviour, result, detail)

    def check_all(self):
        env = self.env
        steps = [
            ('host', env._("A test key is refused (401) on the live host"), self.check_host),
            ('me', env._("GET /v1/me gives id, name and can_create_payments"), self.check_me),
            ('fee_plans_pos', env._("Fee plans of the in-store kind (kind=pos)"),
             self.check_fee_plans),
            ('eligibility_keyed', env._("Eligibility results keyed by plan, whatever the order "
                                        "of the queries"), self.check_keyed),
            ('origin_pos', env._("The in-store origin (%s) is accepted",
                                 self.provider.alma_origin), self.check_origin),
            ('covers_all_fees', env._("merchant_covers_all_fees: the customer pays no fee"),
             self.check_covers),
        ]
        for code, behaviour, check in steps:
            self.step(code, behaviour, check)
        self.check_payment()
        self.step('list', env._("The list of payments with state and limit"), self.check_list)
        self.note('send_sms', env._("Alma texts the link (send-sms)"), 'not_tested',
                  env._("Not sent: a sandbox may text a real phone number."))
        self.step('data_export', env._("The accounting export's columns and units"),
                  self.check_data_export)
        self.note('ipn', env._("The notification's signature (IPN)"), 'not_tested',
                  env._("Alma's sandbox cannot be made to call this server from the check."))

    # === The steps === #

    def check_host(self):
        if self.provider.sudo().alma_api_url:
            return 'not_tested', self.env._("An Alma API URL is set: both keys go there.")
        live = AlmaClient(self.env, const.API_URL_LIVE, self.api_key, retries=0)
        try:
            live.get_merchant()
        except AlmaError as error:
            if error.kind == 'auth':
                return 'confirmed', ''
            return 'different', error.args[0]
        return 'different', self.env._("The live host accepted the test key.")

    def check_me(self):
        merchant = self.client.get_merchant()
        missing = [key for key in ('id', 'name', 'can_create_payments') if key not in merchant]
        if missing:
            return 'different', self.env._("Missing: %s", ', '.join(missing))
        return 'confirmed', f"{merchant['id']} · {merchant['name']}"

    def check_fee_plans(self):
        answer = self.client.get_fee_plans(kind=const.FEE_PLAN_KIND)
        fee_plans = answer.get('data', []) if isinstance(answer, dict) else answer or []
        kinds = {plan.get('kind') for plan in fee_plans}
        if fee_plans and kinds == {const.FEE_PLAN_KIND}:
            return 'confirmed', self.env._("%s plans", len(fee_plans))
        return 'different', self.env._("Kinds answered: %s", ', '.join(map(str, kinds)) or '—')

    def queries(self):
        return [plan._alma_query() for plan in self.provider.alma_plan_ids]

    def check_keyed(self):
        queries = self.queries()
        random.shuffle(queries)
        answer = self.client.check_eligibility(10000, queries, origin=self.provider.alma_origin)
        asked = {(q['installments_count'], q.get('deferred_days') or 0,
                  q.get('deferred_months') or 0) for q in queries}
        keys = [(result.get('installments_count'), result.get('deferred_days') or 0,
                 result.get('deferred_months') or 0) for result in answer or []]
        if all(key in asked for key in keys) and len(set(keys)) == len(keys):
            return 'confirmed', self.env._("%(answered)s results for %(asked)s plans asked",
                                           answered=len(keys), asked=len(asked))
        return 'different', self.env._("Results answered: %s", keys)

    def check_origin(self):
        answer = self.client.check_eligibility(10000, self.queries(),
                                               origin=self.provider.alma_origin)
        return 'confirmed', self.env._("%s results", len(answer or []))

    def check_covers(self):
        with_fees = [q for q in self.queries() if q['installments_count'] == 4] \
            or self.queries()
        answer = self.client.check_eligibility(39900, with_fees, origin=self.provider.alma_origin,
                                               merchant_covers_all_fees=True)
        fees = [int(result.get('customer_fee') or 0) for result in answer or []
                if result.get('eligible')]
        if not fees:
            return 'not_tested', self.env._("No plan eligible for 399 €.")
        if any(fees):
            return 'different', self.env._("Customer fees answered: %s", fees)
        return 'confirmed', ''

    def check_payment(self):
        """Create one payment for a fictitious customer, read it, cancel it."""
        plan = self.provider.alma_plan_ids.filtered(
            lambda p: not p.deferred_days and not p.deferred_months)[:1] \
            or self.provider.alma_plan_ids[:1]
        payload = {
            'payment': {
                'purchase_amount': 10000, 'installments_count': plan.installments_count,
                'deferred_days': plan.deferred_days, 'origin': self.provider.alma_origin,
                'custom_data': {'odoo_sandbox_check': str(uuid.uuid4())},
            },
            'customer': {'first_name': "Test", 'last_name': "Odoo sandbox check",
                         'email': 'sandbox-check@example.com'},
        }
        try:
            payment = self.client.create_payment(payload)
        except AlmaError as error:
            for code, behaviour in (('expired_at', self.env._("A fresh payment has no expired_at")),
                                    ('fee_fields', self.env._("The fee fields of a payment")),
                                    ('cancel', self.env._("PUT …/cancel cancels a payment"))):
                self.note(code, behaviour, 'not_tested',
                          self.env._("The check's payment was refused: %s", error.args[0]))
            return
        self.note('expired_at', self.env._("A fresh payment has no expired_at"),
                  'confirmed' if payment.get('expired_at') is None else 'different',
                  '' if payment.get('expired_at') is None else str(payment['expired_at']))
        self.note('fee_fields', self.env._("The fee fields of a payment"),
                  *self.fee_fields(payment))
        self.step('cancel', self.env._("PUT …/cancel cancels a payment"),
                  lambda: self.cancel(payment['id']))

    def fee_fields(self, payment):
        """`fees.merchant` splits the fee and its VAT, and `merchant_target_fee` is its total
        (alma/alma-php-client, feature/3.0, tests/Unit/Infrastructure/Endpoint/Entity/
        PaymentTest.php): what "Frais Alma" reads."""
        fees = payment.get('fees') if isinstance(payment.get('fees'), dict) else {}
        merchant = fees.get('merchant') if isinstance(fees.get('merchant'), dict) else {}
        parts = [merchant.get(key) for key in ('total_excluding_tax', 'tax', 'total')]
        target = payment.get('merchant_target_fee')
        if not all(isinstance(part, int) for part in parts):
            return 'different', self.env._(
                "No fees.merchant on the payment (merchant_target_fee: %s): the VAT is worked "
                "out at the settings' rate.", target if target is not None else '—')
        excluding_tax, tax, total = parts
        if excluding_tax + tax != total or target not in (None, total):
            return 'different', self.env._(
                "fees.merchant %(excluding_tax)s + %(tax)s = %(total)s, merchant_target_fee "
                "%(target)s", excluding_tax=excluding_tax, tax=tax, total=total, target=target)
        return 'confirmed', self.env._(
            "fees.merchant %(excluding_tax)s + %(tax)s = %(total)s = merchant_target_fee",
            excluding_tax=excluding_tax, tax=tax, total=total)

    def check_data_export(self):
        """Ask the accounting export of the last 31 days, read it once, and find in its header
        the columns "Frais Alma"'s import reads; the units show only on lines."""
        end = int(time.time())
        export = self.client.create_data_export('accounting', end - 31 * 86400, end)
        export = self.client.get_data_export(export['id'])
        if not export.get('complete'):
            return 'not_tested', self.env._(
                "Export %s asked; Alma prepares it later: import it in \"Frais Alma\" to "
                "compare.", export.get('id'))
        content = self.client.download_data_export(export['id'])
        table = list(csv.reader(io.StringIO(content.decode('utf-8-sig'))))
        header = table[0] if table else []
        labels = {_label_key(label) for label in header}
        found = [name for name, keys in COLUMNS.items() if labels & set(keys)]
        if not set(REQUIRED) <= set(found):
            return 'different', self.env._("Columns: %s", ', '.join(header) or '—')
        importer = self.env['alma.fee.import']
        rows = [row for row in table[1:] if any(cell.strip() for cell in row)]
        fee_index = next(index for index, label in enumerate(header)
                         if _label_key(label) in COLUMNS['fee'])
        unit = importer._alma_column_unit(header[fee_index], [
            row[fee_index] for row in rows if len(row) > fee_index]) if rows else None
        units = {'cents': self.env._("cents"), 'euros': self.env._("euros")}
        return 'confirmed', self.env._(
            "Columns: %(columns)s; fees in %(unit)s", columns=', '.join(header),
            unit=units.get(unit) or self.env._("(no line to tell the unit)"))

    def cancel(self, alma_id):
        self.client.cancel_payment(alma_id)
        return 'confirmed', alma_id

    def check_list(self):
        answer = self.client.list_payments(states=('not_started',), limit=const.LIST_LIMIT)
        if isinstance(answer, dict) and isinstance(answer.get('data'), list):
            return 'confirmed', self.env._("%s payments listed", len(answer['data']))
        return 'different', self.env._("The answer has no list of payments (data).")
