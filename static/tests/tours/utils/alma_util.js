import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";

/*
 * Steps and checks shared by the Alma tours: the till's Alma dialog, the customer's side
 * played on the stand-in's page, and the texts a tour reads.
 */

export const ACCEPTED_CARD = "4242424242424242";
export const DECLINED_CARD = "4000000000000002";

export function fail(message) {
    throw new Error(message);
}

/** "133,00 €", "133.00 €", "€ 133.00", with any kind of space around. */
export function amountRegex(amount, flags = "") {
    const [units, cents] = amount.split(".");
    return new RegExp(`(?<![\\d.,])${units}[.,]${cents}(?!\\d)`, flags);
}

export function hasAmount(text, amount) {
    return amountRegex(amount).test(text.replace(/[\u00a0\u202f]/g, " "));
}

export function countAmount(text, amount) {
    return (text.replace(/[\u00a0\u202f]/g, " ").match(amountRegex(amount, "g")) || [])
        .length;
}

export function almaLinkUrl() {
    const status = document.querySelector(".o_alma_status[data-alma-url]");
    const link = document.querySelector("a.o_alma_link");
    const url = link?.href || status?.dataset.almaUrl;
    if (!url) {
        fail("No Alma payment link on the page");
    }
    return url;
}

/** The stand-in's base URL and the payment id, from `<stand-in>/pay/<payment id>`. */
export function standinOf(url) {
    const parsed = new URL(url);
    const match = parsed.pathname.match(/\/pay\/([^/?#]+)/);
    if (!match) {
        fail(`Unexpected Alma payment link: ${url}`);
    }
    return {base: parsed.origin, paymentId: match[1]};
}

/** The texts of Odoo's till and ours that the steps look for, in the cashier's language. */
export const ENGLISH = {
    openRegister: "Open Register",
    oneUnit: "1.00",
    sentAgain: "sent again",
};
export const FRENCH = {
    openRegister: "Ouvrir la caisse",
    oneUnit: "1,00",
    sentAgain: "Le lien de paiement a été renvoyé.",
};

/** The text of an element as read: spaces (no-break ones too) collapsed into one. */
export function readText(element) {
    return element.textContent.replace(/[\s\u00a0\u202f]+/g, " ").trim();
}

/**
 * Each element of `selector` reads exactly `expected` (a list: one text per element), once
 * `trigger` shows (a disabled button is read from an enabled element around it).
 */
export function textsAre(selector, expected, what = selector, trigger = selector) {
    return {
        content: `${what}: ${expected.join(" | ")}`,
        trigger,
        run() {
            const texts = [...document.querySelectorAll(selector)].map(readText);
            if (JSON.stringify(texts) !== JSON.stringify(expected)) {
                fail(
                    `${what} reads ${JSON.stringify(texts)}, not ${JSON.stringify(expected)}`
                );
            }
        },
    };
}

/** None of `english` (our labels in English) shows in `selector`. */
export function noEnglish(selector, english, what = selector) {
    return {
        content: `${what}: nothing of ours in English`,
        trigger: selector,
        run() {
            const text = [...document.querySelectorAll(selector)]
                .map(readText)
                .join(" ");
            const found = english.filter((term) => text.includes(term));
            if (found.length) {
                fail(`${what} shows English (${found.join(", ")}): ${text}`);
            }
        },
    };
}

export const Alma = {
    startWith(
        product,
        {customer = "Jean Martin", openRegister = true, words = ENGLISH} = {}
    ) {
        return [
            Chrome.startPoS(),
            openRegister ? [Dialog.confirm(words.openRegister)] : [],
            ProductScreen.clickDisplayedProduct(product),
            ProductScreen.selectedOrderlineHas(product, words.oneUnit),
            customer
                ? [
                      ProductScreen.clickPartnerButton(),
                      ProductScreen.clickCustomer(customer),
                  ]
                : [],
            ProductScreen.clickPayButton(),
        ].flat(Infinity);
    },
    addLine(amount) {
        return [
            PaymentScreen.clickPaymentMethod("Alma"),
            {
                content: `the Alma line of ${amount} waits to be sent`,
                trigger: `.paymentlines .paymentline.selected .payment-name:contains("Alma")`,
            },
            {
                content: `the Alma line is of ${amount}`,
                trigger: ".paymentlines .paymentline.selected .payment-amount",
                run() {
                    const text = document.querySelector(
                        ".paymentlines .paymentline.selected .payment-amount"
                    ).textContent;
                    if (!hasAmount(text, amount)) {
                        fail(`The Alma line shows ${text}, not ${amount}`);
                    }
                },
            },
        ];
    },
    clickSend() {
        return [
            {
                content: "press Send on the Alma line",
                trigger: ".paymentlines .send_payment_request",
                run: "click",
            },
        ];
    },
    dialogIsOpen() {
        return [{content: "the Alma dialog is open", trigger: ".modal .o_alma_dialog"}];
    },
    stepIs(step) {
        return [
            {
                content: `the Alma dialog is at step ${step}`,
                trigger: `.o_alma_dialog .o_alma_step_current[data-step="${step}"]`,
            },
        ];
    },
    next() {
        return [
            {
                content: "Next",
                trigger: ".o_alma_dialog .o_alma_next:not([disabled])",
                run: "click",
            },
        ];
    },
    choosePlan(code) {
        return [
            ...Alma.stepIs("plans"),
            {
                content: `choose the plan ${code}`,
                trigger: `.o_alma_dialog .o_alma_plan[data-plan-code="${code}"]`,
                run: "click",
            },
            {
                content: `plan ${code} is selected`,
                trigger: `.o_alma_dialog .o_alma_plan.o_alma_plan_selected[data-plan-code="${code}"]`,
            },
            ...Alma.next(),
        ];
    },
    /** The default contact (the customer's) is complete: go on. */
    keepContact(name = "Jean Martin") {
        return [
            ...Alma.stepIs("contact"),
            {
                content: `the contact ${name} is selected`,
                trigger: `.o_alma_dialog .o_alma_contact_summary:contains("${name}")`,
            },
            ...Alma.next(),
        ];
    },
    keepFees() {
        return [...Alma.stepIs("fees"), ...Alma.next()];
    },
    chooseMode(mode) {
        return [
            ...Alma.stepIs("mode"),
            {
                content: `send by ${mode}`,
                trigger: `.o_alma_dialog .o_alma_mode_${mode}:not([disabled])`,
                run: "click",
            },
        ];
    },
    /** Plan, default contact, fees as they are, send mode. */
    send(code, mode) {
        return [
            ...Alma.dialogIsOpen(),
            ...Alma.choosePlan(code),
            ...Alma.keepContact(),
            ...Alma.keepFees(),
            ...Alma.chooseMode(mode),
            ...Alma.isWaiting(),
        ];
    },
    isWaiting() {
        return [
            {
                content: "the Alma dialog is closed",
                trigger: "body:not(:has(.o_alma_dialog))",
            },
            {
                content: "the pill is orange",
                trigger: ".o_alma_status .o_alma_pill.o_alma_pill_waiting",
            },
            {
                content: "the time left before the link expires is shown",
                trigger: ".o_alma_status .o_alma_time_left",
                run() {
                    const text = document
                        .querySelector(".o_alma_time_left")
                        .textContent.trim();
                    if (!/^\d\d:\d\d$|\d+ ?h|\d+ ?d/.test(text)) {
                        fail(`Unexpected time left: "${text}"`);
                    }
                },
            },
            {content: "Cancel is offered", trigger: ".o_alma_status .o_alma_cancel"},
            {content: "Resend is offered", trigger: ".o_alma_status .o_alma_resend"},
        ];
    },
    customerPays(card = ACCEPTED_CARD) {
        return [
            {
                content: `the customer pays with the card ${card} on Alma's page`,
                trigger: ".o_alma_status[data-alma-state='waiting'][data-alma-url]",
                async run() {
                    await fetch(almaLinkUrl(), {
                        method: "POST",
                        mode: "no-cors",
                        body: new URLSearchParams({card_number: card}),
                    });
                },
            },
        ];
    },
    linkExpires() {
        return [
            {
                content: "the payment link expires on Alma's side",
                trigger: ".o_alma_status[data-alma-state='waiting'][data-alma-url]",
                async run() {
                    const {base, paymentId} = standinOf(almaLinkUrl());
                    await fetch(`${base}/_standin/payments/${paymentId}/expire`, {
                        method: "POST",
                        mode: "no-cors",
                    });
                },
            },
        ];
    },
    isAccepted() {
        return [
            {
                content: "the pill turns green",
                trigger: ".o_alma_status .o_alma_pill.o_alma_pill_accepted",
                timeout: 20000,
            },
            {
                content: "the line is paid",
                trigger:
                    ".paymentlines .paymentline:has(.payment-name:contains('Alma'))",
                run() {
                    if (document.querySelector(".o_alma_cancel, .o_alma_link")) {
                        fail(
                            "Cancel or the link is still shown on an accepted payment"
                        );
                    }
                },
            },
            PaymentScreen.validateButtonIsHighlighted(true),
        ].flat(Infinity);
    },
    isRefused() {
        return [
            {
                content: "the pill turns red",
                trigger: ".o_alma_status .o_alma_pill.o_alma_pill_refused",
                timeout: 20000,
            },
            {
                content: "the line can be sent again",
                trigger: ".paymentlines .send_payment_request",
            },
            {
                content: "no Cancel on a final payment",
                trigger: "body:not(:has(.o_alma_cancel))",
            },
        ];
    },
    validateAndCheckReceipt(amount, times) {
        return [
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            ReceiptScreen.receiptIsThere(),
            {
                content: `the receipt shows the Alma plan and ${times} installments of ${amount}`,
                trigger: ".pos-receipt .pos-payment-terminal-receipt pre",
                run() {
                    const text = document.querySelector(
                        ".pos-receipt .pos-payment-terminal-receipt pre"
                    ).textContent;
                    const planName = window.__almaPlanName;
                    if (planName && !text.includes(planName)) {
                        fail(
                            `The receipt does not name the plan "${planName}": ${text}`
                        );
                    }
                    if (countAmount(text, amount) !== times) {
                        fail(`The receipt should show ${times} × ${amount}: ${text}`);
                    }
                    if (!/\d\d\/\d\d\/\d{4}/.test(text)) {
                        fail(`The receipt shows no due date: ${text}`);
                    }
                },
            },
        ].flat(Infinity);
    },
    rememberPlanName(code) {
        return [
            {
                content: `remember the name of the plan ${code}`,
                trigger: `.o_alma_dialog .o_alma_plan[data-plan-code="${code}"] .o_alma_plan_name`,
                run() {
                    window.__almaPlanName = document
                        .querySelector(
                            `.o_alma_dialog .o_alma_plan[data-plan-code="${code}"] .o_alma_plan_name`
                        )
                        .textContent.trim();
                },
            },
        ];
    },
};

export function checkScheduleOfPlan(code, amount, times) {
    return {
        content: `plan ${code}: ${times} installments of ${amount}, the first today`,
        trigger: `.o_alma_dialog .o_alma_plan[data-plan-code="${code}"] .o_alma_schedule`,
        run() {
            const card = document.querySelector(
                `.o_alma_dialog .o_alma_plan[data-plan-code="${code}"]`
            );
            const installments = card.querySelectorAll(".o_alma_installment");
            if (installments.length !== times) {
                fail(`Plan ${code} shows ${installments.length} installments`);
            }
            for (const installment of installments) {
                const text = installment.querySelector(
                    ".o_alma_installment_amount"
                ).textContent;
                if (!hasAmount(text, amount)) {
                    fail(`Plan ${code}: installment of ${text}, not ${amount}`);
                }
            }
        },
    };
}

/**
 * The cashier's main flow: a 399 € consultation sent by SMS in 3 installments, sent again, paid
 * by the customer on Alma's page, validated, its receipt checked. `words` are the texts the
 * steps look for in the cashier's language; each language adds its checks of what the cashier
 * reads on the dialog's plans, the waiting pill, the accepted pill and the receipt.
 */
export function smsHappyPath({
    words = ENGLISH,
    onPlans = [],
    onWaiting = [],
    onAccepted = [],
    onReceipt = [],
} = {}) {
    return [
        Alma.startWith("Consultation", {words}),
        Alma.addLine("399.00"),
        Alma.clickSend(),
        Alma.dialogIsOpen(),
        checkScheduleOfPlan("P3X", "133.00", 3),
        {
            content: "a plan that is not eligible is greyed with its reason, or absent",
            trigger: ".o_alma_dialog .o_alma_plans",
        },
        Alma.rememberPlanName("P3X"),
        onPlans,
        Alma.choosePlan("P3X"),
        Alma.keepContact(),
        Alma.stepIs("fees"),
        {
            content: "3x has no customer fee: nothing to offer",
            trigger:
                ".o_alma_dialog .o_alma_fees_client:not(:has(.o_alma_fees_offered))",
            run() {
                if (document.querySelector(".o_alma_fees_offered")) {
                    fail(
                        "'Offered to the client' is shown for a plan without customer fee"
                    );
                }
                const total = document.querySelector(
                    ".o_alma_customer_total"
                ).textContent;
                if (!hasAmount(total, "399.00")) {
                    fail(`The customer total is ${total}`);
                }
            },
        },
        Alma.next(),
        Alma.chooseMode("sms"),
        Alma.isWaiting(),
        onWaiting,
        {
            content: "SMS sent: no link shown to the cashier",
            trigger: ".o_alma_status:not(:has(.o_alma_link))",
        },
        {
            content: "the customer did not get it: Resend",
            trigger: ".o_alma_status .o_alma_resend:not([disabled])",
            run: "click",
        },
        {
            content: "the cashier is told the link was sent again",
            trigger: `.o_notification:contains('${words.sentAgain}')`,
        },
        {
            content: "still waiting",
            trigger: ".o_alma_status .o_alma_pill_waiting",
        },
        Alma.customerPays(),
        Alma.isAccepted(),
        onAccepted,
        Alma.validateAndCheckReceipt("133.00", 3),
        onReceipt,
    ].flat(Infinity);
}
