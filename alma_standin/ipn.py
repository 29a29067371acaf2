"""Instant payment notifications: Alma's `GET <ipn_callback_url>?pid=…`, signed, retried."""

import hashlib
import hmac
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from .state import State, now

# No proxy: the stand-in calls the merchant directly, and a proxy set in the environment for the
# outside world must not swallow calls to localhost.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
TIMEOUT_SECONDS = 10


def signature(api_key: str, payment_id: str) -> str:
    """Hex HMAC-SHA256 of the payment id with the API key, in `X-Alma-Signature`.

    Source: alma/alma-php-client src/Lib/RequestUtils.php (`isHmacValidated`),
    src/Lib/PaymentValidator.php (HEADER_SIGNATURE_KEY). Delays and retries: the stand-in's.
    """
    return hmac.new(api_key.encode(), payment_id.encode(), hashlib.sha256).hexdigest()


def with_pid(url: str, payment_id: str) -> str:
    separator = "&" if urllib.parse.urlsplit(url).query else "?"
    return f"{url}{separator}{urllib.parse.urlencode({'pid': payment_id})}"


def notify(state: State, payment_id: str) -> None:
    """Send the IPN of a state change from a daemon thread (the customer's answer won't wait)."""
    with state.lock:
        callback = state.payments[payment_id].get("ipn_callback_url")
        api_key = state.meta[payment_id].api_key
        settings = state.settings
        generation = state.generation
    if not callback:
        return
    delivery = Delivery(state, generation, payment_id, callback, signature(api_key, payment_id))
    delay, retries, retry_delay = settings.ipn_delay, settings.ipn_retries, settings.ipn_retry_delay
    threading.Thread(
        target=delivery.run, args=(delay, retries, retry_delay), name="alma-ipn", daemon=True
    ).start()


class Delivery:
    def __init__(self, state: State, generation: int, payment_id: str, callback: str, sig: str):
        self.state = state
        self.generation = generation
        self.payment_id = payment_id
        self.url = with_pid(callback, payment_id)
        self.signature = sig

    def run(self, delay: float, retries: int, retry_delay: float) -> None:
        time.sleep(delay)
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(retry_delay)
            if self.state.generation != self.generation:
                return  # the stand-in was reset: this notification belongs to a finished test
            status = self.attempt()
            if status is not None and 200 <= status < 300:
                return

    def attempt(self) -> int | None:
        """One GET; its HTTP status, or None when the merchant could not be reached."""
        request = urllib.request.Request(self.url, headers={"X-Alma-Signature": self.signature})
        try:
            with OPENER.open(request, timeout=TIMEOUT_SECONDS) as answer:
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = None
        with self.state.lock:
            if self.state.generation == self.generation:
                self.state.ipn_log.append(
                    {
                        "payment_id": self.payment_id,
                        "url": self.url,
                        "status": status,
                        "signature": self.signature,
                        "sent_at": now(),
                    }
                )
        return status
