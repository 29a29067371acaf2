"""In-memory state: merchants and keys, fee plans, payments, outboxes and switches."""

import threading
import time
from dataclasses import asdict, dataclass, fields

from . import plans


def now() -> int:
    return int(time.time())


@dataclass(frozen=True)
class Merchant:
    id: str  # the stand-in's own key for an account's data (sandbox and live apart)
    name: str
    can_create_payments: bool = True
    account_id: str = ""  # the id `GET /v1/me` answers; `id` when empty

    def as_json(self) -> dict:
        """`GET /v1/me` (alma/alma-php-client src/Entities/Merchant.php: id, name,
        can_create_payments)."""
        return {
            "id": self.account_id or self.id,
            "name": self.name,
            "can_create_payments": self.can_create_payments,
            "country": "FR",
        }


MERCHANTS = {
    merchant.id: merchant
    for merchant in (
        Merchant("merchant_11standinclinic", "Clinique des Lilas (Alma stand-in)"),
        Merchant("merchant_11standinlive", "Clinique des Lilas (Alma stand-in)",
                 account_id="merchant_11standinclinic"),
        Merchant("merchant_11otherstandin", "Other merchant"),
        Merchant("merchant_11otherlive", "Other merchant", account_id="merchant_11otherstandin"),
        Merchant("merchant_11nopayments", "Merchant without payments", can_create_payments=False),
    )
}

# API key -> the stand-in's merchant. Alma's sandbox and live accounts keep their data apart
# ("totalement indépendants": getalma.eu/documentation/api-reference, "Compte Alma et sandbox"),
# so each key sees its own payments here; but both keys of one account answer the same merchant
# id to `GET /v1/me`: Alma's own WooCommerce plugin refuses a test and a live key whose ids
# differ ("Les clés API de test et de production ne proviennent pas du même compte."). Source:
# alma/alma-woocommerce-gateway includes/Application/Entity/Form/KeyConfiguration.php.
API_KEYS = {
    "sk_test_standin": "merchant_11standinclinic",
    "sk_live_standin": "merchant_11standinlive",
    "sk_test_other": "merchant_11otherstandin",
    "sk_live_other": "merchant_11otherlive",
    "sk_test_nopayments": "merchant_11nopayments",
}

# A key works on its own host only: test keys on the sandbox, live keys on the live API; the
# other host answers 401. Alma's clients pick the host from the key's prefix.
# Source: alma/alma-python-client alma_client/credentials/api_key.py (mode from "sk_live"),
# alma_client/client.py (one API root per mode); alma/alma-woocommerce-gateway
# includes/Application/Entity/Form/KeyConfiguration.php (test key checked in TEST mode, live key
# in LIVE mode).
FACES = {"sandbox": "sk_test_", "live": "sk_live_"}


def face_of_key(api_key: str | None) -> str | None:
    key = api_key or ""
    return next((face for face, prefix in FACES.items() if key.startswith(prefix)), None)


@dataclass
class Settings:
    """Switches changed with `StandIn.configure()` or `POST /_standin/config`."""

    sms_enabled: bool = True
    ipn_delay: float = 0.0
    ipn_retries: int = 3
    ipn_retry_delay: float = 0.5
    timeout_seconds: float = 3.0
    # Seconds each API answer waits, a test setting (the stand-in answers in about 1 ms): the
    # add-on's drill and bench measure the add-on with a slower server. `latency_jitter` spreads
    # each wait uniformly over latency ± jitter (never below 0).
    latency: float = 0.0
    latency_jitter: float = 0.0


SETTING_NAMES = tuple(setting.name for setting in fields(Settings))


def check_setting(name: str, value) -> None:
    if name not in SETTING_NAMES:
        raise ValueError(f"unknown setting {name!r} (known: {', '.join(SETTING_NAMES)})")
    if name == "sms_enabled":
        valid = isinstance(value, bool)
    elif name == "ipn_retries":
        valid = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    else:
        valid = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    if not valid:
        raise ValueError(f"invalid value for {name}: {value!r}")


FAILURE_MODES = ("timeout", "disconnect")


@dataclass
class FailRule:
    """The next `times` matching API requests answer `status` instead of the normal answer."""

    status: int | str
    method: str | None = None
    path_prefix: str | None = None
    times: int = 1
    retry_after: int | None = None  # seconds, for a 429 (HTTP's Retry-After header)
    body: dict | None = None  # the JSON answered instead of `{"message": …}`

    def __post_init__(self):
        is_code = isinstance(self.status, int) and not isinstance(self.status, bool)
        if not (is_code and 400 <= self.status <= 599) and self.status not in FAILURE_MODES:
            raise ValueError(f"status must be 400..599, 'timeout' or 'disconnect': {self.status!r}")
        if not isinstance(self.times, int) or self.times < 1:
            raise ValueError(f"times must be a positive integer: {self.times!r}")
        if self.retry_after is not None and (
            not isinstance(self.retry_after, int) or self.retry_after < 0
        ):
            raise ValueError(f"retry_after must be a number of seconds: {self.retry_after!r}")
        if self.body is not None and not isinstance(self.body, dict):
            raise ValueError(f"body must be a JSON object: {self.body!r}")
        if self.method:
            self.method = self.method.upper()

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path_prefix is None or path.startswith(self.path_prefix)
        )


@dataclass
class PaymentMeta:
    """What the API does not show about a payment."""

    merchant_id: str
    api_key: str  # signs the IPN, as Alma signs with the key of the merchant
    merchant_fee: int  # fixed when the payment is created, for the accounting export
    deadline: int = 2**62  # when the link expires (Alma shows `expired_at` only afterwards)
    cancelled: bool = False


@dataclass
class DataExport:
    id: str
    merchant_id: str
    type: str
    start: int
    end: int
    created: int
    complete: bool = False

    def as_json(self) -> dict:
        answer = asdict(self)
        del answer["merchant_id"]
        return answer


class State:
    """Everything the stand-in remembers; `lock` guards every change made by a request."""

    def __init__(self, defaults: dict | None = None):
        for name, value in (defaults or {}).items():
            check_setting(name, value)
        self.defaults = dict(defaults or {})
        self.lock = threading.RLock()
        self.payments: dict[str, dict] = {}
        self.meta: dict[str, PaymentMeta] = {}
        self.exports: dict[str, DataExport] = {}
        self.sms_outbox: list[dict] = []
        self.ipn_log: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.plans: list[dict] = []
        self.fail_rules: list[FailRule] = []
        self.settings = Settings()
        # Bumped by reset(): IPN threads and delayed answers of a previous test see it and give up.
        self.generation = 0
        self.reset()

    def reset(self) -> None:
        with self.lock:
            # Cleared in place: callers may hold references to these containers.
            for container in (self.payments, self.meta, self.exports, self.fail_rules):
                container.clear()
            for log in (self.sms_outbox, self.ipn_log, self.requests):
                log.clear()
            self.plans[:] = plans.default_plans()
            self.settings = Settings(**self.defaults)
            self.generation += 1

    def configure(self, **changes) -> None:
        for name, value in changes.items():
            check_setting(name, value)
        with self.lock:
            for name, value in changes.items():
                setattr(self.settings, name, value)

    def add_failure(self, rule: FailRule) -> None:
        with self.lock:
            self.fail_rules.append(rule)

    def take_failure(self, method: str, path: str) -> FailRule | None:
        """The first rule matching this request, consumed by one use."""
        with self.lock:
            rule = next((rule for rule in self.fail_rules if rule.matches(method, path)), None)
            if rule is not None:
                rule.times -= 1
                if rule.times == 0:
                    self.fail_rules.remove(rule)
            return rule

    def set_plan_limits(self, min_cents: int, max_cents: int) -> None:
        if not (isinstance(min_cents, int) and isinstance(max_cents, int)):
            raise TypeError("limits are integer cents")
        if not 0 < min_cents <= max_cents:
            raise ValueError(f"invalid limits: {min_cents}..{max_cents}")
        with self.lock:
            for plan in self.plans:
                plan.update(min_purchase_amount=min_cents, max_purchase_amount=max_cents)

    def update_plan(self, count: int, days: int, months: int, **changes) -> dict:
        plan = plans.find_plan(self.plans, count, days, months)
        if plan is None:
            raise KeyError(
                f"no plan with {count} installments deferred {days} days/{months} months"
            )
        # The terms identify the plan: changing them would make another plan.
        changeable = set(plan) - {"installments_count", "deferred_days", "deferred_months"}
        refused = sorted(set(changes) - changeable)
        if refused:
            raise ValueError(f"cannot change {', '.join(refused)}")
        with self.lock:
            plan.update(changes)
        return plan

    def merchant_for_key(self, api_key: str | None, face: str = "sandbox") -> Merchant | None:
        """The merchant of a key on this face (host); a key of the other face is unknown."""
        merchant_id = API_KEYS.get(api_key or "")
        if not merchant_id or face_of_key(api_key) != face:
            return None
        return MERCHANTS[merchant_id]

    def add_plan(self, count: int, days: int, months: int, **changes) -> dict:
        """Give the account another plan (deferred by months, say), as Alma sets one up."""
        if plans.find_plan(self.plans, count, days, months) is not None:
            raise ValueError(f"a plan with {count} installments deferred {days}/{months} exists")
        plan = plans.make_plan(count, days, months)
        plan.update(changes)
        with self.lock:
            self.plans.append(plan)
        return plan

    def remove_plan(self, count: int, days: int, months: int) -> None:
        """Take a plan off the account, as when Alma has not set it up for the merchant."""
        plan = plans.find_plan(self.plans, count, days, months)
        if plan is None:
            raise KeyError(f"no plan with {count} installments deferred {days}/{months}")
        with self.lock:
            self.plans.remove(plan)

    def add_payment(self, payment: dict, meta: PaymentMeta) -> None:
        with self.lock:
            self.payments[payment["id"]] = payment
            self.meta[payment["id"]] = meta

    def merchant_of(self, payment_id: str) -> Merchant:
        return MERCHANTS[self.meta[payment_id].merchant_id]

    def expire(self, payment_id: str) -> dict:
        """Put the link's expiry in the past (a test cannot wait 7 days)."""
        with self.lock:
            payment = self.payments[payment_id]
            self.meta[payment_id].deadline = payment["expired_at"] = now() - 1
            return payment
