/** @odoo-module **/
/* "Pay with Alma" on an invoice (a phone sale), in the back office: the plans with their
 * schedules and fees, the fees offered and taken back, the link and its QR code, where it went;
 * the customer pays on the stand-in's page (a real POST, as the other tours do) and the dialog
 * shows it by itself (no *Refresh*: it polls, as the till does); the invoice is paid. */

import { registry } from "@web/core/registry";

const ACCEPTED_CARD = "4242424242424242";

function fail(message) {
    throw new Error(message);
}

registry.category("web_tour.tours").add("AlmaInvoicePayWithAlma", {
    steps: () => [
        {
            content: "Pay with Alma",
            trigger: ".o_form_view button[name='action_alma_pay']",
            run: "click",
        },
        {
            content: "Alma's dialog, under its own title",
            trigger: ".modal .modal-title:contains('Pay with Alma')",
        },
        {
            content: "3x: three installments, what the customer and the clinic pay",
            trigger: ".modal .o_alma_plan[data-plan-code='P3X']",
            run() {
                const plan = document.querySelector(".modal .o_alma_plan[data-plan-code='P3X']");
                const installments = plan.querySelectorAll(".o_alma_installment");
                if (installments.length !== 3) {
                    fail(`3 installments expected, got ${installments.length}`);
                }
                for (const selector of [".o_alma_customer_total", ".o_alma_clinic_fee_total"]) {
                    if (!plan.querySelector(selector)?.textContent.trim()) {
                        fail(`${selector} is not shown`);
                    }
                }
            },
        },
        {
            content: "offer the customer's fees",
            trigger: ".modal div[name='fees_offered'] input",
            run: "click",
        },
        {
            content: "Alma is asked again: 4x costs the customer nothing more",
            trigger: ".modal .o_alma_plan[data-plan-code='P4X'] .o_alma_absorbed_fee",
        },
        {
            content: "take the offer back",
            trigger: ".modal div[name='fees_offered'] input",
            run: "click",
        },
        {
            trigger: ".modal .o_alma_plan[data-plan-code='P4X']:not(:has(.o_alma_absorbed_fee))",
        },
        {
            content: "choose 3x",
            trigger: ".modal .o_alma_plan[data-plan-code='P3X']",
            run: "click",
        },
        {
            trigger: ".modal .o_alma_plan_selected[data-plan-code='P3X']",
        },
        {
            content: "the customer's contact is checked: nothing to correct",
            trigger: ".modal .o_alma_choose div[name='contact_id']",
            run() {
                if (document.querySelector(".modal .o_alma_contact_errors")) {
                    fail("Jean Martin's contact is complete");
                }
            },
        },
        {
            content: "send a link and its QR code",
            trigger: ".modal div[name='send_mode'] input[data-value='link']",
            run: "click",
        },
        {
            content: "send",
            trigger: ".modal button[name='action_send_link']",
            run: "click",
        },
        {
            content: "the link waits for the customer, with its QR code and a copy button",
            trigger: ".modal div[name='payment_qr_code'] img[src*='barcode_type=QR']",
        },
        {
            trigger: ".modal div[name='payment_url'] .o_clipboard_button",
        },
        {
            content: "the contact's mobile and e-mail, where the link went",
            trigger: ".modal div[name='payment_contact_mobile']:contains('06 12 34 56 78')",
        },
        {
            trigger: ".modal div[name='payment_contact_email']:contains('jean.martin@example.com')",
        },
        {
            content: "the plan sent takes the dialog's width; no amount runs over its label",
            trigger: ".modal .o_alma_sent .o_alma_plan[data-plan-code='P3X']",
            run() {
                const sent = document.querySelector(".modal .o_alma_sent");
                const plan = sent.querySelector(".o_alma_plan");
                const width = plan.getBoundingClientRect().width;
                if (width < 0.9 * sent.getBoundingClientRect().width) {
                    fail(`The plan is squeezed: ${width} px of ${sent.clientWidth} px`);
                }
                for (const row of plan.querySelectorAll(".o_alma_fee_row, .o_alma_installment")) {
                    const [label, amount] = [row.firstElementChild, row.lastElementChild];
                    const [a, b] = [label.getBoundingClientRect(), amount.getBoundingClientRect()];
                    const overlap = a.right > b.left + 0.5 && a.bottom > b.top + 0.5;
                    const rowBox = row.getBoundingClientRect();
                    if (overlap || b.right > rowBox.right + 0.5 || a.right > rowBox.right + 0.5) {
                        fail(`"${row.textContent.trim()}" overlaps or runs out of its column`);
                    }
                }
            },
        },
        {
            content: "the customer scans the QR code and pays on Alma's page",
            trigger: ".modal div[name='payment_state']:contains('Waiting for the customer')",
            async run() {
                const qr = document.querySelector(".modal div[name='payment_qr_code'] img");
                const almaUrl = new URL(qr.src).searchParams.get("value");
                if (!/\/pay\/[^/?#]+$/.test(almaUrl || "")) {
                    fail(`Unexpected Alma page: ${almaUrl}`);
                }
                await fetch(almaUrl, {
                    method: "POST",
                    mode: "no-cors",
                    body: new URLSearchParams({ card_number: ACCEPTED_CARD }),
                });
            },
        },
        {
            content: "the dialog changes by itself, without Refresh",
            trigger: ".modal div[name='payment_state']:contains('Accepted')",
            timeout: 15000,
        },
        {
            content: "close",
            trigger: ".modal .modal-footer button:contains('Close')",
            run: "click",
        },
        {
            content: "the invoice is paid",
            trigger:
                ".o_form_view .ribbon span:contains('Paid'), .o_form_view .ribbon span:contains('In Payment')",
        },
    ],
});
