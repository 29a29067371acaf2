import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import * as TicketScreen from "@point_of_sale/../tests/tours/utils/ticket_screen_util";
import * as Utils from "@point_of_sale/../tests/tours/utils/common";
import {registry} from "@web/core/registry";
import {
    ACCEPTED_CARD,
    Alma,
    almaLinkUrl,
    DECLINED_CARD,
    fail,
    FRENCH,
    hasAmount,
    noEnglish,
    smsHappyPath,
    standinOf,
    textsAre,
} from "@payment_alma/../tests/tours/utils/alma_util";

/*
 * Tours of the Alma payment at the counter. The Python side (tests/test_pos_tours.py) sets up
 * a POS with an "Alma" payment method talking to the local Alma stand-in, then checks what the
 * database and the stand-in hold after each tour.
 *
 * The customer's side is played with fetch() on the stand-in's payment page (the link of the
 * payment line, `<stand-in>/pay/<payment id>`).
 */

registry
    .category("web_tour.tours")
    .add("AlmaSmsHappyPath", {steps: () => smsHappyPath()});

/** Issue 12, item 5: the same flow at a French till reads French, Odoo's words and ours. */
const RECEIPT_PRE = ".pos-receipt .pos-payment-terminal-receipt pre";
registry.category("web_tour.tours").add("AlmaSmsHappyPathFr", {
    steps: () =>
        smsHappyPath({
            words: FRENCH,
            onPlans: [
                textsAre(
                    ".o_alma_dialog .modal-title",
                    ["Payer en plusieurs fois avec Alma"],
                    "title"
                ),
                // The browser's translations are one table for all modules, in no set order:
                // a term of ours that Odoo translates too must read the same ("Send").
                textsAre(
                    ".o_alma_dialog .o_alma_step",
                    ["1. Échéancier", "2. Client", "3. Frais", "4. Envoyer"],
                    "the steps"
                ),
                textsAre(
                    '.o_alma_plan[data-plan-code="P3X"] .o_alma_plan_name',
                    ["Paiement en 3 fois"],
                    "the plan's name"
                ),
                textsAre(
                    '.o_alma_plan[data-plan-code="P3X"] .o_alma_installment_amount',
                    ["133,00 €", "133,00 €", "133,00 €"],
                    "the schedule's amounts"
                ),
                textsAre(
                    '.o_alma_plan[data-plan-code="P3X"] .o_alma_installment:first-child .o_alma_installment_date',
                    ["Aujourd'hui"],
                    "the first installment"
                ),
                textsAre(
                    ".o_alma_dialog .o_alma_next",
                    ["Suivant"],
                    "the Next button, disabled until a plan is chosen",
                    ".o_alma_dialog .o_alma_plans"
                ),
                noEnglish(".o_alma_dialog", [
                    "Pay later with Alma",
                    "installments",
                    "Deferred",
                    "Today",
                    "Next",
                    "Customer fees",
                    "Your fees",
                    "Not available",
                ]),
            ],
            onWaiting: [
                textsAre(
                    ".o_alma_status .o_alma_pill_waiting .o_alma_pill_text",
                    ["En attente du client"],
                    "the orange pill"
                ),
                textsAre(
                    ".o_alma_status .o_alma_mode_label",
                    ["Envoyé par SMS"],
                    "the mode"
                ),
                textsAre(".o_alma_status .o_alma_resend", ["Renvoyer"], "Resend"),
                textsAre(".o_alma_status .o_alma_cancel", ["Annuler"], "Cancel"),
                noEnglish(".o_alma_status", [
                    "Waiting",
                    "Sent by SMS",
                    "Resend",
                    "Cancel",
                ]),
            ],
            onAccepted: [
                textsAre(
                    ".o_alma_status .o_alma_pill_accepted .o_alma_pill_text",
                    ["Accepté"],
                    "the green pill"
                ),
                textsAre(
                    ".o_alma_status .o_alma_plan_name",
                    ["Paiement en 3 fois"],
                    "the plan"
                ),
                textsAre(
                    ".o_alma_status .o_alma_installment span:last-child",
                    ["133,00 €", "133,00 €", "133,00 €"],
                    "the schedule on the line"
                ),
                noEnglish(".o_alma_status", ["Accepted", "Waiting", "installments"]),
                textsAre(
                    ".payment-screen .button.next.highlight",
                    ["Valider"],
                    "Odoo's Validate"
                ),
            ],
            onReceipt: [
                {
                    content: "the receipt: the French plan, three lines of 133,00 €",
                    trigger: RECEIPT_PRE,
                    run() {
                        const lines = document
                            .querySelector(RECEIPT_PRE)
                            .textContent.replace(/[\u00a0\u202f]/g, " ")
                            .split("\n");
                        const [plan, ...schedule] = lines;
                        if (plan !== "Alma - Paiement en 3 fois") {
                            fail(`The receipt names the plan "${plan}"`);
                        }
                        const due = /^\d\d\/\d\d\/\d{4} {2}133,00 €$/;
                        if (
                            schedule.length !== 3 ||
                            !schedule.every((line) => due.test(line))
                        ) {
                            fail(`The receipt's schedule: ${JSON.stringify(schedule)}`);
                        }
                    },
                },
                noEnglish(RECEIPT_PRE, ["installments", "133.00"], "the receipt"),
            ],
        }),
});

registry.category("web_tour.tours").add("AlmaLinkQr", {
    steps: () =>
        [
            Alma.startWith("Consultation"),
            Alma.addLine("399.00"),
            Alma.clickSend(),
            Alma.send("P3X", "link"),
            {
                content: "the link is shown as text",
                trigger: ".o_alma_status a.o_alma_link",
                run() {
                    const link = document.querySelector("a.o_alma_link");
                    if (!/\/pay\/[^/]+$/.test(link.getAttribute("href"))) {
                        fail(`Unexpected link ${link.getAttribute("href")}`);
                    }
                    if (link.textContent.trim() !== link.getAttribute("href")) {
                        fail("The link text is not the URL");
                    }
                },
            },
            {
                content: "the QR code encodes the link",
                trigger: ".o_alma_status img.o_alma_qr",
                run() {
                    const href = document
                        .querySelector("a.o_alma_link")
                        .getAttribute("href");
                    const src = document
                        .querySelector("img.o_alma_qr")
                        .getAttribute("src");
                    const expected = `/report/barcode/?barcode_type=QR&value=${encodeURIComponent(
                        href
                    )}&width=200&height=200`;
                    if (src !== expected) {
                        fail(`QR src is ${src}, expected ${expected}`);
                    }
                },
            },
            {
                content: "the QR code image loads",
                trigger: ".o_alma_status img.o_alma_qr",
                async run() {
                    const img = document.querySelector("img.o_alma_qr");
                    const response = await fetch(img.src);
                    if (
                        !response.ok ||
                        !response.headers.get("content-type")?.includes("image")
                    ) {
                        fail(`The QR code does not load: ${response.status}`);
                    }
                },
            },
            {content: "a copy button", trigger: ".o_alma_status .o_alma_copy"},
            {
                content: "e-mail the link from Odoo",
                trigger: ".o_alma_status .o_alma_email:not([disabled])",
                run: "click",
            },
            {
                content: "the e-mail is sent",
                trigger: ".o_alma_status .o_alma_email:contains('E-mail sent')",
            },
            Alma.customerPays(),
            Alma.isAccepted(),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
        ].flat(Infinity),
});

/**
 * A window as the browser gives it, for a tour (a browser test cannot open one): like a real
 * window on Alma's page (another origin), its close(), focus() and closed refuse to run on
 * anything but the window itself, a reactive proxy of it included ("Illegal invocation").
 */
class FakeWindow {
    #closed = false;
    #focused = 0;
    constructor(target, features) {
        this.target = target;
        this.features = features;
        this.location = {href: "about:blank"};
        this.document = {title: "", body: {textContent: ""}};
    }
    get closed() {
        return this.#closed;
    }
    get focused() {
        return this.#focused;
    }
    focus() {
        this.#focused++;
    }
    close() {
        this.#closed = true;
    }
}

registry.category("web_tour.tours").add("AlmaPayHere", {
    steps: () =>
        [
            Alma.startWith("Consultation"),
            Alma.addLine("399.00"),
            {
                content:
                    "record the windows the POS opens (a browser test cannot show one)",
                trigger: "body",
                run() {
                    // As a browser does: a window of the same name is reused while open.
                    window.__almaOpenCalls = [];
                    window.__almaOpened = [];
                    window.open = (url, target, features) => {
                        window.__almaOpenCalls.push({url, target, features});
                        let popup = window.__almaOpened.find(
                            (known) => known.target === target && !known.closed
                        );
                        if (!popup) {
                            popup = new FakeWindow(target, features);
                            window.__almaOpened.push(popup);
                        }
                        if (url) {
                            popup.location.href = url;
                        }
                        return popup;
                    };
                },
            },
            Alma.clickSend(),
            Alma.send("P3X", "here"),
            {
                content:
                    "Alma's page is shown in one window over the till, not in a new tab",
                trigger: ".o_alma_status a.o_alma_link",
                run() {
                    const href = document.querySelector("a.o_alma_link").href;
                    const opened = window.__almaOpened || [];
                    if (opened.length !== 1) {
                        fail(`${opened.length} windows opened`);
                    }
                    const [popup] = opened;
                    if (popup.location.href !== href) {
                        fail(
                            `The window shows ${popup.location.href}, not the link ${href}`
                        );
                    }
                    if (
                        !/popup/.test(popup.features || "") ||
                        popup.target === "_blank"
                    ) {
                        fail(`Opened as a tab: ${popup.target} ${popup.features}`);
                    }
                    if (popup.closed) {
                        fail("The window is already closed");
                    }
                },
            },
            {
                content:
                    "the line says the customer is paying here, not that it is paid",
                trigger: ".o_alma_status .o_alma_pill_waiting",
                run() {
                    const mode = document.querySelector(
                        ".o_alma_status .o_alma_mode_label"
                    );
                    if (mode?.textContent.includes("Paid")) {
                        fail(`A waiting line reads "${mode.textContent}"`);
                    }
                },
            },
            {
                content: "the cashier brings Alma's window back over the till",
                trigger: ".o_alma_status .o_alma_show_here",
                run: "click",
            },
            {
                content: "the same window, brought to the front as it is",
                trigger: ".o_alma_status .o_alma_show_here",
                run() {
                    const opened = window.__almaOpened;
                    if (opened.length !== 1 || opened[0].focused < 2) {
                        fail(
                            `${opened.length} windows, focused ${opened[0].focused} times`
                        );
                    }
                },
            },
            {
                content: "the customer closes Alma's window by mistake",
                trigger: ".o_alma_status .o_alma_show_here",
                run() {
                    window.__almaOpened[0].close();
                },
            },
            {
                content: "the cashier opens it again",
                trigger: ".o_alma_status .o_alma_show_here",
                run: "click",
            },
            {
                content: "a new window shows Alma's page",
                trigger: ".o_alma_status .o_alma_show_here",
                run() {
                    const opened = window.__almaOpened;
                    const href = document.querySelector("a.o_alma_link").href;
                    if (opened.length !== 2 || opened[1].location.href !== href) {
                        fail(
                            `${opened.length} windows, the last on ${opened.at(-1).location.href}`
                        );
                    }
                },
            },
            Alma.customerPays(),
            Alma.isAccepted(),
            {
                content: "the till closed Alma's window once the payment was accepted",
                trigger: ".o_alma_status .o_alma_pill_accepted",
                run() {
                    const open = window.__almaOpened.filter((popup) => !popup.closed);
                    if (open.length) {
                        fail(`${open.length} Alma window(s) left open`);
                    }
                },
            },
            {
                content: "Alma's return lands on a page that closes the window",
                trigger: ".o_alma_status[data-alma-url]",
                async run() {
                    const url =
                        document.querySelector(".o_alma_status").dataset.almaUrl;
                    const {paymentId} = standinOf(url);
                    const response = await fetch(
                        `/payment/alma/return?pid=${paymentId}`
                    );
                    const page = await response.text();
                    if (!response.ok || !page.includes("o_alma_pos_return")) {
                        fail(
                            `The return page is not the closing page: ${response.status}`
                        );
                    }
                    if (!page.includes("window.close()")) {
                        fail("The return page does not close its window");
                    }
                },
            },
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
        ].flat(Infinity),
});

registry.category("web_tour.tours").add("AlmaCancelWaiting", {
    steps: () =>
        [
            Alma.startWith("Consultation"),
            Alma.addLine("399.00"),
            Alma.clickSend(),
            Alma.send("P3X", "link"),
            {
                content: "the cashier presses Cancel",
                trigger: ".o_alma_status .o_alma_cancel:not([disabled])",
                run: "click",
            },
            {
                content:
                    "the cashier is asked first: the payment will be cancelled at Alma",
                trigger: ".modal .modal-body:contains('cancelled at Alma')",
            },
            {
                content: "keep waiting",
                trigger: ".modal .modal-footer .btn-secondary",
                run: "click",
            },
            {
                content: "nothing was cancelled",
                trigger: "body:not(:has(.modal)) .o_alma_status .o_alma_pill_waiting",
            },
            {
                content: "Cancel again",
                trigger: ".o_alma_status .o_alma_cancel:not([disabled])",
                run: "click",
            },
            Dialog.confirm(undefined, ".btn-primary"),
            Alma.isRefused(),
            {
                content: "the customer's link is no longer shown",
                trigger: "body:not(:has(.o_alma_link))",
            },
            {
                content: "delete the Alma line",
                trigger: ".paymentlines .paymentline.selected .delete-button",
                run: "click",
            },
            {
                content: "the line is deleted",
                trigger: ".payment-screen .paymentlines-empty",
            },
            {content: "no Alma block left", trigger: "body:not(:has(.o_alma_status))"},
        ].flat(Infinity),
});

registry.category("web_tour.tours").add("AlmaDeclinedCard", {
    steps: () =>
        [
            Alma.startWith("Consultation"),
            Alma.addLine("399.00"),
            Alma.clickSend(),
            Alma.send("P3X", "link"),
            Alma.customerPays(DECLINED_CARD),
            Alma.isRefused(),
            {
                content: "the pill gives the reason",
                trigger: ".o_alma_status .o_alma_pill_refused .o_alma_pill_text",
                run() {
                    const text =
                        document.querySelector(".o_alma_pill_text").textContent;
                    if (!text.includes("—")) {
                        fail(`The red pill gives no reason: "${text}"`);
                    }
                },
            },
            PaymentScreen.validateButtonIsHighlighted(false),
            PaymentScreen.isShown(),
            // The customer tries another card: the same line is sent again.
            {
                content: "Retry",
                trigger: ".paymentlines .send_payment_request",
                run: "click",
            },
            Alma.send("P3X", "link"),
            {
                content: "a new link for the new payment",
                trigger: ".o_alma_status[data-alma-state='waiting']",
            },
            Alma.customerPays(),
            Alma.isAccepted(),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
        ].flat(Infinity),
});

registry.category("web_tour.tours").add("AlmaExpiredLink", {
    steps: () =>
        [
            Alma.startWith("Consultation"),
            Alma.addLine("399.00"),
            Alma.clickSend(),
            Alma.send("P3X", "link"),
            Alma.linkExpires(),
            Alma.isRefused(),
            PaymentScreen.validateButtonIsHighlighted(false),
        ].flat(Infinity),
});

registry.category("web_tour.tours").add("AlmaBelowMinimum", {
    steps: () =>
        [
            Alma.startWith("Vaccin"),
            Alma.addLine("30.00"),
            Alma.clickSend(),
            Alma.dialogIsOpen(),
            {
                content: "no plan: the message says why (the 50 € minimum)",
                trigger: ".o_alma_dialog .o_alma_no_plan",
                run() {
                    const text = document.querySelector(".o_alma_no_plan").textContent;
                    if (!hasAmount(text, "50.00")) {
                        fail(`The message does not give the minimum: ${text}`);
                    }
                    if (document.querySelector(".o_alma_plan, .o_alma_next")) {
                        fail("A plan can be chosen below the minimum");
                    }
                },
            },
            {
                content: "close the dialog",
                trigger: ".o_alma_dialog .o_alma_close",
                run: "click",
            },
            {
                content: "the dialog is closed",
                trigger: "body:not(:has(.o_alma_dialog))",
            },
            PaymentScreen.isShown(),
            {
                content: "the line can be sent again or deleted",
                trigger: ".paymentlines .send_payment_request",
            },
            PaymentScreen.validateButtonIsHighlighted(false),
        ].flat(Infinity),
});

function fillContact(values) {
    return Object.entries(values).map(([field, value]) => ({
        content: `contact: ${field} = ${value}`,
        trigger: `.o_alma_contact_form [name="${field}"]`,
        run: field === "country_id" ? `selectByLabel ${value}` : `edit ${value}`,
    }));
}

const NEW_CONTACT = {
    first_name: "Marie",
    last_name: "Martin",
    email: "marie.martin@example.com",
    street: "20 rue d'Alsace",
    zip: "75002",
    city: "Paris",
};

registry.category("web_tour.tours").add("AlmaInvalidPhone", {
    steps: () =>
        [
            Alma.startWith("Consultation"),
            Alma.addLine("399.00"),
            Alma.clickSend(),
            Alma.dialogIsOpen(),
            Alma.choosePlan("P3X"),
            Alma.stepIs("contact"),
            {
                content: "Add a contact",
                trigger: ".o_alma_dialog .o_alma_contact_add",
                run: "click",
            },
            {
                content: "the country is preset to the shop's (France)",
                trigger: ".o_alma_contact_form select[name='country_id']",
                run() {
                    const select = document.querySelector(
                        ".o_alma_contact_form select[name='country_id']"
                    );
                    if (
                        !select.value ||
                        !/France/.test(select.selectedOptions[0].textContent)
                    ) {
                        fail(
                            `Country preset: "${select.selectedOptions[0]?.textContent}"`
                        );
                    }
                },
            },
            fillContact({...NEW_CONTACT, mobile: "0123"}),
            {
                content: "Save",
                trigger: ".o_alma_dialog .o_alma_contact_save",
                run: "click",
            },
            {
                content: "the error is under the phone field",
                trigger:
                    ".o_alma_contact_form .o_alma_field_error[data-field='mobile']",
            },
            {
                content: "the phone input is marked invalid, the other inputs are not",
                trigger: ".o_alma_contact_form [name='mobile'].is-invalid",
                run() {
                    if (
                        document.querySelector(
                            ".o_alma_contact_form [name='email'].is-invalid"
                        )
                    ) {
                        fail("The e-mail is marked invalid");
                    }
                },
            },
            {
                content: "cannot go on with the form open",
                trigger: ".o_alma_dialog:not(:has(.o_alma_next))",
            },
            fillContact({mobile: "06 98 76 54 32"}),
            {
                content: "Save",
                trigger: ".o_alma_dialog .o_alma_contact_save",
                run: "click",
            },
            {
                content: "the new contact is saved and selected",
                trigger: ".o_alma_dialog .o_alma_contact_summary:contains('Marie')",
            },
            {
                content: "Next is possible",
                trigger: ".o_alma_dialog .o_alma_next:not([disabled])",
            },
        ].flat(Infinity),
});

registry.category("web_tour.tours").add("AlmaShopPhoneRefused", {
    steps: () =>
        [
            Alma.startWith("Consultation"),
            Alma.addLine("399.00"),
            Alma.clickSend(),
            Alma.dialogIsOpen(),
            Alma.choosePlan("P3X"),
            Alma.stepIs("contact"),
            {
                content: "Add a contact",
                trigger: ".o_alma_dialog .o_alma_contact_add",
                run: "click",
            },
            // The shop's own mobile (AlmaPosCommon.shop_mobile).
            fillContact({...NEW_CONTACT, mobile: "06 99 88 77 66"}),
            {
                content: "Save",
                trigger: ".o_alma_dialog .o_alma_contact_save",
                run: "click",
            },
            {
                content: "the error says Alma needs the customer's own details",
                trigger: ".o_alma_contact_form .o_alma_field_error",
                run() {
                    const error = document.querySelector(
                        ".o_alma_contact_form .o_alma_field_error[data-field='mobile'], .o_alma_contact_form .o_alma_field_error[data-field='_general']"
                    );
                    if (!error) {
                        fail("No error on the phone");
                    }
                    if (!/customer|client/i.test(error.textContent)) {
                        fail(
                            `The error does not talk about the customer: ${error.textContent}`
                        );
                    }
                },
            },
            {
                content: "cannot go on with the form open",
                trigger: ".o_alma_dialog:not(:has(.o_alma_next))",
            },
        ].flat(Infinity),
});

registry.category("web_tour.tours").add("AlmaFeesOffered", {
    steps: () =>
        [
            Alma.startWith("Consultation"),
            Alma.addLine("399.00"),
            Alma.clickSend(),
            Alma.dialogIsOpen(),
            Alma.choosePlan("P4X"),
            Alma.keepContact(),
            Alma.stepIs("fees"),
            {
                content: "4x: the customer pays a fee",
                trigger: ".o_alma_dialog .o_alma_customer_total",
                run() {
                    const fee =
                        document.querySelector(".o_alma_customer_fee").textContent;
                    const total = document.querySelector(
                        ".o_alma_customer_total"
                    ).textContent;
                    if (hasAmount(fee, "0.00") || hasAmount(total, "399.00")) {
                        fail(
                            `4x should have a customer fee (fee ${fee}, total ${total})`
                        );
                    }
                },
            },
            {
                content: "tick Offered to the client",
                trigger: ".o_alma_dialog input.o_alma_fees_offered",
                run: "click",
            },
            {
                content: "the customer pays exactly the price",
                trigger: ".o_alma_dialog .o_alma_absorbed_fee",
                run() {
                    const fee =
                        document.querySelector(".o_alma_customer_fee").textContent;
                    const total = document.querySelector(
                        ".o_alma_customer_total"
                    ).textContent;
                    if (!hasAmount(total, "399.00")) {
                        fail(`The customer total is ${total}, not 399.00`);
                    }
                    if (!hasAmount(fee, "0.00")) {
                        fail(`The customer fee is ${fee}, not 0.00`);
                    }
                    const absorbed =
                        document.querySelector(".o_alma_absorbed_fee").textContent;
                    if (hasAmount(absorbed, "0.00")) {
                        fail("The clinic absorbs no fee");
                    }
                },
            },
            Alma.next(),
            Alma.chooseMode("link"),
            Alma.isWaiting(),
            Alma.customerPays(),
            Alma.isAccepted(),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
        ].flat(Infinity),
});

registry.category("web_tour.tours").add("AlmaReloadWaiting", {
    steps: () =>
        [
            Alma.startWith("Consultation"),
            Alma.addLine("399.00"),
            Alma.clickSend(),
            Alma.send("P3X", "link"),
            Utils.refresh(),
            {
                content: "after the reload, go back to the payment screen if needed",
                trigger: ".pos .pos-content:has(.product-screen, .payment-screen)",
                run() {
                    const pay = document.querySelector(
                        ".product-screen .pay-order-button"
                    );
                    if (pay) {
                        pay.click();
                    }
                },
            },
            PaymentScreen.isShown(),
            {
                content: "the orange pill is back",
                trigger: ".o_alma_status .o_alma_pill.o_alma_pill_waiting",
            },
            {content: "the link is back", trigger: ".o_alma_status a.o_alma_link"},
            {content: "Cancel is back", trigger: ".o_alma_status .o_alma_cancel"},
            Alma.customerPays(),
            Alma.isAccepted(),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
        ].flat(Infinity),
});

registry.category("web_tour.tours").add("AlmaDoubleSend", {
    steps: () =>
        [
            Alma.startWith("Consultation"),
            Alma.addLine("399.00"),
            {
                content: "press Send twice, fast",
                trigger: ".paymentlines .send_payment_request",
                run() {
                    const button = document.querySelector(
                        ".paymentlines .send_payment_request"
                    );
                    button.click();
                    button.click();
                },
            },
            Alma.dialogIsOpen(),
            {
                content: "one dialog only",
                trigger: ".o_alma_dialog .o_alma_plan",
                run() {
                    const count = document.querySelectorAll(".o_alma_dialog").length;
                    if (count !== 1) {
                        fail(`${count} Alma dialogs are open`);
                    }
                },
            },
            Alma.choosePlan("P3X"),
            Alma.keepContact(),
            Alma.keepFees(),
            Alma.stepIs("mode"),
            {
                content: "click SMS twice, fast",
                trigger: ".o_alma_dialog .o_alma_mode_sms:not([disabled])",
                run() {
                    const button = document.querySelector(
                        ".o_alma_dialog .o_alma_mode_sms"
                    );
                    button.click();
                    button.click();
                },
            },
            Alma.isWaiting(),
            {
                content: "one Alma block only",
                trigger: ".o_alma_status",
                run() {
                    const count = document.querySelectorAll(".o_alma_status").length;
                    if (count !== 1) {
                        fail(`${count} Alma payments are shown`);
                    }
                },
            },
            Alma.customerPays(),
            Alma.isAccepted(),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
        ].flat(Infinity),
});

registry.category("web_tour.tours").add("AlmaDownOnCreate", {
    steps: () =>
        [
            Alma.startWith("Consultation"),
            Alma.addLine("399.00"),
            Alma.clickSend(),
            Alma.dialogIsOpen(),
            Alma.choosePlan("P3X"),
            Alma.keepContact(),
            Alma.keepFees(),
            Alma.chooseMode("sms"),
            {
                content:
                    "Alma failed: the cashier sees the error and stays in the dialog",
                trigger: ".o_alma_dialog .o_alma_send_error",
            },
            {
                content: "send again",
                trigger: ".o_alma_dialog .o_alma_mode_sms:not([disabled])",
                run: "click",
            },
            Alma.isWaiting(),
            Alma.customerPays(),
            Alma.isAccepted(),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
        ].flat(Infinity),
});

registry.category("web_tour.tours").add("AlmaIncompleteContact", {
    steps: () =>
        [
            Alma.startWith("Consultation", {customer: "Paul Durand"}),
            Alma.addLine("399.00"),
            Alma.clickSend(),
            Alma.dialogIsOpen(),
            Alma.choosePlan("P3X"),
            Alma.stepIs("contact"),
            {
                content:
                    "the customer's contact has no e-mail: the form opens, prefilled",
                trigger: ".o_alma_contact_form [name='first_name']",
                run() {
                    const value = (name) =>
                        document.querySelector(`.o_alma_contact_form [name='${name}']`)
                            .value;
                    if (
                        value("first_name") !== "Paul" ||
                        value("last_name") !== "Durand"
                    ) {
                        fail(
                            `Not prefilled: ${value("first_name")} ${value("last_name")}`
                        );
                    }
                    if (!value("mobile") || value("email")) {
                        fail(
                            `Unexpected mobile/e-mail: ${value("mobile")} / ${value("email")}`
                        );
                    }
                },
            },
            {
                content: "cannot go on before completing it",
                trigger: ".o_alma_dialog:not(:has(.o_alma_next))",
            },
            fillContact({email: "paul.durand@example.com"}),
            {
                content: "Save",
                trigger: ".o_alma_dialog .o_alma_contact_save",
                run: "click",
            },
            {
                content: "the completed contact is selected",
                trigger:
                    ".o_alma_dialog .o_alma_contact_summary:contains('paul.durand@example.com')",
            },
            Alma.next(),
            Alma.keepFees(),
            Alma.chooseMode("link"),
            Alma.isWaiting(),
        ].flat(Infinity),
});

registry.category("web_tour.tours").add("AlmaSmsFallback", {
    steps: () =>
        [
            Alma.startWith("Consultation"),
            Alma.addLine("399.00"),
            Alma.clickSend(),
            Alma.send("P3X", "sms"),
            {
                content: "the SMS could not be sent: the cashier is told why",
                trigger: ".o_alma_status .o_alma_sms_error",
            },
            {
                content: "and gets the link and its QR code instead",
                trigger: ".o_alma_status:has(a.o_alma_link):has(img.o_alma_qr)",
            },
            Alma.customerPays(),
            Alma.isAccepted(),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
        ].flat(Infinity),
});

registry.category("web_tour.tours").add("AlmaCancelTooLate", {
    steps: () =>
        [
            Alma.startWith("Consultation"),
            Alma.addLine("399.00"),
            Alma.clickSend(),
            Alma.send("P3X", "link"),
            {
                content: "the customer pays just as the cashier presses Cancel",
                trigger:
                    ".o_alma_status[data-alma-state='waiting'] .o_alma_cancel:not([disabled])",
                async run() {
                    await fetch(almaLinkUrl(), {
                        method: "POST",
                        mode: "no-cors",
                        body: new URLSearchParams({card_number: ACCEPTED_CARD}),
                    });
                    document.querySelector(".o_alma_status .o_alma_cancel").click();
                },
            },
            {
                content: "confirm the cancellation at Alma",
                trigger: ".modal .modal-body:contains('cancelled at Alma')",
            },
            Dialog.confirm(),
            {
                content: "Alma refuses: the cashier reads why",
                trigger: ".modal .modal-body:contains('paid')",
            },
            Dialog.confirm(),
            Alma.isAccepted(),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
        ].flat(Infinity),
});

registry.category("web_tour.tours").add("AlmaDeleteOrderWaiting", {
    steps: () =>
        [
            Alma.startWith("Consultation"),
            Alma.addLine("399.00"),
            Alma.clickSend(),
            Alma.send("P3X", "link"),
            Chrome.clickMenuOption("Orders"),
            TicketScreen.deleteOrder("-0001"),
            Dialog.confirm(),
            {
                content: "the order is gone: its Alma payment was cancelled first",
                trigger: ".ticket-screen:not(:has(.order-row .col:contains('-0001')))",
            },
        ].flat(Infinity),
});
