"""*Refresh* in an invoice's "Pay with Alma" dialog while Alma's notification arrives (issue 18,
item 5: it once took 5 s). Not a test: a measure, run by scripts/bench_refresh.

For each run: a link is sent for a new invoice, the customer pays on the stand-in's page, which
notifies Odoo at once (IPN), and the bookkeeper presses *Refresh* at that moment. Prints how long
*Refresh* took (p50 / p95 / max over RUNS) and how often Odoo replayed a request after a
concurrency error (its log: "try again in"), which sleeps up to 2, then 4 s.
"""

import json
import os
import statistics
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from alma_standin import StandIn

ODOO = os.environ.get('BENCH_ODOO_URL', 'http://127.0.0.1:8179')
DB = os.environ['BENCH_DB']
RUNS = int(os.environ.get('BENCH_RUNS', 30))


def call(service, method, *args):
    payload = {'jsonrpc': '2.0', 'method': 'call',
               'params': {'service': service, 'method': method, 'args': list(args)}}
    request = urllib.request.Request(f'{ODOO}/jsonrpc', json.dumps(payload).encode(),
                                     {'Content-Type': 'application/json'})
    answer = json.loads(urllib.request.urlopen(request, timeout=60).read())
    if answer.get('error'):
        raise RuntimeError(answer['error']['data']['message'])
    return answer['result']


def rpc(model, method, *args, **kwargs):
    return call('object', 'execute_kw', DB, UID, 'admin', model, method, list(args), kwargs)


def main(standin):
    standin.configure(ipn_delay=0)
    invoice_ids = json.loads(os.environ['BENCH_INVOICES'])[:RUNS]
    plan_id = rpc('payment.alma.plan', 'search', [('installments_count', '=', 3)])[0]
    timings = []
    for invoice_id in invoice_ids:
        wizard_id = rpc('account.move', 'action_alma_pay', [invoice_id])['res_id']
        rpc('alma.payment.wizard', 'write', [wizard_id], {'plan_id': plan_id, 'send_mode': 'link'})
        rpc('alma.payment.wizard', 'action_send_link', [wizard_id])
        alma_id = rpc('alma.payment', 'search_read', [('invoice_id', '=', invoice_id)],
                      fields=['alma_id'], limit=1)[0]['alma_id']
        standin.pay(alma_id)  # Alma notifies Odoo at once, in a thread of the stand-in.
        started = time.perf_counter()
        rpc('alma.payment.wizard', 'action_refresh', [wizard_id])
        timings.append(time.perf_counter() - started)
        time.sleep(0.3)  # The notification ends before the next run.
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)]
    print(f"Refresh while Alma's notification arrives, {len(timings)} runs: "
          f"p50 {statistics.median(timings) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
          f"max {timings[-1] * 1000:.0f} ms")


if __name__ == '__main__':
    UID = call('common', 'login', DB, 'admin', 'admin')
    stand_in = StandIn(port=int(os.environ.get('BENCH_STANDIN_PORT', 8182))).start()
    try:
        main(stand_in)
    finally:
        stand_in.stop()
