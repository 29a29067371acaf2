"""The accounting CSV of `GET /v1/data-exports/<id>?format=csv`."""

import csv
import io

from . import payments, plans
from .french import paris_datetime
from .state import DataExport, State

# Alma publishes neither the labels nor the units of its accounting CSV (alma-api.md, "Money"):
# these French labels and integer cents are the stand-in's choice; the add-on reads French or
# English labels, cents or decimal euros.
HEADER = (
    "Date de création (Europe/Paris)",
    "Montant brut",
    "Frais Alma",
    "Montant net",
    "TVA sur les frais",
    "Nombre d'échéances",
    "Nom du client",
    "Email du client",
    "ID de la transaction de solde",
    "ID du paiement",
    "ID du remboursement",
)


def accounting_csv(state: State, export: DataExport) -> str:
    """One line per charged payment created in [start, end], then one negative line per refund.

    Alma keeps its fee when a payment is refunded, so refund lines carry no fee.
    """
    rows = []
    for payment_id, payment in list(state.payments.items()):
        meta = state.meta[payment_id]
        if meta.merchant_id != export.merchant_id or not payments.is_charged(payment):
            continue
        if not export.start <= payment["created"] <= export.end:
            continue
        rows.append(
            _line(payment, payment["created"], payment["purchase_amount"], meta.merchant_fee)
        )
        for refund in payment["refunds"]:
            rows.append(_line(payment, refund["created"], -refund["amount"], 0, refund["id"]))
    rows.sort(key=lambda row: row[0])  # ISO-like dates sort chronologically
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return output.getvalue()


def _line(payment: dict, created: int, gross: int, fee: int, refund_id: str = "") -> list:
    # One balance transaction per payment or refund; its id is derived so it stays stable.
    source_id = refund_id or payment["id"]
    return [
        paris_datetime(created).strftime("%Y-%m-%d %H:%M:%S"),
        gross,
        fee,
        gross - fee,
        plans.round_half_up(fee * plans.VAT_PERCENT, 100),
        payment["installments_count"],
        payments.customer_name(payment),
        payment["customer"].get("email") or "",
        "balance_transaction_" + source_id.split("_", 1)[1],
        payment["id"],
        refund_id,
    ]
