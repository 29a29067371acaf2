"""Issue 18, journey 1: "Payer ici" at the clinic's till, in the browser's own window.

The cashier of the demo clinic (`accueil`, Point of Sale user, in French) presses "Sur cet
appareil": Alma's page opens in a real window of Chromium over the till, the customer types a
card there, and the window closes by itself (Alma's return page, or the till once it learns the
outcome). Two things a tour cannot do are done by the test through the Chrome DevTools Protocol
that Odoo's own `ChromeBrowser` speaks: the cashier's click is a real mouse click (a tour's
click is no user's gesture, and Chrome blocks the window it opens), and the customer's side is
played in the window that opened, found among Chrome's windows.
"""
import contextlib
import json
import threading
import time
from concurrent.futures import InvalidStateError
from unittest.mock import patch

import requests

from odoo.tests import tagged
from odoo.tests.common import HOST, ChromeBrowser, ChromeBrowserException

from odoo.addons.payment_alma.tests.common import ClinicCommon

try:
    import websocket
except ImportError:  # Odoo's browser tests are skipped without it (scripts/test: a failure).
    websocket = None

ACCEPTED_CARD = '4242 4242 4242 4242'
DECLINED_CARD = '4000 0000 0000 0002'
WAIT = 30  # seconds for a step of the cashier or the customer


class PageSession:
    """A DevTools connection to one window of Chrome (the customer's, on Alma's page)."""

    def __init__(self, target):
        self.ws = websocket.create_connection(target['webSocketDebuggerUrl'],
                                              suppress_origin=True, timeout=10)
        self.ids = iter(range(1, 1_000_000))

    def evaluate(self, expression):
        """The value of `expression` in the window, or None while it is between two pages."""
        request_id = next(self.ids)
        self.ws.send(json.dumps({'id': request_id, 'method': 'Runtime.evaluate', 'params': {
            'expression': expression, 'returnByValue': True}}))
        while True:
            try:
                answer = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                return None  # A page still loading: asked again (a late answer is skipped).
            if answer.get('id') == request_id:
                return answer.get('result', {}).get('result', {}).get('value')

    def close(self):
        with contextlib.suppress(websocket.WebSocketException, OSError):  # The window is gone.
            self.ws.close()


class RealWindowJourney:
    """The test's side of a tour of `alma_journey_window_tours.js`, run beside it in a thread
    while Odoo waits for the tour: the cashier's real click, then the customer in Alma's
    window. A failure here fails the tour at once, with what was seen."""

    def __init__(self, browser, card, customer_returns):
        self.browser = browser
        self.card = card
        self.customer_returns = customer_returns
        self.seen = {}  # What the test saw: the windows that opened, Alma's answer.

    def run(self):
        try:
            self._journey()
        except Exception as error:  # Any: it is the tour's failure, with what was seen.
            self.browser._logger.info("The real window's journey stopped: %s", error)
            # InvalidStateError: the tour already failed (its own message says why).
            with contextlib.suppress(InvalidStateError):
                self.browser._result.set_exception(ChromeBrowserException(
                    f"Payer ici, real window: {error} (seen: {self.seen})"))

    # --- the till's page, through Odoo's own connection to Chrome ------------------------

    def till(self, expression):
        answer = self.browser._websocket_request('Runtime.evaluate', params={
            'expression': expression, 'returnByValue': True})
        return answer['result'].get('value')

    def wait(self, condition, what, timeout=WAIT):
        end = time.time() + timeout
        while time.time() < end:
            if self.browser._result.done():
                raise RuntimeError(f"the tour ended while waiting for {what}")
            value = condition()
            if value:
                return value
            time.sleep(0.2)
        raise RuntimeError(f"still not, after {timeout} s: {what}")

    def windows(self):
        """Chrome's windows (its page targets)."""
        answer = requests.get(f'http://{HOST}:{self.browser.devtools_port}/json/list', timeout=5)
        return [target for target in answer.json() if target['type'] == 'page']

    def real_click(self, selector):
        """A click of the mouse on `selector` (a trusted event: the user's gesture)."""
        box = self.till(f"""(() => {{
            const element = document.querySelector({json.dumps(selector)});
            element.scrollIntoView({{block: 'center'}});
            const box = element.getBoundingClientRect();
            return {{x: box.x + box.width / 2, y: box.y + box.height / 2}};
        }})()""")
        mouse = {'x': box['x'], 'y': box['y'], 'button': 'left', 'clickCount': 1}
        self.browser._websocket_request('Input.dispatchMouseEvent', params={
            'type': 'mouseMoved', 'x': box['x'], 'y': box['y']})
        self.browser._websocket_request('Input.dispatchMouseEvent',
                                        params={'type': 'mousePressed', **mouse})
        self.browser._websocket_request('Input.dispatchMouseEvent',
                                        params={'type': 'mouseReleased', **mouse})

    # --- the journey -----------------------------------------------------------------------

    def _journey(self):
        till_windows = {target['id'] for target in self.windows()}
        selector = self.wait(lambda: self.till('document.body.dataset.almaRealClick'),
                             "the tour at the step of \"Sur cet appareil\"", timeout=3 * WAIT)
        self.real_click(selector)

        def alma_windows():
            return [target for target in self.windows() if target['id'] not in till_windows]

        opened = self.wait(lambda: [target for target in alma_windows()
                                    if '/pay/' in target['url']],
                           "Alma's page in a window of its own")
        self.seen['opened'] = [target['url'] for target in alma_windows()]
        self.wait(lambda: self.till('document.body.dataset.almaCustomer') == 'pay',
                  "the cashier handing the device to the customer")

        page = PageSession(opened[0])
        try:
            self.wait(lambda: page.evaluate("!!document.querySelector('#card_number')"),
                      "the card form on Alma's page")
            page.evaluate(f"""document.querySelector('#card_number').value = {
                json.dumps(self.card)}; document.querySelector('#pay').click(); true""")
            self.seen['answer'] = self.wait(lambda: self._answer(page), "Alma's answer")
            if self.customer_returns and self.seen['answer'] != 'closed':
                # The customer goes back to the clinic (unless the till closed the window).
                with contextlib.suppress(websocket.WebSocketException, OSError):
                    page.evaluate("document.querySelector('#return_link').click(); true")
        finally:
            page.close()

        self.wait(lambda: not alma_windows(), "Alma's window closing by itself")
        self.till(f'document.body.dataset.almaWindows = "{len(alma_windows())}"')

    @staticmethod
    def _answer(page):
        """Alma's answer to the card ('accepted', 'refused'), or 'closed' if the till closed
        the window first."""
        try:
            return page.evaluate(
                "document.querySelector('#result_title')?.dataset.state || null")
        except (websocket.WebSocketException, OSError):
            return 'closed'


@tagged('post_install', '-at_install', 'alma_tours')
class TestClinicPayHereWindow(ClinicCommon):
    """Journey 1 at the counter: "Payer ici" in a real window, paid then refused."""

    def pay_here(self, tour, card, customer_returns):
        """Run `tour` as the cashier, the test playing the real click and the customer."""
        journeys = []
        wait_code_ok = ChromeBrowser._wait_code_ok

        def with_the_real_window(browser, code, timeout, error_checker=None):
            journey = RealWindowJourney(browser, card, customer_returns)
            journeys.append(journey)
            thread = threading.Thread(target=journey.run, name="Payer ici, real window",
                                      daemon=True)
            thread.start()
            try:
                return wait_code_ok(browser, code, timeout, error_checker=error_checker)
            finally:
                thread.join(WAIT)

        with patch.object(ChromeBrowser, '_wait_code_ok', with_the_real_window):
            self.start_tour(f'/pos/ui?config_id={self.till.id}', tour,
                            login=self.cashier.login, timeout=120)
        [journey] = journeys
        return journey.seen

    def alma_payment(self):
        payments = self.env['alma.payment'].search([('company_id', '=', self.clinic.id)])
        self.assertEqual(len(payments), 1)
        return payments

    def test_paid_in_almas_window(self):
        seen = self.pay_here('AlmaClinicPayHereWindow', ACCEPTED_CARD, customer_returns=True)
        payment = self.alma_payment()
        # One window opened, on the payment's page at Alma; none left open.
        self.assertEqual(seen['opened'], [payment.url])
        self.assertIn(seen['answer'], ('accepted', 'closed'))
        self.assertEqual((payment.state, payment.send_mode, payment.price),
                         ('accepted', 'here', 399.0))
        # Alma sends the customer back to the page that closes the window.
        standin_payment = self.standin.payments[payment.alma_id]
        for key in ('return_url', 'failure_return_url', 'customer_cancel_url'):
            self.assertTrue(standin_payment[key].endswith('/payment/alma/return'), key)
        order = self.env['pos.order'].search([('config_id', '=', self.till.id)])
        self.assertEqual((order.state, order.amount_total), ('paid', 399.0))
        self.assertEqual(order.payment_ids.payment_method_id, self.alma_pos_method)
        self.assertEqual(order.payment_ids.transaction_id, payment.alma_id)
        line = self.env['alma.fee.line'].search([('alma_payment_id', '=', payment.id)])
        self.assertEqual(line.gross, 399.0)

    def test_refused_in_almas_window(self):
        seen = self.pay_here('AlmaClinicPayHereWindowRefused', DECLINED_CARD,
                             customer_returns=False)
        payment = self.alma_payment()
        self.assertEqual(seen['opened'], [payment.url])
        self.assertIn(seen['answer'], ('refused', 'closed'))
        self.assertEqual((payment.state, payment.send_mode, payment.state_reason_code),
                         ('refused', 'here', 'refused'))
        self.assertFalse(self.env['pos.order'].search([('config_id', '=', self.till.id),
                                                       ('state', '=', 'paid')]))
        self.assertFalse(self.env['alma.fee.line'].search([('alma_payment_id', '=', payment.id)]))
