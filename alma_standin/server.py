"""The stand-in: a werkzeug WSGI app with in-memory state, served from a daemon thread."""

import threading
import urllib.parse
import urllib.request

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request

from . import api, site
from .state import FailRule, State

API_PREFIXES = ("/v1/", "/v2/")
# Alma has two hosts, sandbox (api.sandbox.getalma.eu) and live (api.getalma.eu), each knowing
# only its own keys. The stand-in serves the sandbox at its root and the live API under /live.
# Source: alma/alma-python-client alma_client/client.py (SANDBOX_API_URL, LIVE_API_URL).
LIVE_PREFIX = "/live"
TEST_CARD_ACCEPTED = "4242424242424242"


class App:
    """WSGI entry: the Alma API under /v1 and /v2, the customer side and admin routes elsewhere."""

    def __init__(self, state: State):
        self.state = state
        self.base_url = ""  # known once the server is bound; payment links start with it

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        face = "sandbox"
        if path.startswith(LIVE_PREFIX) and path[len(LIVE_PREFIX) :].startswith(API_PREFIXES):
            face = "live"
            environ = {
                **environ,
                "SCRIPT_NAME": environ.get("SCRIPT_NAME", "") + LIVE_PREFIX,
                "PATH_INFO": path[len(LIVE_PREFIX) :],
            }
        request = Request(environ)
        if request.path.startswith(API_PREFIXES):
            response = api.handle(self.state, self.base_url, request, face)
        else:
            response = site.handle(self.state, request)
        return response(environ, start_response)


class _QuietRequestHandler(WSGIRequestHandler):
    """No access log: the stand-in runs inside Odoo tests, whose logs must stay readable."""

    def log_request(self, *args, **kwargs) -> None:
        pass


class StandIn:
    """A local Alma: `StandIn(port=0).start()`, then point the add-on at `.url`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        public_url: str | None = None,
        log_requests: bool = False,
        defaults: dict | None = None,
    ):
        """`public_url` replaces `.url` in payment links, for browsers that reach it by another
        name; `defaults` overrides the switch values that `reset()` goes back to."""
        self.host = host
        self.port = port
        self._public_url = public_url
        self._log_requests = log_requests
        self._state = State(defaults or {})
        self._app = App(self._state)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> "StandIn":
        handler = WSGIRequestHandler if self._log_requests else _QuietRequestHandler
        self._server = make_server(
            self.host, self.port, self._app, threaded=True, request_handler=handler
        )
        self.port = self._server.server_port
        self._app.base_url = (self._public_url or self.url).rstrip("/")
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="alma-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> "StandIn":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the stand-in is not started")
        # A server bound to every interface is still reached through the loopback.
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}"

    @property
    def live_url(self) -> str:
        """The live face: only `sk_live_` keys are known there (the root is the sandbox)."""
        return self.url + LIVE_PREFIX

    # --- switches -------------------------------------------------------------------------

    def reset(self) -> None:
        self._state.reset()

    def configure(
        self,
        *,
        sms_enabled: bool | None = None,
        ipn_delay: float | None = None,
        ipn_retries: int | None = None,
        ipn_retry_delay: float | None = None,
        timeout_seconds: float | None = None,
        latency: float | None = None,
        latency_jitter: float | None = None,
    ) -> None:
        """Change the given switches only (None leaves one as it is)."""
        changes = {
            "latency": latency,
            "latency_jitter": latency_jitter,
            "sms_enabled": sms_enabled,
            "ipn_delay": ipn_delay,
            "ipn_retries": ipn_retries,
            "ipn_retry_delay": ipn_retry_delay,
            "timeout_seconds": timeout_seconds,
        }
        self._state.configure(
            **{name: value for name, value in changes.items() if value is not None}
        )

    def set_plan_limits(self, min_cents: int, max_cents: int) -> None:
        self._state.set_plan_limits(min_cents, max_cents)

    def update_plan(
        self,
        installments_count: int = 3,
        deferred_days: int = 0,
        deferred_months: int = 0,
        **fields,
    ) -> dict:
        """Change fields of one plan (both kinds), e.g. `update_plan(4, allowed=False)`."""
        return self._state.update_plan(installments_count, deferred_days, deferred_months, **fields)

    def add_plan(
        self,
        installments_count: int,
        deferred_days: int = 0,
        deferred_months: int = 0,
        **fields,
    ) -> dict:
        """Give the account another plan (until `reset()`), e.g. `add_plan(1, deferred_months=1)`:
        the fee plans list it and eligibility answers for it. Alma's fee plans carry
        `deferred_months` (alma/alma-php-client src/Entities/FeePlan.php)."""
        return self._state.add_plan(installments_count, deferred_days, deferred_months, **fields)

    def remove_plan(
        self, installments_count: int, deferred_days: int = 0, deferred_months: int = 0
    ) -> None:
        """Take a plan off the account (until `reset()`): eligibility gives no result for it."""
        self._state.remove_plan(installments_count, deferred_days, deferred_months)

    def fail(
        self,
        status: int | str,
        method: str | None = None,
        path_prefix: str | None = None,
        times: int = 1,
        retry_after: int | None = None,
        body: dict | None = None,
    ) -> None:
        """The next `times` matching API requests answer `status`: 400..599, 'timeout' (sleep
        `timeout_seconds`, then answer normally) or 'disconnect' (close without answering).
        A 429 carries `Retry-After: <retry_after or 0>`; `body` replaces the JSON answered."""
        self._state.add_failure(FailRule(status, method, path_prefix, times, retry_after, body))

    # --- what happened --------------------------------------------------------------------

    @property
    def payments(self) -> dict[str, dict]:
        return self._state.payments

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every /v1 and /v2 request, logged on arrival: before the fail
        switches and before authentication, so failed and unauthorised calls count too."""
        return self._state.requests

    @property
    def sms_outbox(self) -> list[dict]:
        return self._state.sms_outbox

    @property
    def ipn_log(self) -> list[dict]:
        return self._state.ipn_log

    # --- the customer ---------------------------------------------------------------------

    def pay(self, payment_id: str, card: str = TEST_CARD_ACCEPTED) -> dict:
        """Submit the customer page's card form over HTTP, as a browser would."""
        if payment_id not in self.payments:
            raise KeyError(payment_id)
        form = urllib.parse.urlencode({"card_number": card, "pay": "1"}).encode()
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"{self.url}/pay/{payment_id}", data=form, timeout=10) as answer:
            answer.read()
        return self.payments[payment_id]

    def expire(self, payment_id: str) -> dict:
        return self._state.expire(payment_id)
