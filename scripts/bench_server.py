"""Benchmarks run inside `odoo-bin shell` (see scripts/bench): prints figures, asserts nothing.

- one cron run over 1,000 pending Alma payments (wall time, HTTP calls), at each latency of
  BENCH_LATENCIES (ms, default "0,150": the stand-in's latency, a test setting), side by side
  under the header printed by scripts/bench_latency.py;
- the "Frais Alma" grid with 100,000 lines (Alma is not called): open it (first page + count),
  export 10,000 lines (Odoo's export and the xlsx download), import a 10,000-line Alma CSV.
The fee lines are rolled back at the end; the 1,000 payments are committed (the cron applies
what Alma says in transactions of its own, as in production) and each run sets the previous
ones aside.
"""
# ruff: noqa: F821 - `env` is given by odoo-bin shell

import os
import time
import uuid

from odoo.addons.payment_alma.alma_standin import StandIn

# Alma's answer times to compare (issue 13), in ms: `BENCH_LATENCIES`, default "0,150".
LATENCIES = [int(ms) for ms in os.environ.get('BENCH_LATENCIES', '0,150').split(',')]
LABEL_WIDTH = 50

CSV_HEADER = ("Date de création (Europe/Paris),Montant brut,Frais Alma,Montant net,"
              "TVA sur les frais,Nombre d'échéances,Nom du client,Email du client,"
              "ID de la transaction de solde,ID du paiement,ID du remboursement\n")


def row(label, cells):
    print(f"{label:<{LABEL_WIDTH}}" + "".join(f"{cell:>20}" for cell in cells))


def measure(label, function):
    """Run `function`; print its wall time and queries in the first column."""
    queries = env.cr.sql_log_count
    started = time.perf_counter()
    result = function()
    wall = time.perf_counter() - started
    row(label, [f"{wall * 1000:.0f} ms, {env.cr.sql_log_count - queries} q."])
    return result


def bench_cron(provider, standin):
    provider.write({'alma_api_url': standin.url, 'alma_api_key_test': 'sk_test_standin',
                    'state': 'test'})
    client = provider._alma_client()
    plan = env.ref('payment_alma.plan_3x')
    partner = env['res.partner'].create({
        'name': "Jean Martin", 'mobile': '+33612345678', 'email': 'jean@example.com',
        'street': "20 rue d'Alsace", 'zip': '75002', 'city': 'Paris',
        'country_id': env.ref('base.fr').id})
    values = []
    for index in range(1000):
        payment = env['alma.payment'].new({'provider_id': provider.id, 'contact_id': partner.id,
                                           'plan_id': plan.id, 'purchase_amount_cents': 39900})
        data = client.create_payment(payment._alma_payload())
        values.append({
            'provider_id': provider.id, 'currency_id': env.ref('base.EUR').id,
            'plan_id': plan.id, 'partner_id': partner.id, 'contact_id': partner.id,
            'alma_id': data['id'], 'price_cents': 39900,
            'purchase_amount_cents': 39900, 'pos_payment_uuid': str(uuid.uuid4()),
        })
        if index % 10 == 0:  # one in ten customers has paid
            standin.pay(data['id'])
    # Only these 1,000 are pending (earlier runs' are set aside; all is rolled back after).
    env['alma.payment'].search([('state', '=', 'waiting')]).write(
        {'state_reason_code': 'not_sent'})
    created = env['alma.payment'].create(values)
    env.cr.commit()  # The cron applies what Alma says in transactions of its own.
    walls, calls = [], []
    for latency in LATENCIES:
        env.cr.commit()  # A new snapshot: the cron's transactions changed these rows.
        created.invalidate_recordset()
        created.write({'accepted_date': False, 'state_reason_code': False})  # Waiting again.
        env.cr.commit()
        standin.configure(latency=latency / 1000)
        requests_before = len(standin.requests)
        started = time.perf_counter()
        env['alma.payment']._cron_alma_poll_pending()
        walls.append(f"{(time.perf_counter() - started) * 1000:.0f} ms")
        env.cr.commit()  # A new snapshot, to read what the cron's transactions wrote.
        created.invalidate_recordset()
        accepted = len(created.filtered(lambda payment: payment.state == 'accepted'))
        calls.append(f"{len(standin.requests) - requests_before} calls, {accepted} acc.")
    standin.configure(latency=0)
    row("cron: poll 1,000 pending payments (one run)", walls)
    row("  HTTP calls to Alma, payments found accepted", calls)


def bench_fees(provider):
    payment = env['alma.payment'].search([], limit=1)
    env.cr.execute("""
        INSERT INTO alma_fee_line (date, alma_payment_id, alma_id, partner_id, origin, plan_id,
               provider_id, company_id, currency_id, gross_cents, customer_fee_cents, fee_cents,
               fee_vat_cents, gross, customer_fee, fee, fee_vat, fee_total, net, payout_date,
               settled, alma_fee_cents, alma_fee_known, alma_fee_difference, refund_id,
               create_date, write_date, create_uid, write_uid)
        SELECT CURRENT_DATE - (n %% 365), %(payment)s, 'payment_bench' || n, %(partner)s,
               'Order ' || n, %(plan)s, %(provider)s, %(company)s, %(currency)s,
               39900, 0, 1157, 231, 399, 0, 11.57, 2.31, 13.88, 385.12,
               CURRENT_DATE - (n %% 365) + 7, n %% 3 = 0, 0, false, 0, 'r' || n,
               now(), now(), 1, 1
          FROM generate_series(1, 100000) n
    """, {'payment': payment.id, 'partner': payment.partner_id.id, 'plan': payment.plan_id.id,
          'provider': provider.id, 'company': provider.company_id.id,
          'currency': env.ref('base.EUR').id})
    env.invalidate_all()
    Line = env['alma.fee.line'].with_context(search_default_not_settled=1)
    list_fields = ['settled', 'settled_mark', 'date', 'partner_id', 'origin', 'alma_id',
                   'plan_id', 'currency_id', 'gross', 'customer_fee', 'fee', 'fee_vat',
                   'fee_total', 'net', 'alma_fee_difference', 'payout_date']
    domain = [('settled', '=', False)]

    def open_grid():
        page = Line.web_search_read(domain, {name: {} for name in list_fields}, limit=80)
        totals = Line.read_group(domain, ['gross:sum', 'fee:sum', 'fee_vat:sum', 'net:sum'], [])
        return page['length'], totals

    print()
    row("Alma is not called below (one column):", [])
    count, _totals = measure("grid: open (80 lines + count + totals of 100k)", open_grid)
    row(f"  ({count} lines not settled of 100,000)", [])
    env.invalidate_all()
    lines = env['alma.fee.line'].search([], limit=10000)
    measure("export: Odoo's export of 10,000 lines",
            lambda: lines.export_data(['date', 'partner_id', 'alma_id', 'gross', 'fee', 'net']))
    env.invalidate_all()
    measure("export: xlsx of 10,000 lines", lines._alma_xlsx)
    rows = ''.join(
        f"2026-11-23 10:00:00,39900,{1157 + (index % 2)},38743,231,3,Jean,j@example.com,bt,"
        f"{line.alma_id},{line.refund_id or ''}\n" for index, line in enumerate(lines))
    env.invalidate_all()
    wizard = env['alma.fee.import'].create({})
    result = measure("import: Alma CSV of 10,000 lines",
                     lambda: wizard._alma_import_csv((CSV_HEADER + rows).encode()))
    row(f"  {result}", [])


alma = env.ref('payment_alma.payment_provider_alma')
stand_in = StandIn(port=0).start()
try:
    bench_cron(alma, stand_in)
    bench_fees(alma)
finally:
    stand_in.stop()
    env.cr.rollback()
