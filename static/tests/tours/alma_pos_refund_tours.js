import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import * as TicketScreen from "@point_of_sale/../tests/tours/utils/ticket_screen_util";
import * as Order from "@point_of_sale/../tests/tours/utils/generic_components/order_widget_util";
import { inLeftSide } from "@point_of_sale/../tests/tours/utils/common";
import { registry } from "@web/core/registry";
import { Alma, fail, hasAmount } from "@payment_alma/../tests/tours/alma_tours";

/*
 * Refunds at the counter (issue 11). The Python side (tests/test_pos_tours.py) syncs two sales
 * before the tour: 4 vaccines (120 €) paid 90 € with Alma and 30 € in cash, and a 399 €
 * consultation paid in cash; it checks what Alma and the database hold afterwards.
 */

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
    /** Orders > the sale of `total` > refund `quantity` of its line > Pay. */
    start(total, quantity = null) {
        return [
            ...ProductScreen.clickRefund(),
            TicketScreen.selectOrderByPrice(total),
            quantity
                ? [
                      inLeftSide(Order.hasLine({ productName: "Vaccin", withClass: ".selected" })),
                      ProductScreen.clickNumpad(String(quantity)),
                      TicketScreen.toRefundTextContains(`To Refund: ${quantity}.00`),
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
            trigger: ".paymentlines .paymentline.selected:has(.payment-name:contains('Alma'))",
            run() {
                const text = textOf(".paymentlines .paymentline.selected .payment-amount");
                if (!text.includes("-") || !hasAmount(text, amount)) {
                    fail(`The Alma line shows ${text}, not -${amount}`);
                }
            },
        };
    },
    /** The dialog: what Alma took, what is already refunded, left, and now. */
    dialogShows({ paid, already, left, now }) {
        return [
            { content: "the refund dialog is open", trigger: ".modal .o_alma_refund_dialog" },
            {
                content: "it names the sale's Alma payment and plan",
                trigger: ".o_alma_refund_dialog .o_alma_refund_alma_id:contains('payment_')",
            },
            { trigger: ".o_alma_refund_dialog .o_alma_refund_plan:not(:empty)" },
            {
                content: "the day Alma accepted it, as a date (not 'accepted on Today')",
                trigger: ".o_alma_refund_dialog .o_alma_refund_payment > div:last-child:contains('accepted on')",
                run() {
                    const text = textOf(".o_alma_refund_dialog .o_alma_refund_payment > div:last-child");
                    if (text.includes("Today")) {
                        fail(`The dialog says "${text}"`);
                    }
                },
            },
            shows(".o_alma_refund_dialog .o_alma_refund_paid", paid, "paid with Alma"),
            shows(".o_alma_refund_dialog .o_alma_refund_already", already, "already refunded"),
            shows(".o_alma_refund_dialog .o_alma_refund_left", left, "left to refund"),
            shows(".o_alma_refund_dialog .o_alma_refund_now", now, "refund now"),
        ];
    },
    confirm() {
        return [
            {
                content: "refund through Alma",
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
                    const text = textOf(".pos-receipt .pos-payment-terminal-receipt pre");
                    if (!text.includes("Refunded through Alma") || !hasAmount(text, amount)) {
                        fail(`The receipt does not show the Alma refund of ${amount}: ${text}`);
                    }
                },
            },
            ReceiptScreen.clickNextOrder(),
        ].flat(Infinity);
    },
    deleteAlmaLineAndPayCash() {
        return [
            { content: "the dialog is closed", trigger: "body:not(:has(.modal))" },
            {
                content: "delete the Alma line",
                trigger:
                    ".paymentlines .paymentline.selected:has(.payment-name:contains('Alma')) .delete-button",
                run: "click",
            },
            { trigger: ".payment-screen .paymentlines-empty" },
            PaymentScreen.clickPaymentMethod("Cash"),
            {
                content: "no 'Alma keeps collecting' warning here",
                trigger: ".paymentlines .paymentline.selected .payment-name:contains('Cash')",
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

registry.category("web_tour.tours").add("AlmaRefundsAtTheTill", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),

            // 1. One vaccine. Cash first: the till says that Alma keeps collecting.
            Refund.start("120.00", 1),
            PaymentScreen.totalIs("30.00"),
            PaymentScreen.clickPaymentMethod("Cash"),
            {
                content: "the cashier is warned that Alma keeps collecting, about the ticket",
                trigger: ".modal:contains('Alma keeps collecting') .modal-body:contains('Order ')",
                run() {
                    const body = document.querySelector(".modal .modal-body").textContent;
                    if (/\/\d{4}/.test(body)) {
                        fail(`The warning names the till's sequence, not the ticket: ${body}`);
                    }
                },
            },
            {
                content: "and takes the Alma refund instead",
                trigger: ".modal button:contains('Refund through Alma')",
                run: "click",
            },
            {
                content: "no cash line",
                trigger: ".paymentlines .paymentline.selected .payment-name:contains('Alma')",
                run() {
                    const names = [...document.querySelectorAll(".paymentlines .payment-name")];
                    if (names.some((name) => name.textContent.includes("Cash"))) {
                        fail("A cash line was added");
                    }
                },
            },
            Refund.almaLineIs("30.00"),
            Alma.clickSend(),
            Refund.dialogShows({ paid: "90.00", already: "0.00", left: "90.00", now: "30.00" }),
            Refund.confirm(),
            Refund.validateAndCheckReceipt("30.00"),

            // 2. Two more: up to what Alma has left.
            Refund.start("120.00", 2),
            Refund.alma("60.00"),
            Refund.dialogShows({ paid: "90.00", already: "30.00", left: "60.00", now: "60.00" }),
            Refund.confirm(),
            Refund.validateAndCheckReceipt("60.00"),

            // 3. The last vaccine: Alma has nothing left, the dialog says so with the amounts.
            Refund.start("120.00", 1),
            Refund.alma("30.00"),
            { content: "the refund dialog is open", trigger: ".modal .o_alma_refund_dialog" },
            shows(".o_alma_refund_dialog .o_alma_refund_left", "0.00", "left to refund"),
            {
                content: "the refund is refused, with the amounts",
                trigger: ".o_alma_refund_dialog .o_alma_refund_problem",
                run() {
                    const text = textOf(".o_alma_refund_dialog .o_alma_refund_problem");
                    if (!/fully refunded/.test(text) || !hasAmount(text, "90.00")) {
                        fail(`Unexpected message: ${text}`);
                    }
                },
            },
            { trigger: ".o_alma_refund_dialog .o_alma_refund_confirm[disabled]" },
            {
                content: "cancel",
                trigger: ".o_alma_refund_dialog .o_alma_refund_cancel",
                run: "click",
            },
            // That vaccine was paid in cash: refunded in cash, without a warning.
            Refund.deleteAlmaLineAndPayCash(),

            // 4. A sale paid in cash: Alma refuses and says what to do.
            Refund.start("399.00"),
            Refund.alma("399.00"),
            {
                content: "Alma refuses: the order was not paid with Alma, refund it in cash",
                trigger: ".modal .modal-body:contains('not paid with Alma')",
                run() {
                    const text = textOf(".modal .modal-body");
                    if (!text.includes("Cash")) {
                        fail(`The message does not name the way the sale was paid: ${text}`);
                    }
                },
            },
            { trigger: "body:not(:has(.o_alma_refund_dialog))" },
            Dialog.confirm(),
            Refund.deleteAlmaLineAndPayCash(),
        ].flat(Infinity),
});
