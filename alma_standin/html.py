"""HTML of the customer page, the SMS outbox and the home page (French, no external assets)."""

from datetime import date
from html import escape

from . import plans
from .french import euros, long_date, paris_datetime

CSS = """
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       background: #f7f3ef; color: #1f1f1f; }
header { background: #fa5022; color: #fff; padding: 14px 24px; }
header .logo { font-weight: 800; font-size: 1.4em; letter-spacing: .02em; }
header .tag { opacity: .85; margin-left: 8px; }
main { max-width: 560px; margin: 32px auto; background: #fff; border-radius: 14px;
       padding: 24px 28px; box-shadow: 0 2px 14px rgba(0, 0, 0, .08); }
main.wide { max-width: 1000px; }
h1 { font-size: 1.5em; margin: 0 0 16px; }
h2 { font-size: 1.05em; margin: 24px 0 8px; color: #555; }
.merchant { color: #666; margin: 0 0 4px; }
table { width: 100%; border-collapse: collapse; }
td, th { padding: 8px 4px; border-bottom: 1px solid #eee; text-align: left; }
td.amount, th.amount { text-align: right; white-space: nowrap; }
tr.total td { font-weight: 700; border-bottom: none; }
.fee { color: #777; font-size: .9em; }
label { display: block; font-weight: 600; margin: 20px 0 6px; }
input { width: 100%; box-sizing: border-box; font-size: 1.1em; padding: 10px 12px;
        border: 1px solid #ccc; border-radius: 8px; }
.hint { color: #666; font-size: .9em; margin: 6px 0 0; }
.error { color: #b00020; font-weight: 600; }
button, a.button { display: inline-block; margin-top: 18px; background: #fa5022; color: #fff;
                   border: none; border-radius: 8px; padding: 12px 22px; font-size: 1.05em;
                   text-decoration: none; cursor: pointer; }
.status { padding: 14px 16px; border-radius: 8px; background: #f2f2f2; margin-top: 20px; }
.status-accepted { background: #e6f6ea; } .status-refused { background: #fde8ea; }
.sms { list-style: none; border: 1px solid #eee; border-radius: 10px; padding: 12px 14px;
       margin-bottom: 12px; }
.sms_meta { color: #777; font-size: .9em; }
ul { padding: 0; }
"""

STATUS_MESSAGES = {
    "accepted": "Ce paiement a déjà été effectué.",
    "refused": "Ce paiement a été refusé.",
    "cancelled": "Ce paiement a été annulé.",
    "expired": "Ce lien a expiré.",
}
STATUS_LABELS = {
    "payable": "à payer",
    "accepted": "accepté",
    "refused": "refusé",
    "cancelled": "annulé",
    "expired": "expiré",
}
CARD_HINT = "4242 4242 4242 4242 : acceptée — 4000 0000 0000 0002 : refusée"


def layout(title: str, content: str, *, wide: bool = False) -> str:
    main_class = ' class="wide"' if wide else ""
    return f"""<!DOCTYPE html>
<html lang="fr">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{CSS}</style></head>
<body><header><span class="logo">alma</span><span class="tag">stand-in local</span></header>
<main{main_class}>
{content}
</main></body></html>
"""


def payment_page(
    payment: dict,
    merchant_name: str,
    status: str,
    today: date,
    *,
    error: str | None = None,
    return_url: str | None = None,
    cancel_url: str | None = None,
) -> str:
    """The page of the payment link: the schedule, then the card form or the payment's state."""
    if status == "payable":
        action = payment_form(payment, error) + give_up_link(cancel_url)
    else:
        action = status_block(status, return_url)
    amount = f'<span id="purchase_amount">{euros(payment["purchase_amount"])}</span>'
    content = "\n".join(
        [
            f'<p class="merchant" id="merchant_name">{escape(merchant_name)}</p>',
            f"<h1>Payer {amount} {plan_phrase(payment)}</h1>",
            schedule_table(payment, today),
            customer_block(payment),
            action,
        ]
    )
    return layout(f"Paiement — {merchant_name}", content)


def plan_phrase(payment: dict) -> str:
    if payment["installments_count"] > 1:
        return f"en {payment['installments_count']} fois"
    if payment["deferred_months"]:
        return f"dans {payment['deferred_months']} mois"
    if payment["deferred_days"]:
        return f"dans {payment['deferred_days']} jours"
    return ""


def schedule_table(payment: dict, today: date) -> str:
    rows = []
    for installment in payment["payment_plan"]:
        day = plans.utc_day(installment["due_date"])
        label = "Aujourd'hui" if day == today else long_date(day)
        fee = installment["customer_fee"]
        fee_note = f' <span class="fee">(dont {euros(fee)} de frais)</span>' if fee else ""
        rows.append(
            f'<tr class="installment"><td>{label}</td>'
            f'<td class="amount">{euros(installment["total_amount"])}{fee_note}</td></tr>'
        )
    total = sum(installment["total_amount"] for installment in payment["payment_plan"])
    rows.append(
        f'<tr class="total"><td>Total</td>'
        f'<td class="amount" id="schedule_total">{euros(total)}</td></tr>'
    )
    return '<table id="schedule">\n' + "\n".join(rows) + "\n</table>"


def customer_block(payment: dict) -> str:
    customer = payment["customer"]
    name = " ".join(filter(None, (customer.get("first_name"), customer.get("last_name"))))
    lines = [
        ("customer_name", name),
        ("customer_phone", customer.get("phone")),
        ("customer_email", customer.get("email")),
    ]
    paragraphs = "".join(
        f'<p id="{element_id}">{escape(value)}</p>' for element_id, value in lines if value
    )
    return f'<section id="customer"><h2>Vos informations</h2>{paragraphs}</section>'


def payment_form(payment: dict, error: str | None) -> str:
    count = payment["installments_count"]
    label = f"Payer en {count} fois" if count > 1 else "Payer"
    error_html = (
        f'<p class="error" id="card_error" role="alert">{escape(error)}</p>' if error else ""
    )
    return f"""<form id="payment_form" method="post" action="/pay/{escape(payment["id"])}">
<label for="card_number">Numéro de carte</label>
<input id="card_number" name="card_number" type="text" inputmode="numeric" autocomplete="off"
       placeholder="4242 4242 4242 4242">
<p class="hint" id="card_hint">{CARD_HINT}</p>
{error_html}
<button type="submit" id="pay" name="pay" value="1">{label}</button>
</form>"""


def status_block(status: str, return_url: str | None) -> str:
    message = escape(STATUS_MESSAGES[status])
    return (
        f'<div class="status status-{status}" id="payment_state" data-state="{status}">'
        f"<p>{message}</p></div>{return_link(return_url)}"
    )


def return_link(url: str | None) -> str:
    if not url:
        return ""
    return f'<a class="button" id="return_link" href="{escape(url)}">Retourner chez le marchand</a>'


def give_up_link(url: str | None) -> str:
    """The customer leaves without paying, back to the merchant's `customer_cancel_url`."""
    if not url:
        return ""
    label = "Annuler et revenir chez le marchand"
    return f'<a class="secondary" id="give_up_link" href="{escape(url)}">{label}</a>'


def result_page(merchant_name: str, accepted: bool, return_url: str | None) -> str:
    """The answer to the card form."""
    status = "accepted" if accepted else "refused"
    title = "Paiement accepté" if accepted else "Paiement refusé"
    message = (
        f"Merci ! {merchant_name} a bien reçu votre paiement."
        if accepted
        else "Votre banque a refusé la carte. Aucun montant n'a été prélevé."
    )
    content = (
        f'<h1 id="result_title" data-state="{status}">{title}</h1>'
        f'<p id="result_message">{escape(message)}</p>{return_link(return_url)}'
    )
    return layout(title, content)


def not_found_page() -> str:
    return layout(
        "Lien introuvable", '<h1 id="not_found">Ce lien de paiement est introuvable.</h1>'
    )


def sms_page(messages: list[dict]) -> str:
    """The SMS outbox, newest first; the newest link also has the id `latest_sms_link`."""
    if not messages:
        items = '<p id="sms_empty">Aucun SMS envoyé.</p>'
    else:
        items = (
            '<ul id="sms_list">'
            + "".join(_sms_item(sms, newest=index == 0) for index, sms in enumerate(messages))
            + "</ul>"
        )
    content = f'<h1>SMS envoyés</h1><p><a href="/" id="home_link">Accueil</a></p>{items}'
    return layout("SMS envoyés", content)


def _sms_item(sms: dict, *, newest: bool) -> str:
    sent = paris_datetime(sms["sent_at"]).strftime("%d/%m/%Y %H:%M:%S")
    text = sms["text"].removesuffix(sms["url"])
    link_id = ' id="latest_sms_link"' if newest else ""
    return (
        f'<li class="sms" data-payment-id="{escape(sms["payment_id"])}">'
        f'<div class="sms_meta">À {escape(sms["phone"] or "")} — {sent}</div>'
        f'<p class="sms_text">{escape(text)}'
        f'<a class="sms_link"{link_id} href="{escape(sms["url"])}">{escape(sms["url"])}</a></p>'
        "</li>"
    )


def home_page(rows: list[dict], api_keys: dict[str, str]) -> str:
    """`rows`: dicts with payment, merchant_name and status (the customer page's state)."""
    keys = "".join(
        f"<tr><td><code>{escape(key)}</code></td><td>{escape(name)}</td></tr>"
        for key, name in api_keys.items()
    )
    payments = "".join(_payment_row(**row) for row in rows) or (
        '<tr><td colspan="6" id="no_payments">Aucun paiement.</td></tr>'
    )
    content = f"""<h1>Alma stand-in</h1>
<p>Une imitation locale de l'API Alma, pour les tests et la démo.
<a href="/_standin/sms" id="sms_outbox_link">SMS envoyés</a></p>
<h2>Paiements</h2>
<table id="payments"><tr><th>Paiement</th><th>Marchand</th><th class="amount">Montant</th>
<th>Formule</th><th>État API</th><th>Lien client</th></tr>
{payments}</table>
<h2>Clés API</h2>
<table id="api_keys">{keys}</table>"""
    return layout("Alma stand-in", content, wide=True)


def _payment_row(payment: dict, merchant_name: str, status: str) -> str:
    created = paris_datetime(payment["created"]).strftime("%d/%m/%Y %H:%M")
    return (
        f'<tr class="payment" data-payment-id="{escape(payment["id"])}">'
        f'<td><a class="payment_link" href="/pay/{escape(payment["id"])}">'
        f"{escape(payment['id'])}</a><br><small>{created}</small></td>"
        f"<td>{escape(merchant_name)}</td>"
        f'<td class="amount">{euros(payment["purchase_amount"])}</td>'
        f"<td>{escape(payment['kind'])}</td><td>{escape(payment['state'])}</td>"
        f"<td>{STATUS_LABELS[status]}</td></tr>"
    )
