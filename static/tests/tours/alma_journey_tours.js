import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import { registry } from "@web/core/registry";
import { Alma, FRENCH, noEnglish, textsAre } from "@payment_alma/../tests/tours/alma_tours";

/*
 * The journeys of the demo clinic (issue 18), in French, as its staff live them: the world is
 * the one scripts/demo makes (tests/common.py, ClinicCommon), the users hold only their jobs'
 * standard groups. The Python side checks the records and the books afterwards.
 */

// The clinic's spaying of a bitch: 332,50 € + 20 % VAT.
const SPAYING = "Stérilisation chienne (ovariectomie)";
const DECLINED_CARD = "4000000000000002";

function saleSent(mode = "sms") {
    return [
        Alma.startWith(SPAYING, { words: FRENCH }),
        Alma.addLine("399.00"),
        Alma.clickSend(),
        Alma.send("P3X", mode),
    ];
}

registry.category("web_tour.tours").add("AlmaClinicSmsSale", {
    steps: () =>
        [
            saleSent("sms"),
            textsAre(".o_alma_status .o_alma_mode_label", ["Envoyé par SMS"], "the mode"),
            Alma.customerPays(),
            Alma.isAccepted(),
            textsAre(
                ".o_alma_status .o_alma_pill_accepted .o_alma_pill_text",
                ["Accepté"],
                "the green pill"
            ),
            noEnglish(".payment-screen", ["Accepted", "installments", "Sent by SMS"]),
            Alma.validateAndCheckReceipt("133.00", 3),
        ].flat(Infinity),
});

registry.category("web_tour.tours").add("AlmaClinicDeclinedCard", {
    steps: () =>
        [
            saleSent("link"),
            Alma.customerPays(DECLINED_CARD),
            Alma.isRefused(),
            textsAre(
                ".o_alma_status .o_alma_pill_refused .o_alma_pill_text",
                ["Refusé — La carte du client a été refusée."],
                "the red pill, with the reason"
            ),
            {
                content: "the red pill only, not also Odoo's \"Transaction annulée\"",
                trigger: ".paymentlines .send_payment_request",
                run() {
                    const line = document.querySelector(".paymentlines .paymentline.selected");
                    if (line.textContent.includes("Transaction annulée")) {
                        throw new Error(`The line reads: ${line.textContent}`);
                    }
                },
            },
            PaymentScreen.validateButtonIsHighlighted(false),
        ].flat(Infinity),
});

registry.category("web_tour.tours").add("AlmaClinicCancelWaiting", {
    steps: () =>
        [
            saleSent("link"),
            {
                content: "the cashier presses Annuler",
                trigger: ".o_alma_status .o_alma_cancel:not([disabled])",
                run: "click",
            },
            {
                content: "and confirms: the customer's link will stop working",
                trigger: ".modal .modal-footer .btn-primary",
                run: "click",
            },
            Alma.isRefused(),
            {
                content: "the red pill says who cancelled, once",
                trigger: ".o_alma_status .o_alma_pill_refused .o_alma_pill_text:contains('Annulé par')",
                run() {
                    const text = document.querySelector(".o_alma_pill_text").textContent;
                    if ((text.match(/Annulé/g) || []).length !== 1) {
                        throw new Error(`The pill reads "${text}"`);
                    }
                },
            },
        ].flat(Infinity),
});
