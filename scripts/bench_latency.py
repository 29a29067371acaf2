"""The till's figures at each Alma latency, side by side (run by scripts/bench).

For each latency (BENCH_LATENCIES, ms, default "0,150"; a test setting of the stand-in, not a
figure of Alma's): the Alma dialog opening (`alma_get_offers`), the send (`alma_send`), and
from Alma accepting a payment to the till being told. With Alma's notification (IPN): the
stand-in calls Odoo, Odoo re-reads the payment and notifies the till through the bus. With
polling only (no IPN): the till asks every 3 s. "Told" is the moment the bus message for the
till exists (IPN), or the till's poll answers "accepted" (polling). p50 and p95 over 20 each.
Prints the environment and the table's header; scripts/bench_server.py prints the cron's and
"Frais Alma"'s rows under it.
"""

import json
import os
import statistics
import sys
import threading
import time
import urllib.request
import uuid

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import machine  # scripts/, this script's folder

from alma_standin import StandIn

ODOO = os.environ.get('BENCH_ODOO_URL', 'http://127.0.0.1:8169')
DB = os.environ['BENCH_DB']
POS_POLL_SECONDS = 3
RUNS = 20
LATENCIES = [int(ms) for ms in os.environ.get('BENCH_LATENCIES', '0,150').split(',')]
LABEL_WIDTH = 50


def rpc(model, method, *args):
    payload = {'jsonrpc': '2.0', 'method': 'call', 'params': {
        'service': 'object', 'method': 'execute_kw',
        'args': [DB, UID, 'admin', model, method, list(args)]}}
    request = urllib.request.Request(f'{ODOO}/jsonrpc', json.dumps(payload).encode(),
                                     {'Content-Type': 'application/json'})
    answer = json.loads(urllib.request.urlopen(request, timeout=30).read())
    if answer.get('error'):
        raise RuntimeError(answer['error']['data']['message'])
    return answer['result']


def login():
    payload = {'jsonrpc': '2.0', 'method': 'call', 'params': {
        'service': 'common', 'method': 'login', 'args': [DB, 'admin', 'admin']}}
    request = urllib.request.Request(f'{ODOO}/jsonrpc', json.dumps(payload).encode(),
                                     {'Content-Type': 'application/json'})
    return json.loads(urllib.request.urlopen(request, timeout=30).read())['result']


def send(method_id, partner_id, plan_id, timings=None):
    line_uuid = str(uuid.uuid4())
    started = time.perf_counter()
    answer = rpc('pos.payment.method', 'alma_send', [method_id], {
        'pos_payment_uuid': line_uuid, 'pos_order_uuid': str(uuid.uuid4()),
        'amount': 399.0, 'plan_id': plan_id,
        'contact_id': partner_id, 'partner_id': partner_id, 'send_mode': 'link'})
    if answer.get('error'):
        raise RuntimeError(answer['error'])
    if timings is not None:
        timings.append(time.perf_counter() - started)
    return line_uuid, answer['payment']['alma_id']


def bus_has_accepted(cursor, line_uuid):
    """The till's bus message: the line's uuid and its state, nothing else."""
    cursor.execute("SELECT 1 FROM bus_bus WHERE message LIKE %s AND message ~ %s",
                   [f'%{line_uuid}%', '"state": ?"accepted"'])
    return cursor.fetchone() is not None


def p50_p95(samples):
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, round(0.95 * len(samples)) - 1)]
    return f"{statistics.median(samples) * 1000:.0f} / {p95 * 1000:.0f} ms"


def row(label, cells):
    print(f"{label:<{LABEL_WIDTH}}" + "".join(f"{cell:>20}" for cell in cells))


def environment(cursor):
    print(f"Environment: {machine.describe(cursor)}, Odoo 18.0 (one process, threaded); "
          f"Alma's latency is the stand-in's (a test setting)")


def measure(standin, method_id, partner_id, plan_id, cursor):
    """The till's figures at the stand-in's current latency: {figure: 'p50 / p95 ms'}."""
    standin.configure(ipn_delay=0)
    offers = []
    for _run in range(RUNS):
        started = time.perf_counter()
        answer = rpc('pos.payment.method', 'alma_get_offers', [method_id], 399.0, partner_id,
                     False)
        if answer.get('error'):
            raise RuntimeError(answer['error'])
        offers.append(time.perf_counter() - started)

    sends, with_ipn = [], []
    for _run in range(RUNS):
        line_uuid, alma_id = send(method_id, partner_id, plan_id, sends)
        standin.pay(alma_id)
        accepted_at = time.perf_counter()
        while not bus_has_accepted(cursor, line_uuid):
            if time.perf_counter() - accepted_at > 30:
                raise RuntimeError(f"The till was never told that {alma_id} was accepted.")
            time.sleep(0.005)
        with_ipn.append(time.perf_counter() - accepted_at)

    standin.configure(ipn_delay=3600)
    polling = []
    for run in range(RUNS):
        line_uuid, alma_id = send(method_id, partner_id, plan_id)
        waiting_since = time.perf_counter()
        # The customer pays at any moment of the till's 3 s polling cycle.
        payer = threading.Timer(POS_POLL_SECONDS * (run + 0.5) / RUNS, standin.pay, [alma_id])
        payer.start()
        payer.join()
        accepted_at = time.perf_counter()
        next_poll = waiting_since + POS_POLL_SECONDS
        while True:
            time.sleep(max(0.0, next_poll - time.perf_counter()))
            status = rpc('pos.payment.method', 'alma_get_status', [method_id], line_uuid)
            if status['payment']['state'] == 'accepted':
                break
            next_poll += POS_POLL_SECONDS
        polling.append(time.perf_counter() - accepted_at)
    return {
        'dialog': p50_p95(offers),
        'send': p50_p95(sends),
        'ipn': p50_p95(with_ipn),
        'polling': p50_p95(polling),
    }


def main(standin):
    method_id = rpc('pos.payment.method', 'search', [('use_payment_terminal', '=', 'alma')])[0]
    config_ids = rpc('pos.config', 'search', [('payment_method_ids', 'in', [method_id])])
    rpc('pos.config', 'open_ui', config_ids[:1])  # A till is open: it gets the notifications.
    plan_id = rpc('payment.alma.plan', 'search', [('installments_count', '=', 3)])[0]
    partner_id = rpc('res.partner', 'create', {
        'name': "Jean Martin", 'mobile': '+33612345678', 'email': 'jean@example.com',
        'street': "20 rue d'Alsace", 'zip': '75002', 'city': 'Paris',
        'country_id': rpc('res.country', 'search', [('code', '=', 'FR')])[0]})
    connection = psycopg2.connect(dbname=DB)
    connection.autocommit = True
    cursor = connection.cursor()
    environment(cursor)
    columns = []
    for latency in LATENCIES:
        standin.configure(latency=latency / 1000)
        columns.append(measure(standin, method_id, partner_id, plan_id, cursor))
    standin.configure(latency=0)
    print()
    row("", [f"Alma at {latency} ms" for latency in LATENCIES])
    row("the Alma dialog opens (alma_get_offers) p50 / p95",
        [column['dialog'] for column in columns])
    row("the send (alma_send, link) p50 / p95", [column['send'] for column in columns])
    row("accepted -> till told, with IPN p50 / p95", [column['ipn'] for column in columns])
    row("accepted -> till told, polling (3 s) p50 / p95",
        [column['polling'] for column in columns])


if __name__ == '__main__':
    UID = login()
    stand_in = StandIn(port=int(os.environ.get('BENCH_STANDIN_PORT', 8172))).start()
    try:
        main(stand_in)
    finally:
        stand_in.stop()
