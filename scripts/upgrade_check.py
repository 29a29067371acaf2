"""A database made by an earlier payment_alma keeps its Alma records through `-u payment_alma`.

Run twice by `scripts/test` inside `odoo-bin shell` (stdin), with UPGRADE_STEP set:
- `seed`, with the earlier code: the demo clinic's books as a clinic has them after a month of
  Alma (a till sale, an invoice paid online through its transaction, a refund, a transfer
  received, a payment still waiting, one refused, one Alma never created, a refund Alma
  refused), written with the earlier code's own methods where it has them; then every stored
  value of the Alma records is written to UPGRADE_SNAPSHOT;
- `check`, after the upgrade to this code: every record is still there with every value it
  had, field by field. A field the upgrade drops while it held data fails the check: its data
  must be moved by a script in `migrations/`, and the field named in MOVED below with where
  it went.
"""
# ruff: noqa: F821 (`env` is odoo-bin shell's: the superuser's, so no sudo() is needed here)
import json
import os
from datetime import timedelta

from odoo import fields

# {model: {field: where its data went}}: fields a migration moved elsewhere on purpose, and
# the path (from the same record) that must now give the value the field had (when it had one).
MOVED = {
    'alma.payment': {'transaction_reference': 'transaction_id.reference'},  # 18.0.1.1.0
    'alma.refund': {'transaction_reference': 'transaction_id.reference'},
}

# {model: fields}: fields a migration fills where they were empty, their other values kept.
FILLED = {
    'alma.payment': {'state_reason_code'},  # 18.0.1.2.0: a payment never created says so.
}

MODELS = ('alma.payment', 'alma.refund', 'alma.fee.line', 'payment.transaction')
# Odoo's own bookkeeping of a row, rewritten by any upgrade.
MAGIC = {'create_date', 'write_date', 'create_uid', 'write_uid', '__last_update'}


def alma_records(model):
    records = env[model].with_context(active_test=False).search([], order='id')
    if model == 'payment.transaction':
        records = records.filtered(lambda tx: tx.provider_code == 'alma')
    return records


def snapshot():
    """Every stored value of the Alma records, as JSON: {model: {id: {field: value}}}."""
    taken = {}
    for model in MODELS:
        names = [name for name, field in env[model]._fields.items()
                 if field.store and name not in MAGIC and field.type not in ('binary', 'html')]
        rows = alma_records(model).read(names, load=None)
        taken[model] = {str(row.pop('id')): row for row in rows}
    provider = env.ref('payment_alma.payment_provider_alma')
    taken['provider'] = {'plans': sorted(provider.alma_plan_ids.mapped('code')),
                         'journal': provider.journal_id.id, 'state': provider.state}
    return json.loads(json.dumps(taken, default=str))


def seed():
    clinic = env.ref('payment_alma.demo_clinic')
    provider = env['payment.provider'].search(
        [('code', '=', 'alma'), ('company_id', '=', clinic.id)], limit=1)
    assert provider, "the demo clinic has no Alma provider"
    env_clinic = env(context=dict(env.context, allowed_company_ids=clinic.ids))
    partner = env_clinic['res.partner'].create({
        'name': "Jeanne Martin", 'email': 'jeanne.martin@example.fr', 'mobile': '+33612345678',
        'company_id': clinic.id})
    now = fields.Datetime.now()
    Payment = env_clinic['alma.payment']
    common = {'provider_id': provider.id, 'currency_id': clinic.currency_id.id,
              'plan_id': env.ref('payment_alma.plan_3x').id, 'partner_id': partner.id,
              'contact_id': partner.id, 'mode': 'test', 'price_cents': 39900,
              'purchase_amount_cents': 39900, 'merchant_fee_cents': 1136,
              'merchant_fee_vat_cents': 227, 'merchant_fee_source': 'alma',
              'schedule': [{'date': '2026-11-02', 'amount': 133.0},
                           {'date': '2026-12-02', 'amount': 133.0},
                           {'date': '2027-01-02', 'amount': 133.0}]}
    till = Payment.create({**common, 'alma_id': 'payment_upgrade_till', 'state': 'accepted',
                           'alma_state': 'in_progress', 'send_mode': 'sms',
                           'accepted_date': now - timedelta(days=20),
                           'pos_payment_uuid': 'upgrade-line-1', 'pos_order_name': 'Upgrade/0001',
                           'sale_key': 'pos:upgrade-line-1'})
    tx = env_clinic['payment.transaction'].create({
        'provider_id': provider.id, 'payment_method_id': env.ref('payment.payment_method_alma').id,
        'amount': 399.0, 'currency_id': clinic.currency_id.id, 'partner_id': partner.id,
        'reference': 'UPGRADE-TX-1', 'provider_reference': 'payment_upgrade_web'})
    web = Payment.create({**common, 'alma_id': 'payment_upgrade_web', 'state': 'accepted',
                          'alma_state': 'paid', 'send_mode': 'here', 'fees_offered': True,
                          'absorbed_fee_cents': 800, 'accepted_date': now - timedelta(days=10),
                          'transaction_reference': tx.reference, 'sale_key': f'tx:{tx.reference}'})
    tx._set_done()
    Payment.create({**common, 'alma_id': 'payment_upgrade_waiting', 'state': 'waiting',
                    'alma_state': 'not_started', 'send_mode': 'link',
                    'expires_at': now + timedelta(days=1), 'url': 'https://example.com/p'})
    Payment.create({**common, 'alma_id': 'payment_upgrade_refused', 'state': 'refused',
                    'alma_state': 'scored_no', 'send_mode': 'sms',
                    'state_reason_code': 'refused', 'state_reason': "Alma refused the payment."})
    Payment.create({**common, 'state': 'error', 'send_mode': 'sms',
                    'state_reason': "Alma est momentanément indisponible (erreur 503)."})
    Lines = env_clinic['alma.fee.line']
    for payment in till | web:
        Lines._alma_create_for_payment(payment)
    refund = env_clinic['alma.refund'].create({
        'payment_id': till.id, 'amount_cents': 10000, 'state': 'done',
        'alma_refund_id': 'refund_upgrade_1', 'refund_key': 'upgrade:refund:1',
        'asked_at': now - timedelta(days=5)})
    till.amount_refunded_cents = 10000
    Lines._alma_create_for_refund(till, refund.alma_refund_id, refund.amount_cents)
    env_clinic['alma.refund'].create({
        'payment_id': till.id, 'amount_cents': 99900, 'state': 'refused',
        'refund_key': 'upgrade:refund:2', 'asked_at': now - timedelta(days=4),
        'error': "Alma refused: the amount is more than what is left to refund."})
    refund_tx = tx._create_child_transaction(50.0, is_refund=True)
    refund_tx.provider_reference = 'refund_upgrade_web'
    refund_tx._set_done()
    web_refund = env_clinic['alma.refund'].create({
        'payment_id': web.id, 'amount_cents': 5000, 'state': 'done',
        'alma_refund_id': 'refund_upgrade_web', 'refund_key': f'tx:{tx.reference}:5000:0',
        'transaction_reference': refund_tx.reference, 'asked_at': now - timedelta(days=2)})
    web.amount_refunded_cents = 5000
    Lines._alma_create_for_refund(web, web_refund.alma_refund_id, web_refund.amount_cents)
    Lines.search([('alma_payment_id', '=', till.id), ('refund_id', '=', False)]).write(
        {'settled': True, 'settled_date': now - timedelta(days=12), 'settled_by_id': env.uid})
    env.cr.commit()
    taken = snapshot()
    with open(os.environ['UPGRADE_SNAPSHOT'], 'w', encoding='utf-8') as file:
        json.dump(taken, file, indent=1, sort_keys=True)
    print("seeded:", {model: len(rows) for model, rows in taken.items()})


def check():
    with open(os.environ['UPGRADE_SNAPSHOT'], encoding='utf-8') as file:
        before = json.load(file)
    after = snapshot()
    module = env['ir.module.module'].search([('name', '=', 'payment_alma')])
    problems = [] if module.state == 'installed' else [f"payment_alma is {module.state}"]
    for model in MODELS:
        moved = MOVED.get(model, {})
        for record_id, old in before[model].items():
            new = after[model].get(record_id)
            if new is None:
                problems.append(f"{model} {record_id} is gone")
                continue
            for name, value in old.items():
                if name in moved:
                    now = env[model].browse(int(record_id)).mapped(moved[name])
                    if value and (now[0] if now else False) != value:
                        problems.append(f"{model} {record_id}.{name}: {value!r} did not move "
                                        f"to {moved[name]} ({now!r})")
                    continue
                if name not in new:
                    if value not in (False, None, [], '', 0):
                        problems.append(f"{model}.{name} is gone with its data "
                                        f"(record {record_id}: {value!r})")
                elif new[name] != value and not (name in FILLED.get(model, ()) and not value):
                    problems.append(f"{model} {record_id}.{name}: {value!r} became "
                                    f"{new[name]!r}")
    problems += till_transactions()
    if not set(before['provider']['plans']) <= set(after['provider']['plans']):
        problems.append(f"the provider's plans {before['provider']['plans']} became "
                        f"{after['provider']['plans']}")
    for problem in problems:
        print("UPGRADE PROBLEM:", problem)
    if not problems:
        print("upgrade kept:", {model: len(before[model]) for model in MODELS},
              "version", module.latest_version)


def till_transactions():
    """18.0.1.1.0: each till's payment and refund got its transaction, in the state Alma gave
    it, and the transaction books nothing (the till's session did); it is dated as its record."""
    tills = env['alma.payment'].search([('channel', '=', 'pos')])
    problems = [] if tills else ["the till's payments are gone"]
    for record in [*tills, *tills.refund_ids]:
        tx = record.transaction_id
        alma_id = record.alma_id if record._name == 'alma.payment' else record.alma_refund_id
        if not tx or tx.payment_id or tx.provider_reference != alma_id \
                or (tx.state == 'done') != (record.state in ('accepted', 'done')) \
                or tx.create_date != record.create_date:
            problems.append(f"{record.display_name} ({record.state}) has no right transaction: "
                            f"{tx.reference} {tx.state} {tx.payment_id.name}")
    return problems


{'seed': seed, 'check': check}[os.environ['UPGRADE_STEP']]()
