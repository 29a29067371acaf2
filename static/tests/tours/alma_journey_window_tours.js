import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import {registry} from "@web/core/registry";
import {Alma, FRENCH, textsAre} from "@payment_alma/../tests/tours/utils/alma_util";

/*
 * "Payer ici" at the clinic's till with the browser's own window (issue 18, journey 1): the
 * tour plays the cashier; the test (tests/test_journey_window.py) plays what a tour cannot,
 * through Chrome itself: the cashier's real click on "Sur cet appareil" (a tour's click is not
 * the user's, and Chrome blocks the window it opens), and the customer on Alma's page in the
 * window that opened. They hand over through marks on the till's page:
 *   - body[data-alma-real-click]: the tour asks the test to click this element for real;
 *   - body[data-alma-customer="pay"]: the customer may pay in Alma's window;
 *   - body[data-alma-windows]: the test counted Chrome's windows once Alma's one was gone.
 */

const SPAYING = "Stérilisation chienne (ovariectomie)";

function mark(name, value) {
    return {
        content: `tell the test: ${name} = ${value}`,
        trigger: "body",
        run() {
            document.body.dataset[name] = value;
        },
    };
}

function payHere(outcome) {
    return [
        Alma.startWith(SPAYING, {words: FRENCH}),
        Alma.addLine("399.00"),
        Alma.clickSend(),
        Alma.dialogIsOpen(),
        Alma.choosePlan("P3X"),
        Alma.keepContact(),
        Alma.keepFees(),
        Alma.stepIs("mode"),
        textsAre(".o_alma_dialog .o_alma_mode_here .fs-4", ["Payer ici"], "the button"),
        textsAre(
            ".o_alma_dialog .o_alma_mode_here .small",
            ["Sur cet appareil"],
            "its label"
        ),
        mark("almaRealClick", ".o_alma_dialog .o_alma_mode_here"),
        {
            content:
                "the cashier's real click (by the test) sent the payment: the dialog closes",
            trigger:
                "body:not(:has(.o_alma_dialog)) .o_alma_status .o_alma_pill_waiting",
            timeout: 30000,
        },
        textsAre(
            ".o_alma_status .o_alma_mode_label",
            ["Sur cet appareil"],
            "how the customer pays"
        ),
        textsAre(
            ".o_alma_status .o_alma_show_here",
            ["Afficher la page d’Alma"],
            "the button"
        ),
        {
            content: "the cashier brings Alma's window back over the till",
            trigger: ".o_alma_status .o_alma_show_here",
            run: "click",
        },
        {
            content: "no error, the line still waits for the customer",
            trigger:
                "body:not(:has(.o_error_dialog)) .o_alma_status .o_alma_pill_waiting",
        },
        mark("almaCustomer", "pay"),
        outcome,
        {
            content: "Alma's window is gone: Chrome shows the till alone",
            trigger: 'body[data-alma-windows="0"]:not(:has(.o_error_dialog))',
            timeout: 30000,
        },
    ].flat(Infinity);
}

registry.category("web_tour.tours").add("AlmaClinicPayHereWindow", {
    steps: () =>
        [
            payHere([
                Alma.isAccepted(),
                textsAre(
                    ".o_alma_status .o_alma_pill_accepted .o_alma_pill_text",
                    ["Accepté"],
                    "the green pill"
                ),
            ]),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
        ].flat(Infinity),
});

registry.category("web_tour.tours").add("AlmaClinicPayHereWindowRefused", {
    steps: () =>
        [
            payHere([
                Alma.isRefused(),
                textsAre(
                    ".o_alma_status .o_alma_pill_refused .o_alma_pill_text",
                    ["Refusé — Alma a refusé le paiement."],
                    "the red pill, with the reason"
                ),
            ]),
            PaymentScreen.validateButtonIsHighlighted(false),
        ].flat(Infinity),
});
