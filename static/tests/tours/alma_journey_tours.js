import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import * as TicketScreen from "@point_of_sale/../tests/tours/utils/ticket_screen_util";
import * as Order from "@point_of_sale/../tests/tours/utils/generic_components/order_widget_util";
import {inLeftSide} from "@point_of_sale/../tests/tours/utils/common";
import {registry} from "@web/core/registry";
import {
    Alma,
    DECLINED_CARD,
    FRENCH,
    fail,
    hasAmount,
    noEnglish,
    textsAre,
} from "@payment_alma/../tests/tours/utils/alma_util";

/*
 * The journeys of the demo clinic (issue 18), in French, as its staff live them: the world is
 * the one scripts/demo makes (tests/common.py, ClinicCommon), the users hold only their jobs'
 * standard groups. The Python side checks the records and the books afterwards.
 */

// The clinic's spaying of a bitch: 332,50 € + 20 % VAT.
const SPAYING = "Stérilisation chienne (ovariectomie)";

function saleSent(mode = "sms") {
    return [
        Alma.startWith(SPAYING, {words: FRENCH}),
        Alma.addLine("399.00"),
        Alma.clickSend(),
        Alma.send("P3X", mode),
    ];
}

registry.category("web_tour.tours").add("AlmaClinicSmsSale", {
    steps: () =>
        [
            saleSent("sms"),
            textsAre(
                ".o_alma_status .o_alma_mode_label",
                ["Envoyé par SMS"],
                "the mode"
            ),
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
                ["Refusé — Alma a refusé le paiement."],
                "the red pill, with the reason"
            ),
            {
                content: 'the red pill only, not also Odoo\'s "Transaction annulée"',
                trigger: ".paymentlines .send_payment_request",
                run() {
                    const line = document.querySelector(
                        ".paymentlines .paymentline.selected"
                    );
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
                trigger:
                    ".o_alma_status .o_alma_pill_refused .o_alma_pill_text:contains('Annulé par')",
                run() {
                    const text =
                        document.querySelector(".o_alma_pill_text").textContent;
                    if ((text.match(/Annulé/g) || []).length !== 1) {
                        throw new Error(`The pill reads "${text}"`);
                    }
                },
            },
        ].flat(Infinity),
});

/*
 * Journey 2: refunds at the counter. The Python side (TestClinicTillRefunds) syncs two of Jean
 * Martin's sales before the tour: 4 annual vaccinations (4 × 72,00 € = 288,00 €) paid 216,00 €
 * with Alma and 72,00 € in cash, and a consultation (45,00 €) paid in cash.
 */

const VACCINATION = "Vaccination annuelle chien";

function textOf(selector) {
    return document.querySelector(selector)?.textContent || "";
}

function shows(selector, amount, what) {
    return {
        content: `${what}: ${amount}`,
        trigger: selector,
        run() {
            if (!hasAmount(textOf(selector), amount)) {
                fail(`${what} shows "${textOf(selector)}", not ${amount}`);
            }
        },
    };
}

const Refund = {
    /** Actions › Remboursement › the sale of `total` › refund `quantity` of its line › Payer. */
    start(total, quantity = null) {
        return [
            ProductScreen.clickReview(),
            ProductScreen.clickControlButtonMore(),
            {
                content: "Remboursement",
                trigger:
                    ".control-buttons button:has(.fa-undo):contains('Remboursement')",
                run: "click",
            },
            TicketScreen.selectOrderByPrice(total),
            quantity
                ? [
                      inLeftSide(
                          Order.hasLine({
                              productName: VACCINATION,
                              withClass: ".selected",
                          })
                      ),
                      ProductScreen.clickNumpad(String(quantity)),
                      TicketScreen.toRefundTextContains(`À rembourser`),
                      TicketScreen.toRefundTextContains(`${quantity},00`),
                  ]
                : [],
            TicketScreen.confirmRefund(),
            ProductScreen.clickPayButton(),
            PaymentScreen.isShown(),
        ].flat(Infinity);
    },
    alma(amount) {
        return [
            PaymentScreen.clickPaymentMethod("Alma"),
            Refund.almaLineIs(amount),
            Alma.clickSend(),
        ];
    },
    almaLineIs(amount) {
        return {
            content: `the Alma line refunds ${amount}`,
            trigger:
                ".paymentlines .paymentline.selected:has(.payment-name:contains('Alma'))",
            run() {
                const text = textOf(
                    ".paymentlines .paymentline.selected .payment-amount"
                );
                if (!text.includes("-") || !hasAmount(text, amount)) {
                    fail(`The Alma line shows ${text}, not -${amount}`);
                }
            },
        };
    },
    /** The dialog: what Alma took, what is already refunded, left, and now. */
    dialogShows({paid, already, left, now}) {
        return [
            {
                content: "the refund dialog is open, under its French title",
                trigger:
                    ".modal:has(.o_alma_refund_dialog) .modal-title:contains('Rembourser par Alma')",
            },
            {
                content: "it names the sale's Alma payment and plan",
                trigger:
                    ".o_alma_refund_dialog .o_alma_refund_alma_id:contains('payment_')",
            },
            {
                trigger:
                    ".o_alma_refund_dialog .o_alma_refund_plan:contains('Paiement en 3 fois')",
            },
            {
                content:
                    "the day Alma accepted it, as a date (not 'accepté le Aujourd'hui')",
                trigger:
                    ".o_alma_refund_dialog .o_alma_refund_payment > div:last-child:contains('accepté le')",
                run() {
                    const text = textOf(
                        ".o_alma_refund_dialog .o_alma_refund_payment > div:last-child"
                    );
                    if (!/\d{4}/.test(text) || /Aujourd|Today/.test(text)) {
                        fail(`The dialog says "${text}"`);
                    }
                },
            },
            shows(".o_alma_refund_dialog .o_alma_refund_paid", paid, "paid with Alma"),
            shows(
                ".o_alma_refund_dialog .o_alma_refund_already",
                already,
                "already refunded"
            ),
            shows(".o_alma_refund_dialog .o_alma_refund_left", left, "left to refund"),
            shows(".o_alma_refund_dialog .o_alma_refund_now", now, "refund now"),
            noEnglish(
                ".o_alma_refund_dialog",
                [
                    "Paid with Alma",
                    "Already refunded",
                    "Left to refund",
                    "Refund now",
                    "accepted on",
                ],
                "the refund dialog"
            ),
        ];
    },
    confirm() {
        return [
            {
                content: "Rembourser par Alma",
                trigger: ".o_alma_refund_dialog .o_alma_refund_confirm:not([disabled])",
                run: "click",
            },
            {
                content: "the pill turns green",
                trigger:
                    ".o_alma_refund_status[data-alma-refund-state='done'] .o_alma_pill.o_alma_pill_accepted",
                timeout: 20000,
            },
        ];
    },
    validateAndCheckReceipt(amount) {
        return [
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            ReceiptScreen.receiptIsThere(),
            {
                content: `the receipt says that Alma refunded ${amount}`,
                trigger: ".pos-receipt .pos-payment-terminal-receipt pre",
                run() {
                    const text = textOf(
                        ".pos-receipt .pos-payment-terminal-receipt pre"
                    );
                    if (
                        !text.includes("Remboursé par Alma") ||
                        !hasAmount(text, amount)
                    ) {
                        fail(
                            `The receipt does not show the Alma refund of ${amount}: ${text}`
                        );
                    }
                },
            },
            ReceiptScreen.clickNextOrder(),
        ].flat(Infinity);
    },
    deleteAlmaLineAndPayCash() {
        return [
            {content: "the dialog is closed", trigger: "body:not(:has(.modal))"},
            {
                content: "delete the Alma line",
                trigger:
                    ".paymentlines .paymentline.selected:has(.payment-name:contains('Alma')) .delete-button",
                run: "click",
            },
            {trigger: ".payment-screen .paymentlines-empty"},
            PaymentScreen.clickPaymentMethod("Espèces"),
            {
                content: "no 'Alma continue de prélever' warning here",
                trigger:
                    ".paymentlines .paymentline.selected .payment-name:contains('Espèces')",
                run() {
                    if (document.querySelector(".modal")) {
                        fail("A dialog opened when paying the refund in cash");
                    }
                },
            },
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            ReceiptScreen.clickNextOrder(),
        ].flat(Infinity);
    },
};

registry.category("web_tour.tours").add("AlmaClinicTillRefunds", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm(FRENCH.openRegister),

            // 1. One vaccination. Cash first: the till says that Alma keeps collecting.
            Refund.start("288,00", 1),
            PaymentScreen.totalIs("72,00"),
            PaymentScreen.clickPaymentMethod("Espèces"),
            {
                content:
                    "the cashier is warned that Alma keeps collecting, about the ticket",
                trigger:
                    ".modal:contains('Alma continue de prélever') .modal-body:contains('Commande ')",
                run() {
                    const body = textOf(".modal .modal-body");
                    if (/\/\d{4}/.test(body) || !body.includes("Espèces")) {
                        fail(
                            `The warning names the till's sequence, not the ticket: ${body}`
                        );
                    }
                },
            },
            {
                content: "and takes the Alma refund instead",
                trigger: ".modal .modal-footer button:contains('Rembourser par Alma')",
                run: "click",
            },
            {
                content: "no cash line",
                trigger:
                    ".paymentlines .paymentline.selected .payment-name:contains('Alma')",
                run() {
                    const names = [
                        ...document.querySelectorAll(".paymentlines .payment-name"),
                    ];
                    if (names.some((name) => name.textContent.includes("Espèces"))) {
                        fail("A cash line was added");
                    }
                },
            },
            Refund.almaLineIs("72.00"),
            Alma.clickSend(),
            Refund.dialogShows({
                paid: "216.00",
                already: "0.00",
                left: "216.00",
                now: "72.00",
            }),
            Refund.confirm(),
            Refund.validateAndCheckReceipt("72.00"),

            // 2. Two more: up to what Alma has left.
            Refund.start("288,00", 2),
            Refund.alma("144.00"),
            Refund.dialogShows({
                paid: "216.00",
                already: "72.00",
                left: "144.00",
                now: "144.00",
            }),
            Refund.confirm(),
            Refund.validateAndCheckReceipt("144.00"),

            // 3. The last vaccination: Alma has nothing left, the dialog says so with the amounts.
            Refund.start("288,00", 1),
            Refund.alma("72.00"),
            {
                content: "the refund dialog is open",
                trigger: ".modal .o_alma_refund_dialog",
            },
            shows(
                ".o_alma_refund_dialog .o_alma_refund_left",
                "0.00",
                "left to refund"
            ),
            {
                content: "the refund is refused, with the amounts",
                trigger: ".o_alma_refund_dialog .o_alma_refund_problem",
                run() {
                    const text = textOf(".o_alma_refund_dialog .o_alma_refund_problem");
                    if (
                        !/entièrement remboursé/.test(text) ||
                        !hasAmount(text, "216.00")
                    ) {
                        fail(`Unexpected message: ${text}`);
                    }
                },
            },
            {trigger: ".o_alma_refund_dialog .o_alma_refund_confirm[disabled]"},
            {
                content: "Annuler",
                trigger:
                    ".o_alma_refund_dialog .o_alma_refund_cancel:contains('Annuler')",
                run: "click",
            },
            // That vaccination was paid in cash: refunded in cash, without a warning.
            Refund.deleteAlmaLineAndPayCash(),

            // 4. A consultation paid in cash: Alma refuses and says what to do.
            Refund.start("45,00"),
            Refund.alma("45.00"),
            {
                content:
                    "Alma refuses: the order was not paid with Alma, refund it in cash",
                trigger: ".modal .modal-body:contains('pas été payée avec Alma')",
                run() {
                    const text = textOf(".modal .modal-body");
                    if (!text.includes("Espèces")) {
                        fail(
                            `The message does not name the way the sale was paid: ${text}`
                        );
                    }
                },
            },
            {trigger: "body:not(:has(.o_alma_refund_dialog))"},
            {
                content: "Ok",
                trigger: ".modal .modal-footer .btn-primary",
                run: "click",
            },
            Refund.deleteAlmaLineAndPayCash(),
        ].flat(Infinity),
});
