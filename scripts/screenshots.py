"""Takes the README's screenshots from a running demo (scripts/demo), in headless Chromium.

A developer's tool, not a test: it needs Playwright's Python package (no browser download:
it drives Debian's /usr/bin/chromium), e.g. `python -m venv /tmp/shots &&
/tmp/shots/bin/pip install playwright && /tmp/shots/bin/python scripts/screenshots.py`.
Every screen is taken as the clinic's French staff and customers see it, each logged in as
themselves with only their job's groups (hooks.py): the administrator, the cashier `accueil`,
the bookkeeper `compta`, the portal customer Jean Martin (users in French, browser in French,
Paris time, a laptop's 1366 px). It stops on an error dialog ("Oups !"). DEMO_URL and
STANDIN_URL point at another demo's ports.
"""

import json
import os
import re
import sys
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ODOO = os.environ.get('DEMO_URL', 'http://localhost:8069')
STANDIN = os.environ.get('STANDIN_URL', 'http://127.0.0.1:8071')
OUT = Path(__file__).resolve().parent.parent / 'static' / 'description' / 'screenshots'
# The demo's portal customer (hooks.py).
PORTAL_LOGIN, PORTAL_PASSWORD = 'jean.martin@example.com', 'jean'
FRENCH = {'locale': 'fr-FR', 'timezone_id': 'Europe/Paris'}


def shoot(page, name, selector=None):
    if page.locator('.o_error_dialog').count():
        raise SystemExit(f"{name}: {page.locator('.o_error_dialog').inner_text()}")
    target = page.locator(selector).first if selector else page
    target.screenshot(path=str(OUT / f'{name}.png'))
    print(f"{name}.png")


def rpc(page, model, method, args, kwargs=None):
    return page.evaluate("""async ([model, method, args, kwargs]) => {
        const response = await fetch('/web/dataset/call_kw', {method: 'POST',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({jsonrpc: '2.0', method: 'call', params: {
                model, method, args, kwargs}})});
        const answer = await response.json();
        if (answer.error) {
            throw new Error(JSON.stringify(answer.error.data || answer.error));
        }
        return answer.result;
    }""", [model, method, args, kwargs or {}])


def log_in(page, login, password):
    page.goto(f'{ODOO}/web/login')
    page.fill('input[name=login]', login)
    page.fill('input[name=password]', password)
    page.click('button[type=submit]')
    page.wait_for_url(lambda url: '/web/login' not in url)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path='/usr/bin/chromium',
            args=['--no-sandbox', '--disable-gpu', '--disable-background-networking',
                  '--disable-component-update'])
        def staff_page(login, height=800):
            member = browser.new_context(viewport={'width': 1366, 'height': height},
                                         **FRENCH).new_page()
            log_in(member, login, login)
            return member

        page = staff_page('admin')
        page.wait_for_url('**/odoo**')
        # The clinic's staff work in French, whatever the database was made with.
        users = rpc(page, 'res.users', 'search', [[('share', '=', False)]])
        rpc(page, 'res.users', 'write', [users, {'lang': 'fr_FR', 'tz': 'Europe/Paris'}])
        page.reload()

        # The provider, after Check connection.
        [invoicing] = rpc(page, 'ir.model.data', 'search_read', [
            [('module', '=', 'account'), ('name', '=', 'menu_finance')]], {'fields': ['res_id']})
        page.goto(f"{ODOO}/odoo/action-payment_alma.action_payment_provider_alma"
                  f"?menu_id={invoicing['res_id']}")  # Under Invoicing's menu.
        page.click('.o_data_row td[name=name]')
        page.click('button[name=action_alma_check_connection]')
        page.wait_for_selector('.o_notification')
        page.wait_for_timeout(800)  # The notification fades in.
        shoot(page, 'provider')
        # Vérifier avec le bac à sable Alma: the stand-in plays the clinic's sandbox.
        page.click('button[name=action_alma_sandbox_check]')
        page.wait_for_selector('.o_field_widget[name=alma_sandbox_check_ids] .o_data_row')
        page.mouse.move(5, 400)  # Not on the button: its tooltip would hide the lines.
        page.wait_for_timeout(800)
        shoot(page, 'sandbox_check')

        # The till: a 399 € spaying for Jean Martin's dog, paid with Alma in 3x.
        [config] = rpc(page, 'pos.config', 'search_read',
                       [[('name', '=', "Accueil clinique")]], {'fields': ['id']})
        admin, page = page, staff_page('accueil')
        page.goto(f"{ODOO}/pos/ui?config_id={config['id']}")
        for _attempt in range(60):  # The register may need opening first (a card, a dialog).
            opener = page.get_by_text(re.compile(r'^\s*(Ouvrir la caisse|Open Register)\s*$'))
            if opener.count() and opener.last.is_visible():
                opener.last.click()
            elif page.locator('.product-screen').is_visible() and not page.locator(
                    '.modal-dialog').count():
                break
            page.wait_for_timeout(1000)
        page.click('.product-list article:has-text("Stérilisation chienne")')
        page.click('.product-screen .set-partner')
        page.click('.partner-line:has-text("Jean Martin")')
        page.click('.product-screen .pay-order-button')
        page.click('.paymentmethod:has-text("Alma")')
        page.click('.paymentlines .send_payment_request')
        page.wait_for_selector('.o_alma_dialog .o_alma_plan')
        page.click('.o_alma_dialog .o_alma_plan[data-plan-code="P3X"]')
        shoot(page, 'pos_plans', '.modal-content')
        page.click('.o_alma_dialog .o_alma_next')
        page.wait_for_selector('.o_alma_step_current[data-step="contact"]')
        shoot(page, 'pos_contact', '.modal-content')
        page.click('.o_alma_dialog .o_alma_next')
        page.wait_for_selector('.o_alma_step_current[data-step="fees"]')
        shoot(page, 'pos_fees', '.modal-content')
        page.click('.o_alma_dialog .o_alma_next')
        page.click('.o_alma_dialog .o_alma_mode_sms')
        page.wait_for_selector('.o_alma_pill_waiting')
        shoot(page, 'pos_waiting')

        # The customer pays from the SMS, on the stand-in's page.
        sms = json.load(urllib.request.urlopen(f'{STANDIN}/_standin/sms?format=json'))
        phone = browser.new_context(viewport={'width': 420, 'height': 860}, **FRENCH)
        customer = phone.new_page()
        customer.goto(sms[0]['url'])
        shoot(customer, 'customer_page')
        customer.fill('#card_number', '4242 4242 4242 4242')
        customer.click('#pay')
        page.wait_for_selector('.o_alma_pill_accepted, .receipt-screen', timeout=30000)
        if page.locator('.o_alma_pill_accepted').count():
            shoot(page, 'pos_accepted')
            page.click('.payment-screen .button.next.highlight')
        page.wait_for_selector('.receipt-screen')
        shoot(page, 'receipt')

        # The customer pays his invoice in the portal, in a private window of his own.
        portal = browser.new_context(viewport={'width': 1280, 'height': 1300}, **FRENCH).new_page()
        log_in(portal, PORTAL_LOGIN, PORTAL_PASSWORD)
        portal.goto(f'{ODOO}/my/invoices')
        portal.click('.o_portal_my_doc_table tbody tr a')
        portal.click("a[data-bs-target='#pay_with']")
        alma = portal.locator("input[name='o_payment_radio'][data-provider-code='alma']")
        if not alma.is_checked():  # Alma alone is chosen already.
            alma.check(force=True)
        portal.click(".o_alma_plan[data-plan-code='P3X'] label")
        portal.wait_for_timeout(500)
        shoot(portal, 'portal_plans', '#pay_with .modal-content')
        portal.click("button[name='o_payment_submit_button']")
        portal.wait_for_url(f'{STANDIN}/**')
        portal.fill('#card_number', '4242 4242 4242 4242')
        portal.click('#pay')
        portal.click('#return_link')
        portal.wait_for_url('**/my/invoices/**', timeout=30000)
        # The invoice itself is an iframe, rendered after the page.
        portal.frame_locator('#invoice_html').get_by_text('Montant dû').wait_for()
        shoot(portal, 'portal_paid')

        # A phone sale: the bookkeeper sends Sophie Bernard's invoice to Alma by SMS.
        [invoice] = rpc(admin, 'account.move', 'search', [[
            ('partner_id.name', '=', "Sophie Bernard"), ('move_type', '=', 'out_invoice'),
            ('state', '=', 'posted'), ('payment_state', '=', 'not_paid')]], {'limit': 1})
        page = staff_page('compta', height=900)
        page.goto(f'{ODOO}/odoo/action-account.action_move_out_invoice_type/{invoice}')
        page.click(".o_form_view button[name='action_alma_pay']")
        page.click(".modal .o_alma_plan[data-plan-code='P3X']")
        page.click(".modal div[name='send_mode'] input[data-value='sms']")
        page.wait_for_timeout(500)
        shoot(page, 'invoice_plans', '.modal-content')
        page.click(".modal button[name='action_send_link']")
        page.wait_for_selector(".modal .o_alma_sent div[name='payment_state']")
        shoot(page, 'invoice_sent', '.modal-content')
        sms = json.load(urllib.request.urlopen(f'{STANDIN}/_standin/sms?format=json'))
        customer.goto(sms[0]['url'])  # The newest first.
        customer.fill('#card_number', '4242 4242 4242 4242')
        customer.click('#pay')
        page.wait_for_selector(".modal div[name='payment_state']:has-text('Accepté')",
                               timeout=20000)
        shoot(page, 'invoice_accepted', '.modal-content')
        page.click(".modal .modal-footer button:has-text('Fermer')")

        # The bookkeeper's grid, at a laptop's width: a line settled, then Alma's transfer.
        page.goto(f'{ODOO}/odoo/action-payment_alma.action_alma_fee_line')
        page.wait_for_selector('.o_data_row')
        page.dblclick('.o_data_row:first-child td[name=partner_id]')
        page.wait_for_selector('.o_data_row td[name=settled_mark]:has-text("✓")')
        shoot(page, 'frais_alma')
        page.click('.o_list_record_selector input', force=True)
        page.click("button[name='action_alma_record_transfer']")
        page.wait_for_selector('.modal .o_alma_amount_received')
        shoot(page, 'transfer', '.modal-content')
        # The month in pictures: the pivot of "Frais Alma", then Alma payments by channel.
        page.keyboard.press('Escape')
        page.goto(f'{ODOO}/odoo/action-payment_alma.action_alma_fee_line?view_type=pivot')
        page.wait_for_selector('.o_pivot table')
        shoot(page, 'frais_alma_pivot')
        page.goto(f'{ODOO}/odoo/action-payment_alma.action_alma_payment?view_type=graph')
        page.wait_for_selector('.o_graph_renderer canvas')
        page.wait_for_timeout(800)
        shoot(page, 'alma_payments_graph')
        browser.close()


if __name__ == '__main__':
    sys.exit(main())
