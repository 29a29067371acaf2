"""The drill of issue 13, run by scripts/drill (not a test): prints what it checked and measured.

Two Odoo servers on one database (A: 4 workers and a cron worker, B: 2 workers and a cron
worker), the stand-in answering in 150 ms ± 50 ms with faults injected along the way (5xx, 429
with Retry-After, timeouts, creation answers lost after Alma created the payment). At the same
time: 20 tills, each selling 25 times with Alma through JSON-RPC as the till does (offers, a
contact, the send, the bus and the 3-second poll, a cancel, the order synced with
`sync_from_ui`), spread over both servers as a load balancer would, with double clicks, double
syncs and retries; customers paying, declining or walking away on the stand-in; signed IPN
replays and forged IPNs; the cron triggered every 15 s; one HTTP worker of A killed with SIGKILL
while it waits for Alma to create a payment. Then it checks the invariants, prints a table and
exits 1 when one fails.

The latency, the jitter and the faults are test settings of the stand-in, not figures of Alma.
`setup(env, ...)` runs first inside `odoo-bin shell` (tills, cashiers, customers).
"""

import collections
import contextlib
import hashlib
import hmac
import io
import json
import os
import random
import re
import signal
import statistics
import sys
import threading
import time
import uuid

import machine  # scripts/, this script's folder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = 'drill-cashier'
POS_POLL_SECONDS = 3  # the till's poll of a waiting payment (static/src/app/alma_utils.js)
CRON_EVERY_SECONDS = 15
# Longer than the add-on's read timeout (20 s, const.TIMEOUTS): the answer is lost.
LOST_ANSWER_SECONDS = 21
# How much longer Alma takes to create the payment of the killed worker's send.
KILLED_CREATION_SECONDS = 5
API_KEY = 'sk_test_standin'
DECLINED_CARD = '4000000000000002'


# === Set-up, inside `odoo-bin shell` === #

def setup(env, tills, standin_url, base_url, out):
    """Tills "Drill till NN" with a cashier each (POS user) and a customer each, sessions open;
    Alma pointed at the stand-in; what earlier runs left waiting is set aside."""
    clinic = env.ref('payment_alma.demo_clinic')
    env = env(context=dict(env.context, allowed_company_ids=clinic.ids))
    provider = env.ref('payment_alma.payment_provider_alma')
    provider.write({'state': 'test', 'alma_api_key_test': API_KEY, 'alma_api_url': standin_url})
    env['ir.config_parameter'].set_param('web.base.url', base_url)
    env['ir.config_parameter'].set_param('web.base.url.freeze', 'True')
    # The stand-in forgets everything between runs: earlier runs' waiting payments are done.
    # (Set aside as never created: the transactions of expired ones would be cancelled too.)
    env.cr.execute("UPDATE alma_payment SET state = 'error', state_reason_code = 'not_sent' "
                   "WHERE state IN ('draft', 'waiting')")
    method = env['pos.payment.method'].search(
        [('use_payment_terminal', '=', 'alma'), ('company_id', '=', clinic.id)], limit=1)
    demo_config = env['pos.config'].search([('company_id', '=', clinic.id)], limit=1, order='id')
    product = env['product.product'].search(
        [('name', '=', "Consultation"), ('company_id', '=', clinic.id)], limit=1)
    groups = [env.ref('base.group_user').id, env.ref('point_of_sale.group_pos_user').id]
    result = {'method_id': method.id, 'product_id': product.id,
              'pricelist_id': demo_config.pricelist_id.id,
              'cron_id': env.ref('payment_alma.ir_cron_alma_poll').id, 'tills': []}
    france = env.ref('base.fr')
    for number in range(1, tills + 1):
        login = f'drill_till_{number:02d}'
        user = env['res.users'].with_context(active_test=False).search([('login', '=', login)])
        if not user:
            user = env['res.users'].create({
                'name': f"Drill Cashier {number:02d}", 'login': login, 'password': PASSWORD,
                'company_id': clinic.id, 'company_ids': [(6, 0, clinic.ids)],
                'groups_id': [(6, 0, groups)]})
        config = env['pos.config'].search([('name', '=', f"Drill till {number:02d}")], limit=1)
        if not config:
            config = env['pos.config'].create({
                'name': f"Drill till {number:02d}", 'company_id': clinic.id,
                'payment_method_ids': [(6, 0, method.ids)],
                'pricelist_id': demo_config.pricelist_id.id,
                'available_pricelist_ids': [(6, 0, demo_config.pricelist_id.ids)],
                'auto_validate_terminal_payment': False})
        customer = env['res.partner'].search([('name', '=', f"Client Drill {number:02d}")],
                                             limit=1)
        if not customer:
            customer = env['res.partner'].create({
                'name': f"Client Drill {number:02d}", 'mobile': f'+336123456{number:02d}',
                'email': f'client{number:02d}@drill.example', 'street': "20 rue d'Alsace",
                'zip': '75002', 'city': 'Paris', 'country_id': france.id,
                'company_id': clinic.id})
        if not config.current_session_id:
            config.with_user(user).open_ui()
        session = config.current_session_id
        if session.state == 'opening_control':
            session.with_user(user).set_opening_control(0, '')
        config._ensure_access_token()
        result['tills'].append({
            'login': login, 'user_id': user.id, 'config_id': config.id,
            'session_id': session.id, 'token': config.access_token,
            'partner_id': customer.id, 'country_id': france.id})
    env.cr.commit()
    with open(out, 'w') as file:
        json.dump(result, file)


# === The drill, in its own process === #

def read(path):
    with open(path, errors='replace') as file:
        return file.read()


def median(samples):
    return statistics.median(samples) if samples else float('nan')


def percentile(samples, share):
    samples = sorted(samples)
    if not samples:
        return float('nan')
    return samples[min(len(samples) - 1, max(0, round(share * len(samples)) - 1))]


def ms(seconds):
    return 'n/a' if seconds != seconds else f"{seconds * 1000:.0f} ms"  # NaN: no sample


class Reset(Exception):
    """The connection to Odoo was cut without an answer."""


class ServerError(Exception):
    """Odoo answered 5xx, or a JSON-RPC error that is not a user error."""


class RpcError(Exception):
    """Odoo refused with a user-facing error (UserError, AccessError...)."""


USER_ERRORS = ('odoo.exceptions.', 'werkzeug.exceptions.')


class Recorder:
    """Every request to Odoo and its outcome; thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = collections.Counter()  # (server, label) -> count
        self.statuses = collections.Counter()  # HTTP status -> count
        self.server_errors = []  # (t, server, label, detail)
        self.resets = []  # (t, server, label)
        self.user_errors = collections.Counter()
        self.samples = collections.defaultdict(list)  # name -> seconds
        self.events = collections.Counter()
        self.started = time.monotonic()

    def now(self):
        return time.monotonic() - self.started

    def request(self, server, label, status):
        with self.lock:
            self.requests[(server, label)] += 1
            self.statuses[status] += 1

    def sample(self, name, seconds):
        with self.lock:
            self.samples[name].append(seconds)

    def event(self, name, count=1):
        with self.lock:
            self.events[name] += count

    def server_error(self, server, label, detail):
        with self.lock:
            self.server_errors.append((self.now(), server, label, detail[:300]))

    def reset(self, server, label):
        with self.lock:
            self.resets.append((self.now(), server, label))


class Server:
    def __init__(self, name, url, ws_url, master_pid, log_path):
        self.name, self.url, self.ws_url = name, url, ws_url
        self.master_pid, self.log_path = master_pid, log_path

    def workers(self):
        """{pid: 'http' | 'cron'} of the live workers, from the master's children and its log."""
        import psutil
        log = read(self.log_path)
        roles = {int(pid): role.lower() for role, pid in
                 re.findall(r"Worker Worker(HTTP|Cron) \((\d+)\) alive", log)}
        children = {process.pid for process in psutil.Process(self.master_pid).children()}
        return {pid: role for pid, role in roles.items() if pid in children}

    def rss(self):
        import psutil
        sizes = {}
        for pid, role in self.workers().items():
            with contextlib.suppress(psutil.Error):
                sizes[pid] = (role, psutil.Process(pid).memory_info().rss)
        return sizes


class Session:
    """One cashier's Odoo session (cookie), used on both servers as a load balancer would."""

    def __init__(self, recorder, db, login):
        import requests
        self.recorder, self.db, self.login = recorder, db, login
        self.cookie = None
        self._requests = requests
        self._ids = iter(range(1, 10**9))

    def authenticate(self, server):
        answer = self._requests.post(f"{server.url}/web/session/authenticate", json={
            'jsonrpc': '2.0', 'method': 'call',
            'params': {'db': self.db, 'login': self.login, 'password': PASSWORD}}, timeout=60)
        answer.raise_for_status()
        if answer.json().get('error'):
            raise RuntimeError(f"{self.login} cannot log in: {answer.json()['error']}")
        self.cookie = answer.cookies['session_id']

    def call(self, server, model, method, args, label=None):
        label = label or method
        payload = {'jsonrpc': '2.0', 'method': 'call', 'id': next(self._ids), 'params': {
            'model': model, 'method': method, 'args': args, 'kwargs': {}}}
        try:
            answer = self._requests.post(
                f"{server.url}/web/dataset/call_kw/{model}/{method}", json=payload,
                cookies={'session_id': self.cookie}, timeout=150)
        except self._requests.exceptions.ConnectionError as error:
            self.recorder.reset(server.name, label)
            raise Reset(str(error)) from None
        self.recorder.request(server.name, label, answer.status_code)
        if answer.status_code >= 500:
            self.recorder.server_error(server.name, label, f"HTTP {answer.status_code}: "
                                                           f"{answer.text[:200]}")
            raise ServerError(answer.status_code)
        body = answer.json()
        if body.get('error'):
            data = body['error'].get('data') or {}
            name = data.get('name') or ''
            if name.startswith(USER_ERRORS):
                self.recorder.event(f"user error: {name.rsplit('.', 1)[-1]}")
                raise RpcError(data.get('message') or name)
            self.recorder.server_error(server.name, label, f"{name}: {data.get('message')}")
            raise ServerError(name)
        return body['result']


class Drill:
    def __init__(self):
        from alma_standin import StandIn

        self.db = os.environ['DRILL_DB']
        self.setup = json.loads(read(os.environ['DRILL_SETUP']))
        self.servers = [
            Server('A', os.environ['DRILL_A'], os.environ['DRILL_A_WS'],
                   int(os.environ['DRILL_A_PID']), os.environ['DRILL_A_LOG']),
            Server('B', os.environ['DRILL_B'], os.environ['DRILL_B_WS'],
                   int(os.environ['DRILL_B_PID']), os.environ['DRILL_B_LOG']),
        ]
        self.a = self.servers[0]
        self.sales = int(os.environ.get('DRILL_SALES', 25))
        self.latency = int(os.environ.get('DRILL_LATENCY_MS', 150)) / 1000
        self.jitter = int(os.environ.get('DRILL_JITTER_MS', 50)) / 1000
        self.recorder = Recorder()
        self.stop = threading.Event()
        self.standin = StandIn(port=int(os.environ['DRILL_STANDIN_PORT']))
        self.lines = {}  # line uuid -> Line
        self.lines_lock = threading.Lock()
        self.done_sales = 0
        self.kill = {'armed': threading.Event(), 'done': None, 'lock': threading.Lock(),
                     'reference': None}
        self.faults = collections.Counter()
        self.ipn = collections.Counter()
        self.cron_runs = 0
        self.cpu = (float('nan'), float('nan'))
        self.log_offsets = {}
        self.lost_answers = 0  # creations to hold until the add-on gave up on the answer

    # --- the stand-in and its faults --------------------------------------------------------

    def start_standin(self):
        self.standin.start()
        # The creation answer is lost when the stand-in sleeps longer than the add-on's read
        # timeout (20 s, const.TIMEOUTS) before creating the payment anyway.
        self.standin.configure(latency=self.latency, latency_jitter=self.jitter,
                               timeout_seconds=LOST_ANSWER_SECONDS, ipn_delay=0)
        # A middleware in front of the stand-in (werkzeug's dev server calls `server.app`):
        # the kill, and the lost creation answers, which only a creation may get (the stand-in's
        # `timeout` switch matches a path prefix, which send-sms shares).
        app = self.standin._server.app

        def middleware(environ, start_response):
            creation = environ.get('REQUEST_METHOD') == 'POST' \
                and environ.get('PATH_INFO') == '/v1/payments'
            if creation:
                body = environ['wsgi.input'].read(int(environ.get('CONTENT_LENGTH') or 0))
                environ['wsgi.input'] = io.BytesIO(body)
                if self.kill_caller(environ):
                    with contextlib.suppress(ValueError, KeyError, TypeError):
                        self.kill['reference'] = json.loads(body)['payment']['custom_data'][
                            'odoo_reference']
                    # The request goes on: Alma creates a payment its sender never hears of.
                    # Workers die when Alma is slow (Odoo's own limit_time_real kills those that
                    # wait too long): this creation takes Alma 5 s more.
                    time.sleep(KILLED_CREATION_SECONDS)
                with self.lines_lock:
                    lose = self.lost_answers > 0
                    self.lost_answers -= lose
                if lose:
                    time.sleep(LOST_ANSWER_SECONDS)  # then Alma creates it all the same
            return app(environ, start_response)

        self.standin._server.app = middleware

    def kill_caller(self, environ):
        """Kill the worker of A that sent this creation request, once the kill is armed."""
        import psutil
        if not self.kill['armed'].is_set():
            return False
        port = int(environ.get('REMOTE_PORT') or 0)
        with self.kill['lock']:
            if self.kill['done'] or not self.kill['armed'].is_set():
                return False
            for pid, role in self.a.workers().items():
                with contextlib.suppress(psutil.Error):
                    if role == 'http' and any(connection.laddr.port == port for connection
                                              in psutil.Process(pid).connections('tcp')):
                        os.kill(pid, signal.SIGKILL)
                        self.kill['done'] = (self.recorder.now(), pid)
                        self.kill['armed'].clear()
                        return True
        return False

    def inject_faults(self):
        """A fault every 2 s, in turn; a lost creation answer at 3 moments of the run."""
        cycle = [
            (503, 'POST', '/v2/payments/eligibility', None),
            (500, 'POST', '/v1/payments', None),
            (429, 'POST', '/v1/payments', 1),
            (502, 'GET', '/v1/payments/', None),
            (429, 'GET', '/v1/payments', 1),
            (503, 'POST', '/v1/payments/', None),  # send-sms, cancel
            (429, 'POST', '/v2/payments/eligibility', 2),
        ]
        lost_at = {0.15, 0.45, 0.7}
        total = len(self.setup['tills']) * self.sales
        step = 0
        while not self.stop.wait(2):
            status, method, prefix, retry_after = cycle[step % len(cycle)]
            step += 1
            self.standin.fail(status, method=method, path_prefix=prefix, retry_after=retry_after)
            self.faults[f"{status} {method} {prefix}"] += 1
            progress = self.done_sales / total
            for moment in sorted(lost_at):
                if progress >= moment:
                    lost_at.discard(moment)
                    with self.lines_lock:
                        self.lost_answers += 1
                    self.faults["creation answer lost (Alma created it 21 s later)"] += 1
            if step == 10:
                self.standin.fail('timeout', method='GET', path_prefix='/v1/payments/')
                self.faults["timeout GET /v1/payments/"] += 1

    # --- background traffic -------------------------------------------------------------------

    def run_cron(self):
        """The poll cron, triggered every 15 s as Odoo's own trigger does (a row and a NOTIFY)."""
        import psycopg2
        connection = psycopg2.connect(dbname=self.db)
        connection.autocommit = True
        cursor = connection.cursor()
        cron_id = self.setup['cron_id']
        cursor.execute("SELECT lastcall FROM ir_cron WHERE id = %s", [cron_id])
        last = cursor.fetchone()[0]
        while not self.stop.wait(CRON_EVERY_SECONDS):
            cursor.execute("""
                INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, write_uid,
                                             create_date, write_date)
                VALUES (%s, now() AT TIME ZONE 'UTC', 1, 1, now() AT TIME ZONE 'UTC',
                        now() AT TIME ZONE 'UTC');
                NOTIFY cron_trigger, %s
            """, [cron_id, self.db])
            cursor.execute("SELECT lastcall FROM ir_cron WHERE id = %s", [cron_id])
            lastcall = cursor.fetchone()[0]
            if lastcall != last:
                self.cron_runs += 1
                last = lastcall
        connection.close()

    def ipn_traffic(self, rate):
        """Signed IPNs replayed (from the stand-in's own log of sent IPNs) and forged ones,
        alternately, on both servers."""
        import requests
        http = requests.Session()
        step = 0
        while not self.stop.wait(1 / rate):
            step += 1
            server = random.choice(self.servers)
            sent = self.standin.ipn_log[-200:]
            known = [entry['payment_id'] for entry in sent]
            kind = ('replay', 'forged: random id', 'forged: bad signature',
                    'forged: other key')[step % 4]
            if kind == 'replay' and sent:
                entry = random.choice(sent)
                pid, signature = entry['payment_id'], entry['signature']
            elif kind == 'forged: random id' or not known:
                kind = 'forged: random id'
                pid, signature = f"payment_{uuid.uuid4().hex}", uuid.uuid4().hex * 2
            elif kind == 'forged: bad signature':
                pid, signature = random.choice(known), hashlib.sha256(os.urandom(8)).hexdigest()
            else:
                pid = random.choice(known)
                signature = hmac.new(b'sk_test_other', pid.encode(), hashlib.sha256).hexdigest()
            try:
                answer = http.get(f"{server.url}/payment/alma/ipn", params={'pid': pid},
                                  headers={'X-Alma-Signature': signature}, timeout=60)
            except requests.exceptions.ConnectionError:
                self.recorder.reset(server.name, 'ipn')
                continue
            self.recorder.request(server.name, 'ipn', answer.status_code)
            self.ipn[(kind, answer.status_code)] += 1
            if answer.status_code >= 500:
                self.recorder.server_error(server.name, 'ipn', f"HTTP {answer.status_code}")

    # --- the tills ----------------------------------------------------------------------------

    def bus_listener(self, till):
        """The till's websocket: its config's channel, as the POS subscribes to it."""
        import websocket
        server = till.servers[0]
        version = bus_version(os.environ.get('DRILL_ODOO_PATH', '/opt/odoo18'))
        while not self.stop.is_set():
            try:
                socket = websocket.create_connection(
                    f"{server.ws_url}/websocket?version={version}", timeout=1,
                    cookie=f"session_id={till.session.cookie}", origin=server.url)
                socket.send(json.dumps({'event_name': 'subscribe', 'data': {
                    'channels': [till.token], 'last': 0}}))
                till.bus_ready.set()
                while not self.stop.is_set():
                    try:
                        raw = socket.recv()
                    except websocket.WebSocketTimeoutException:
                        continue
                    if not raw:
                        break
                    told = time.monotonic()
                    for notification in json.loads(raw):
                        message = notification.get('message') or {}
                        if message.get('type', '').endswith('-ALMA_PAYMENT_STATUS'):
                            till.on_bus(message['payload'], told)
                socket.close()
            except (OSError, websocket.WebSocketException):
                self.recorder.event("websocket reconnects")
                time.sleep(0.5)

    def sale_done(self):
        """Count a sale; arm the kill at 40 % of the sales (the next send reaching Alma)."""
        with self.lines_lock:
            self.done_sales += 1
            total = len(self.setup['tills']) * self.sales
            if self.done_sales >= 0.4 * total and not self.kill['done']:
                self.kill['armed'].set()

    def note_line(self, line):
        with self.lines_lock:
            self.lines[line.uuid] = line

    def run(self):
        import psycopg2
        self.start_standin()
        tills = [Till(self, index, data) for index, data in enumerate(self.setup['tills'])]
        print(f"Warming up: {len(tills)} cashiers log in, each till opens its Alma dialog once")
        for till in tills:
            till.session.authenticate(till.servers[0])
        listeners = [threading.Thread(target=self.bus_listener, args=[till], daemon=True)
                     for till in tills]
        for listener in listeners:
            listener.start()
        for till in tills:
            till.warm_up()
            till.bus_ready.wait(10)
        memory_before = {server.name: server.rss() for server in self.servers}
        self.log_offsets = {server.name: len(read(server.log_path)) for server in self.servers}
        import psutil
        cpu_before, drill_cpu_before = psutil.cpu_times(), psutil.Process().cpu_times()
        with self.recorder.lock:  # the figures count the load, not the warm-up
            self.recorder.started = time.monotonic()
            self.recorder.samples.clear()
            self.recorder.requests.clear()
            self.recorder.statuses.clear()
        connection = psycopg2.connect(dbname=self.db)
        connection.autocommit = True
        cursor = connection.cursor()
        cursor.execute("SELECT count(*) FROM bus_bus")
        print(f"Go: {len(tills)} tills x {self.sales} sales, Alma at {ms(self.latency)} ± "
              f"{ms(self.jitter)}")
        started = time.monotonic()
        helpers = [threading.Thread(target=self.inject_faults, daemon=True),
                   threading.Thread(target=self.run_cron, daemon=True),
                   threading.Thread(target=self.ipn_traffic, args=[6], daemon=True),
                   threading.Thread(target=self.ipn_traffic, args=[6], daemon=True)]
        for helper in helpers:
            helper.start()
        for till in tills:
            till.start()
        for till in tills:
            till.join()
        load_seconds = time.monotonic() - started
        cpu_after, drill_cpu_after = psutil.cpu_times(), psutil.Process().cpu_times()
        busy = (sum(cpu_after) - cpu_after.idle - cpu_after.iowait) \
            - (sum(cpu_before) - cpu_before.idle - cpu_before.iowait)
        self.cpu = (busy / load_seconds / (os.cpu_count() or 1),
                    (sum(drill_cpu_after[:2]) - sum(drill_cpu_before[:2])) / load_seconds)
        self.stop.set()
        for helper in helpers:
            helper.join()
        # What a till reopened later would see: each line re-read once, paid ones synced.
        # Alma is well again (the fault switches left are dropped: the stand-in's own state).
        with self.standin._state.lock:
            self.standin._state.fail_rules.clear()
        time.sleep(2)  # the customers' last payments and their notifications
        for till in tills:
            till.sweep()
        memory_after = {server.name: server.rss() for server in self.servers}
        self.standin.stop()
        failures = self.report(cursor, load_seconds, memory_before, memory_after)
        connection.close()
        return failures

    # --- the report ---------------------------------------------------------------------------

    def report(self, cursor, load_seconds, memory_before, memory_after):
        recorder = self.recorder
        lines = list(self.lines.values())
        keys = [f"pos:{line.uuid}" for line in lines]
        cursor.execute("""
            SELECT ap.reference, ap.sale_key, ap.state, ap.alma_id, ap.id,
                   (SELECT count(*) FROM pos_payment pp
                      JOIN pos_order po ON po.id = pp.pos_order_id
                     WHERE pp.uuid = ap.pos_payment_uuid
                       AND po.state IN ('paid', 'done', 'invoiced')),
                   (SELECT count(*) FROM alma_fee_line fl
                     WHERE fl.alma_payment_id = ap.id AND fl.refund_id IS NULL),
                   ap.pos_payment_id
              FROM alma_payment ap WHERE ap.sale_key = ANY(%s)
        """, [keys])
        records = cursor.fetchall()
        by_reference = {row[0]: row for row in records}
        by_alma_id = {row[3]: row for row in records if row[3]}
        created = collections.Counter()
        orphans = []
        for payment in self.standin.payments.values():
            row = by_reference.get((payment.get('custom_data') or {}).get('odoo_reference'))
            if row is None:
                orphans.append(payment['id'])
            else:
                created[row[1]] += 1
        sent = [line for line in lines if line.alma_id]
        twice = [key for key, count in created.items() if count > 1]
        none_for_sent = [line.uuid for line in sent if created[f"pos:{line.uuid}"] != 1]
        charged = [payment for payment in self.standin.payments.values()
                   if payment['state'] in ('in_progress', 'paid')]
        charged_not_accepted = [payment['id'] for payment in charged
                                if (by_alma_id.get(payment['id']) or (0, 0, None))[2]
                                != 'accepted']
        accepted = [row for row in records if row[2] == 'accepted']
        without_pos = [row[3] for row in accepted if row[5] == 0 or not row[7]]
        with_two = [row[3] for row in accepted if row[5] > 1]
        fee_wrong = [row[3] for row in accepted if row[6] != 1]
        fee_stray = [row[3] for row in records if row[2] != 'accepted' and row[6]]
        cursor.execute("SELECT uuid FROM pos_order WHERE uuid = ANY(%s) GROUP BY uuid "
                       "HAVING count(*) > 1", [[line.order_uuid for line in lines]])
        orders_twice = [row[0] for row in cursor.fetchall()]
        forged_accepted = sum(count for (kind, status), count in self.ipn.items()
                              if kind.startswith('forged') and 200 <= status < 300)
        kill_time, kill_pid = self.kill['done'] or (None, None)
        resets_of_kill = [reset for reset in recorder.resets if kill_time is not None
                          and reset[1] == 'A' and 0 <= reset[0] - kill_time < 5]
        other_resets = [reset for reset in recorder.resets if reset not in resets_of_kill]
        double_click_twins = recorder.events["double click: two different payments"]
        killed_reference = self.kill['reference']
        killed_count = sum(1 for payment in self.standin.payments.values()
                           if (payment.get('custom_data') or {}).get('odoo_reference')
                           == killed_reference) if killed_reference else 0
        killed_row = by_reference.get(killed_reference)
        log_errors = {}
        for server in self.servers:
            text = read(server.log_path)[self.log_offsets.get(server.name, 0):]
            log_errors[server.name] = [line for line in text.splitlines()
                                       if ' ERROR ' in line or ' CRITICAL ' in line]
        cron_failures = sum(1 for lines in log_errors.values() for line in lines
                            if "Alma: poll pending payments" in line and "failed" in line)
        error_lines = sum(len(lines) for lines in log_errors.values())

        checks = [
            ("Alma payments created per POS line", "1",
             f"1 for each of {len(sent)} lines" if not twice and not none_for_sent
             else f"{len(twice)} lines with 2+, {len(none_for_sent)} sent lines without 1",
             not twice and not none_for_sent),
            ("Alma payments without an Odoo record", "0", str(len(orphans)), not orphans),
            ("Charged by Alma, not accepted in Odoo", "0", str(len(charged_not_accepted)),
             not charged_not_accepted),
            ("Accepted without a paid POS payment", "0", str(len(without_pos)), not without_pos),
            ("Accepted with two paid POS payments", "0", str(len(with_two)), not with_two),
            ('"Frais Alma" lines per accepted payment', "1",
             f"1 for each of {len(accepted)}" if not fee_wrong else f"{len(fee_wrong)} wrong",
             not fee_wrong),
            ('"Frais Alma" lines of payments not accepted', "0", str(len(fee_stray)),
             not fee_stray),
            ("POS orders synced twice (same uuid)", "0", str(len(orders_twice)),
             not orders_twice),
            ("Double clicks answered with two payments", "0", str(double_click_twins),
             not double_click_twins),
            ("Forged IPNs accepted", "0", str(forged_accepted), not forged_accepted),
            ("5xx and server errors from Odoo", "0", str(len(recorder.server_errors)),
             not recorder.server_errors),
            ("Connections cut, other than the killed worker's", "0", str(len(other_resets)),
             not other_resets),
            ("A worker killed in the middle of a send", "1", "1" if kill_pid else "0",
             bool(kill_pid)),
            ("  Alma payments of the killed send's line", "1", str(killed_count),
             killed_count == 1),
            ("Cron runs that failed", "0", str(cron_failures), not cron_failures),
            ("ERROR lines in Odoo's logs", "0", str(error_lines), not error_lines),
        ]
        width = max(len(check[0]) for check in checks)
        print()
        print(f"{'Invariant':<{width}}  {'must be':>7}  {'found':<40} ")
        print(f"{'-' * width}  {'-' * 7}  {'-' * 40}")
        for name, expected, found, ok in checks:
            print(f"{name:<{width}}  {expected:>7}  {found:<40} {'ok' if ok else 'FAILED'}")
        failures = [check for check in checks if not check[3]]

        samples = recorder.samples
        told = samples['told by bus'] + samples['told by poll']
        total_requests = sum(recorder.requests.values())
        ipn_requests = sum(count for (_server, label), count in recorder.requests.items()
                           if label == 'ipn')
        outcomes = recorder.events
        print()
        print(f"Sales: {outcomes['sale paid']} paid (of which {outcomes['declined, then paid']}"
              f" after a declined card), {outcomes['sale abandoned']} abandoned, "
              f"{outcomes['sale given up']} given up; {len(lines)} POS lines sent to Alma; "
              f"{outcomes['double click']} double clicks, {outcomes['double sync']} double "
              f"syncs, {outcomes['send retried']} sends retried after an error")
        sends = samples['send']
        print(f"send (one alma_send that gave the link)  p50 {ms(median(sends))}"
              f"  p95 {ms(percentile(sends, 0.95))}  ({len(sends)} calls)")
        clicks = samples['click to link']
        print(f"first click -> link (retries included)   p50 {ms(median(clicks))}"
              f"  p95 {ms(percentile(clicks, 0.95))}")
        print(f"accepted -> till told (bus or poll)      p50 {ms(median(told))}"
              f"  p95 {ms(percentile(told, 0.95))}  ({len(samples['told by bus'])} by the bus,"
              f" {len(samples['told by poll'])} by the poll, {outcomes['never told']} never)")
        offers = samples['alma_get_offers']
        print(f"dialog opens (alma_get_offers)           p50 {ms(median(offers))}"
              f"  p95 {ms(percentile(offers, 0.95))}")
        sync = samples['sync_from_ui']
        print(f"order synced (sync_from_ui)              p50 {ms(median(sync))}"
              f"  p95 {ms(percentile(sync, 0.95))}")
        print(f"Requests held: {total_requests / load_seconds:.1f} per second over "
              f"{load_seconds:.0f} s ({total_requests} requests, {ipn_requests} of them IPNs "
              f"replayed or forged, plus {len(self.standin.ipn_log)} IPNs of the stand-in; "
              f"A {sum(c for (s, _l), c in recorder.requests.items() if s == 'A')}, "
              f"B {sum(c for (s, _l), c in recorder.requests.items() if s == 'B')})")
        print(f"HTTP statuses: {dict(sorted(recorder.statuses.items()))}; user errors: "
              f"{ {k: v for k, v in outcomes.items() if k.startswith('user error')} }")
        print(f"IPNs: {dict(sorted((f'{k} -> {s}', c) for (k, s), c in self.ipn.items()))}")
        print(f"Faults injected: {sum(self.faults.values())} "
              f"({', '.join(f'{k} x{v}' for k, v in sorted(self.faults.items()))})")
        print(f"Errors the tills saw and retried: "
              f"{dict(sorted((k[7:], v) for k, v in outcomes.items() if k.startswith('error: ')))}")
        print(f"CPU: the machine {self.cpu[0]:.0%} busy over the load (the drill itself "
              f"{self.cpu[1]:.0%} of one core: tills, stand-in, IPN senders)")
        print(f"Cron runs seen: {self.cron_runs}; websocket reconnects: "
              f"{outcomes['websocket reconnects']}; sales synced at the final sweep: "
              f"{outcomes['synced at the sweep']}")
        if kill_pid:
            print(f"SIGKILL: worker {kill_pid} of A at {kill_time:.1f} s, while it waited for "
                  f"Alma to create a payment (Alma took {KILLED_CREATION_SECONDS} s more); "
                  f"{len(resets_of_kill)} request(s) cut with it; that line's payment is "
                  f"{killed_row[2] if killed_row else 'unknown'} in Odoo")
        print()
        print("Memory (RSS) per worker, before -> after the load:")
        for server in self.servers:
            before, after = memory_before[server.name], memory_after[server.name]
            cells = []
            for pid in sorted(set(before) | set(after)):
                role = (before.get(pid) or after.get(pid))[0]
                old = f"{before[pid][1] / 2**20:.0f}" if pid in before else "(new)"
                new = f"{after[pid][1] / 2**20:.0f}" if pid in after else "(killed)"
                cells.append(f"{role} {pid}: {old} -> {new} MiB")
            print(f"  {server.name}: " + "; ".join(cells))
        for error in recorder.server_errors[:10]:
            print(f"  server error at {error[0]:.1f} s on {error[1]} ({error[2]}): {error[3]}")
        for reset in other_resets[:10]:
            print(f"  connection cut at {reset[0]:.1f} s on {reset[1]} ({reset[2]})")
        for name, _expected, found, ok in checks:
            if not ok:
                print(f"  FAILED: {name}: {found}")
        if twice or none_for_sent:
            print(f"  lines with 2+: {twice[:5]}; sent lines without exactly 1: "
                  f"{none_for_sent[:5]}")
        if charged_not_accepted or without_pos or with_two or fee_wrong:
            print(f"  charged not accepted {charged_not_accepted[:5]}, without POS "
                  f"{without_pos[:5]}, with two {with_two[:5]}, fee lines {fee_wrong[:5]}")
        print()
        self.print_environment(cursor)
        for name, errors in log_errors.items():
            if errors:
                print(f"Odoo {name} log: {len(errors)} ERROR lines" +
                      "".join(f"\n    {line.strip()[:240]}" for line in errors[:5]))
        return failures

    def print_environment(self, cursor):
        described = machine.describe(cursor)
        release = read(os.path.join(os.environ.get('DRILL_ODOO_PATH', '/opt/odoo18'),
                                    'odoo', 'release.py'))
        odoo = re.search(r"version_info = \(([^)]*)\)", release).group(1)
        odoo = '.'.join(part.strip().strip("'") for part in odoo.split(',')[:2])
        print(f"Environment: {described}, Odoo {odoo}; "
              f"Odoo A --workers=4 --max-cron-threads=1, Odoo B --workers=2 "
              f"--max-cron-threads=1; Alma stand-in at {ms(self.latency)} ± {ms(self.jitter)} "
              f"(a test setting)")


def bus_version(odoo_path):
    source = read(os.path.join(odoo_path, 'odoo', 'addons', 'bus', 'websocket.py'))
    found = re.search(r'_VERSION = "([^"]+)"', source)
    return found.group(1) if found else ''


class Line:
    """One POS payment line sent to Alma."""

    def __init__(self, order_uuid):
        self.uuid = str(uuid.uuid4())
        self.order_uuid = order_uuid
        self.alma_id = None
        self.amount = 0.0
        self.final = None  # (state, how, monotonic time)
        self.event = threading.Event()
        self.synced = False


class Till(threading.Thread):
    def __init__(self, drill, index, data):
        super().__init__(name=f"till-{index + 1}", daemon=True)
        self.drill, self.index, self.data = drill, index, data
        self.recorder = drill.recorder
        self.session = Session(drill.recorder, drill.db, data['login'])
        # Half the tills reach A first: the load balancer alternates from there.
        self.servers = drill.servers if index % 2 == 0 else drill.servers[::-1]
        self.turn = 0
        self.token = data['token']
        self.method_id = drill.setup['method_id']
        self.bus_ready = threading.Event()
        self.lines = {}
        self.contact_id = data['partner_id']
        self.random = random.Random(index)
        self.sequence = 0

    def next_server(self):
        self.turn += 1
        return self.servers[self.turn % 2]

    def rpc(self, method, *args, server=None, attempts=8):
        """A call as the till makes it, retried (another server) when the connection is cut
        or Odoo fails; a user error is the cashier's to read."""
        for attempt in range(attempts):
            server = server if server and attempt == 0 else self.next_server()
            started = time.monotonic()
            try:
                result = self.session.call(server, 'pos.payment.method', method,
                                           [[self.method_id], *args])
                self.recorder.sample(method, time.monotonic() - started)
                return result
            except (Reset, ServerError):
                time.sleep(0.3 + attempt * 0.5)
        raise RuntimeError(f"{method}: Odoo failed {attempts} times in a row")

    def warm_up(self):
        self.rpc('alma_get_offers', 399.0, self.data['partner_id'], False,
                 server=self.servers[0])
        self.rpc('alma_get_offers', 399.0, self.data['partner_id'], False,
                 server=self.servers[1])

    def on_bus(self, payload, told):
        line = self.lines.get(payload.get('pos_payment_uuid'))
        if line and payload.get('state') in ('accepted', 'refused', 'cancelled', 'expired') \
                and line.final is None:
            line.final = (payload['state'], 'bus', told)
            line.event.set()

    def run(self):
        try:
            for _sale in range(self.drill.sales):
                try:
                    self.sell()
                except RpcError as error:
                    self.recorder.event(f"error: {str(error)[:60]}")
                    self.recorder.event('sale given up')
                self.drill.sale_done()
                time.sleep(self.random.uniform(0.2, 0.8))  # the next customer
        except Exception as error:  # the drill reports a till that stopped, it does not stop
            self.recorder.server_error('-', 'till', f"{self.name} stopped: {error!r}")

    # --- one sale -----------------------------------------------------------------------------

    def sell(self):
        order_uuid = str(uuid.uuid4())
        amount = round(self.random.uniform(60, 1900), 2)
        answer = self.rpc('alma_get_offers', amount, self.data['partner_id'], False)
        offers = [offer for offer in answer['offers']
                  if offer['eligible'] and not offer['customer_total_cost']]
        if answer.get('error') or not offers:
            self.recorder.event(f"error: {(answer.get('error') or 'no offer')[:60]}")
            # The cashier opens the dialog again (Alma said no or failed).
            time.sleep(1)
            answer = self.rpc('alma_get_offers', amount, self.data['partner_id'], False)
            offers = [offer for offer in answer['offers']
                      if offer['eligible'] and not offer['customer_total_cost']]
            if not offers:
                self.recorder.event('sale given up')
                return
        plan_id = self.random.choice(offers)['plan_id']
        if self.contact_id == self.data['partner_id'] and self.random.random() < 0.5:
            self.save_contact()
        fate = self.random.random()
        line = self.send(order_uuid, amount, plan_id)
        if line is None:
            self.recorder.event('sale given up')
            return
        if fate < 0.05:  # declined card, then a new line paid
            self.customer(line, card=DECLINED_CARD)
            self.wait_final(line)
            line = self.send(order_uuid, amount, plan_id)
            if line is None:
                self.recorder.event('sale given up')
                return
            self.recorder.event('declined, then paid')
            fate = 1
        if fate < 0.15:  # the customer walks away: the cashier cancels after a poll or two
            racing = self.random.random() < 0.3  # ...as the customer pays after all
            time.sleep(self.random.uniform(2.5, 4.5))
            if racing:
                threading.Thread(target=self.customer, args=[line], daemon=True).start()
            answer = self.rpc('alma_cancel', line.uuid)
            state = (answer.get('payment') or {}).get('state')
            if state != 'cancelled':
                # Paid just before: the line is kept, the sale goes on.
                status = self.rpc('alma_get_status', line.uuid)['payment']
                if status['state'] == 'accepted':
                    self.recorder.event('cancel too late: paid')
                    self.sync(line)
                    self.recorder.event('sale paid')
                    return
            self.recorder.event('sale abandoned')
            return
        time.sleep(self.random.uniform(0.3, 2.5))
        accepted_at = self.customer(line)
        state = self.wait_final(line, accepted_at)
        if state == 'accepted':
            self.sync(line)
            self.recorder.event('sale paid')
        else:
            self.recorder.event(f"sale ended {state}")

    def save_contact(self):
        number = self.index + 1
        answer = self.rpc('alma_save_contact', self.data['partner_id'], {
            'first_name': "Marie", 'last_name': f"Drill {number:02d}",
            'mobile': f'+336987654{number:02d}', 'email': f'marie{number:02d}@drill.example',
            'street': "3 rue des Lilas", 'zip': '69003', 'city': 'Lyon',
            'country_id': self.data['country_id']})
        if answer.get('contact'):
            self.contact_id = answer['contact']['id']

    def send(self, order_uuid, amount, plan_id):
        """Send until Alma gave a link, as a cashier clicks again after an error; None after
        a couple of minutes."""
        line = Line(order_uuid)
        line.amount = amount
        self.lines[line.uuid] = line
        self.drill.note_line(line)
        self.sequence += 1
        values = {
            'pos_payment_uuid': line.uuid, 'pos_order_uuid': order_uuid,
            'pos_order_name': f"Drill {self.index + 1:02d}-{self.sequence:04d}",
            'partner_id': self.data['partner_id'], 'amount': amount, 'plan_id': plan_id,
            'contact_id': self.contact_id, 'fees_offered': False,
            'send_mode': self.random.choice(['sms', 'link']),
        }
        clicked = time.monotonic()
        for attempt in range(40):
            if time.monotonic() - clicked > 150:
                break
            double = attempt == 0 and self.random.random() < 0.15
            if double:
                self.recorder.event('double click')
                answers = self.at_once('alma_send', values)
            else:
                answers = [self.timed_send(values)]
            links = {answer['payment']['alma_id'] for answer in answers
                     if isinstance(answer, dict) and not answer.get('error')
                     and (answer.get('payment') or {}).get('alma_id')}
            if len(links) > 1:
                self.recorder.event("double click: two different payments")
            if links:
                line.alma_id = links.pop()
                self.recorder.sample('click to link', time.monotonic() - clicked)
                return line
            errors = [answer.get('error') if isinstance(answer, dict) else str(answer)
                      for answer in answers]
            error = next((e for e in errors if e), 'no answer')
            self.recorder.event(f"error: {re.sub(r'[0-9]+', 'N', error)[:70]}")
            self.recorder.event('send retried')
            wait = re.search(r"(\d+) seconds", error)
            if error == 'Reset':  # the browser sees the cut at once; the cashier clicks again
                time.sleep(0.3)
            else:
                time.sleep(min(int(wait.group(1)), 30) if wait else self.random.uniform(1, 2.5))
        return None if not line.alma_id else line

    def timed_send(self, values, server=None):
        server = server or self.next_server()
        started = time.monotonic()
        try:
            answer = self.session.call(server, 'pos.payment.method', 'alma_send',
                                       [[self.method_id], values])
        except (Reset, ServerError) as error:
            return f"{type(error).__name__}"
        except RpcError as error:
            return {'error': str(error)}
        if not answer.get('error'):
            self.recorder.sample('send', time.monotonic() - started)
        return answer

    def at_once(self, what, values):
        """The same request on both servers at the same instant (a double click, a double
        sync), as two tabs or a retried request reach two servers."""
        answers = [None, None]

        def call(index):
            if what == 'alma_send':
                answers[index] = self.timed_send(values, server=self.servers[index])
            else:
                answers[index] = self.sync_once(values, server=self.servers[index])

        threads = [threading.Thread(target=call, args=[index]) for index in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return answers

    def customer(self, line, card='4242424242424242'):
        """The customer pays on Alma's page; when Alma has accepted (monotonic time)."""
        try:
            self.drill.standin.pay(line.alma_id, card=card)
        except (OSError, KeyError):
            return None
        return time.monotonic()

    def wait_final(self, line, accepted_at=None):
        """The till learns the final state: the bus, or its own poll every 3 s."""
        sent_at = time.monotonic()
        deadline = sent_at + 90
        next_poll = sent_at + POS_POLL_SECONDS
        while time.monotonic() < deadline:
            if line.event.wait(max(0.0, next_poll - time.monotonic())):
                break
            try:
                status = self.rpc('alma_get_status', line.uuid)['payment']
            except RpcError:
                status = {}
            if status and status['state'] in ('accepted', 'refused', 'cancelled', 'expired') \
                    and line.final is None:
                line.final = (status['state'], 'poll', time.monotonic())
                line.event.set()
                break
            next_poll += POS_POLL_SECONDS
        if line.final is None:
            self.recorder.event('never told')
            return None
        state, how, told = line.final
        if accepted_at and state == 'accepted':
            self.recorder.sample(f"told by {how}", max(0.0, told - accepted_at))
        return state

    def order_values(self, line):
        now = time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())
        return {
            'uuid': line.order_uuid, 'name': f"Order {line.order_uuid}",
            'session_id': self.data['session_id'],
            'pricelist_id': self.drill.setup['pricelist_id'],
            'partner_id': self.data['partner_id'], 'user_id': self.data['user_id'],
            'sequence_number': self.sequence, 'date_order': now,
            'amount_paid': line.amount, 'amount_total': line.amount, 'amount_tax': 0,
            'amount_return': 0, 'fiscal_position_id': False,
            'last_order_preparation_change': '{}', 'to_invoice': False, 'state': 'paid',
            'lines': [(0, 0, {
                'product_id': self.drill.setup['product_id'], 'qty': 1,
                'price_unit': line.amount, 'price_subtotal': line.amount,
                'price_subtotal_incl': line.amount, 'tax_ids': [], 'pack_lot_ids': []})],
            'payment_ids': [(0, 0, {
                'uuid': line.uuid, 'amount': line.amount, 'name': now,
                'payment_method_id': self.method_id})],
        }

    def sync_once(self, values, server=None):
        server = server or self.next_server()
        started = time.monotonic()
        try:
            answer = self.session.call(server, 'pos.order', 'sync_from_ui', [[values]])
        except (Reset, ServerError) as error:
            return f"{type(error).__name__}"
        except RpcError as error:
            return {'error': str(error)}
        self.recorder.sample('sync_from_ui', time.monotonic() - started)
        return answer

    def sync(self, line):
        """The paid order goes to the server; sometimes twice at once (a retried request)."""
        values = self.order_values(line)
        for attempt in range(8):
            if attempt == 0 and self.random.random() < 0.1:
                self.recorder.event('double sync')
                answers = self.at_once('sync', values)
            else:
                answers = [self.sync_once(values)]
            if any(isinstance(answer, dict) and answer.get('pos.order') for answer in answers):
                line.synced = True
                return
            error = next((a.get('error') if isinstance(a, dict) else a for a in answers), '')
            self.recorder.event(f"error: sync: {str(error)[:60]}")
            time.sleep(1 + attempt)
        self.recorder.server_error('-', 'sync_from_ui', f"order {line.order_uuid} never synced")

    def sweep(self):
        """A till reopened after the rush re-attaches its lines: a paid one is synced."""
        for line in list(self.lines.values()):
            if line.alma_id and not line.synced:
                status = self.rpc('alma_get_status', line.uuid)['payment']
                if status and status['state'] == 'accepted':
                    self.recorder.event('synced at the sweep')
                    self.sync(line)


def main():
    sys.path.insert(0, ROOT)
    drill = Drill()
    failures = drill.run()
    print()
    print("All invariants hold." if not failures else
          f"{len(failures)} invariant(s) FAILED: {', '.join(f[0] for f in failures)}")
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
