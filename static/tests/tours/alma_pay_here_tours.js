import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import { registry } from "@web/core/registry";
import { Alma, FRENCH, fail, textsAre } from "@payment_alma/../tests/tours/alma_tours";

/*
 * "Payer ici" at a French till, with the browser's own windows: Alma's page opens in a real
 * window on the stand-in's site (another origin than the till), the customer pays or is
 * refused there, and the till closes that window itself (tests/test_pos_tours.py,
 * TestAlmaPayHereWindow). The tour only watches window.open (it still opens the window).
 */

const DECLINED_CARD = "4000000000000002";

/** The windows the till opened, as the browser gave them. */
function almaWindows() {
    return window.__almaWindows || [];
}

/** Whether `popup` shows a page of another origin than the till (its address is not ours). */
function onAnotherOrigin(popup) {
    try {
        return popup.location.href === undefined;
    } catch {
        return true;
    }
}

async function waitFor(condition, what, timeout = 15000) {
    const end = Date.now() + timeout;
    while (!condition()) {
        if (Date.now() > end) {
            fail(`Still not: ${what}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

function payHereWindow(outcome) {
    return [
        Alma.startWith("Consultation", { words: FRENCH }),
        Alma.addLine("399.00"),
        {
            content: "watch the windows the till opens (they open for real)",
            trigger: "body",
            run() {
                window.__almaWindows = [];
                const open = window.open;
                window.open = function (...args) {
                    const popup = open.apply(this, args);
                    if (popup) {
                        window.__almaWindows.push(popup);
                    }
                    return popup;
                };
            },
        },
        Alma.clickSend(),
        Alma.send("P3X", "here"),
        textsAre(".o_alma_status .o_alma_mode_label", ["Sur cet appareil"], "how the customer pays"),
        textsAre(".o_alma_status .o_alma_show_here", ["Afficher la page d’Alma"], "the button"),
        {
            content: "Alma's page is open in one window, on Alma's site",
            trigger: ".o_alma_status .o_alma_pill_waiting",
            async run() {
                const windows = almaWindows();
                if (windows.length !== 1) {
                    fail(`${windows.length} windows opened, not one`);
                }
                await waitFor(() => onAnotherOrigin(windows[0]), "on Alma's site");
                if (windows[0].closed) {
                    fail("Alma's window is closed");
                }
            },
        },
        {
            content: "the cashier presses Afficher la page d'Alma",
            trigger: ".o_alma_status .o_alma_show_here",
            run: "click",
        },
        {
            content: "the same window is brought back, still on Alma's page, without an error",
            trigger: "body:not(:has(.o_error_dialog)) .o_alma_status .o_alma_pill_waiting",
            run() {
                const windows = almaWindows();
                if (windows.length !== 1 || windows[0].closed) {
                    fail(`${windows.length} windows, the first closed: ${windows[0]?.closed}`);
                }
            },
        },
        outcome,
        {
            content: "the till closed Alma's window",
            trigger: "body:not(:has(.o_error_dialog)) .o_alma_status",
            async run() {
                await waitFor(() => almaWindows().every((popup) => popup.closed), "closed");
            },
        },
    ].flat(Infinity);
}

registry.category("web_tour.tours").add("AlmaPayHereWindowFr", {
    steps: () =>
        [
            payHereWindow([Alma.customerPays(), Alma.isAccepted()]),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
        ].flat(Infinity),
});

registry.category("web_tour.tours").add("AlmaPayHereWindowRefusedFr", {
    steps: () =>
        [
            payHereWindow([Alma.customerPays(DECLINED_CARD), Alma.isRefused()]),
            PaymentScreen.validateButtonIsHighlighted(false),
        ].flat(Infinity),
});
