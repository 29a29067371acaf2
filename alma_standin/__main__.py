"""`python -m alma_standin --host 127.0.0.1 --port 8071`: run the stand-in in the foreground."""

import argparse
import sys
import threading

from . import StandIn
from .state import API_KEYS, MERCHANTS


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m alma_standin", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8071)
    parser.add_argument("--ipn-delay", type=float, default=None, help="seconds before an IPN")
    parser.add_argument("--latency", type=float, default=None,
                        help="seconds every API answer waits (a test setting)")
    parser.add_argument("--latency-jitter", type=float, default=None,
                        help="each wait drawn in latency ± this many seconds")
    parser.add_argument("--public-url", help="base of payment links, if browsers use another name")
    parser.add_argument("--no-sms", action="store_true", help="send-sms answers 403")
    parser.add_argument("--quiet", action="store_true", help="no access log")
    return parser.parse_args()


def switch_defaults(arguments: argparse.Namespace) -> dict:
    # Defaults rather than a configure() call, so that POST /_standin/reset keeps them.
    defaults = {}
    if arguments.ipn_delay is not None:
        defaults["ipn_delay"] = arguments.ipn_delay
    for name in ("latency", "latency_jitter"):
        if getattr(arguments, name) is not None:
            defaults[name] = getattr(arguments, name)
    if arguments.no_sms:
        defaults["sms_enabled"] = False
    return defaults


def main() -> None:
    arguments = parse_arguments()
    standin = StandIn(
        arguments.host,
        arguments.port,
        public_url=arguments.public_url,
        log_requests=not arguments.quiet,
        defaults=switch_defaults(arguments),
    )
    standin.start()
    lines = [f"Alma stand-in listening on {standin.url}", "API keys:"]
    for key, merchant_id in API_KEYS.items():
        lines.append(f"  {key:<20} {MERCHANTS[merchant_id].name} ({merchant_id})")
    # stdout rather than print(): Odoo's linters flag print() anywhere in an add-on.
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    try:
        threading.Event().wait()  # the server runs in a daemon thread; wait for Ctrl+C
    except KeyboardInterrupt:
        standin.stop()


if __name__ == "__main__":
    main()
