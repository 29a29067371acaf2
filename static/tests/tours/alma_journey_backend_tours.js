import {registry} from "@web/core/registry";
import {ACCEPTED_CARD, fail} from "@payment_alma/../tests/tours/utils/alma_util";

/*
 * The back-office journeys of the demo clinic (issue 18), in French: see
 * alma_journey_tours.js and tests/test_journeys.py.
 */

function noErrorDialog(content) {
    return {
        content,
        trigger: "body:not(:has(.o_error_dialog))",
        run() {
            if (document.querySelector(".o_error_dialog")) {
                throw new Error(document.querySelector(".modal").textContent);
            }
        },
    };
}

registry.category("web_tour.tours").add("AlmaClinicAdminOpensAPayment", {
    url: "/odoo/action-payment_alma.action_alma_payment",
    steps: () => [
        {
            content: "Paiements Alma lists the clinic's payment",
            trigger:
                ".o_list_renderer .o_data_row td[name=partner_id]:contains('Jean Martin')",
            run: "click",
        },
        {
            content: "its form opens, with its plan",
            trigger:
                ".o_form_view .o_field_widget[name=plan_id]:contains('Paiement en 3 fois')",
        },
        noErrorDialog("no access error"),
        {
            content: "and its state, in French",
            trigger:
                ".o_form_view .o_statusbar_status .o_arrow_button_current:contains('Accepté')",
        },
    ],
});

registry.category("web_tour.tours").add("AlmaClinicAdminChecksTheConnection", {
    steps: () => [
        {
            content: "the provider's form, in French",
            trigger:
                ".o_form_view button[name=action_alma_check_connection]:contains('Tester la connexion')",
            run: "click",
        },
        {
            content: "the merchant's name appears",
            trigger: ".o_notification:contains('Clinique des Lilas (Alma stand-in)')",
        },
        noErrorDialog("no error"),
    ],
});

registry.category("web_tour.tours").add("AlmaClinicBookkeeperTransfer", {
    url: "/odoo/action-payment_alma.action_alma_fee_line",
    steps: () => [
        {
            content:
                "Frais Alma: the two sales of the day, waiting for Alma's transfer",
            trigger:
                ".o_list_renderer:has(.o_data_row:nth-child(2)):not(:has(.o_data_row:nth-child(3)))",
        },
        {
            content: "the grid speaks French",
            trigger: ".o_list_renderer thead:contains('Frais HT'):contains('Brut TTC')",
        },
        {
            content: "double-click the first line: its transfer has arrived",
            trigger: ".o_data_row:first-child td[name=partner_id]",
            run: "dblclick",
        },
        {
            content: "a green tick, and a word saying so",
            trigger: ".o_data_row:first-child td[name=settled_mark]:contains('✓')",
        },
        {trigger: ".o_notification:contains('Virement reçu')"},
        noErrorDialog("no error"),
        {
            content: "select both lines",
            trigger: "thead .o_list_record_selector input",
            run: "click",
        },
        {
            content: "Virement reçu",
            trigger:
                ".o_list_buttons button[name=action_alma_record_transfer], .o_control_panel button[name=action_alma_record_transfer]",
            run: "click",
        },
        {
            content: "the dialog proposes the clinic's bank and the expected net",
            trigger: ".modal .o_field_widget[name=journal_id] input",
            run() {
                if (!this.anchor.value) {
                    throw new Error("No bank journal proposed");
                }
            },
        },
        {
            content:
                "the bookkeeper types the amount of the bank statement: the expected net",
            trigger: ".modal .o_field_widget[name=amount_received] input",
            async run(helpers) {
                const expected = document.querySelector(
                    ".modal .o_field_widget[name=amount] span, .modal .o_field_widget[name=amount]"
                );
                const text = expected.textContent
                    .replace(/[^\d,.-]/g, "")
                    .replace(/\./g, "")
                    .replace(",", ".");
                await helpers.edit(text);
            },
        },
        {
            content: "Enregistrer le virement",
            trigger: ".modal button[name=action_confirm]",
            run: "click",
        },
        {
            content: "recorded",
            trigger: "body:not(:has(.modal))",
        },
        noErrorDialog("no error"),
    ],
});

/*
 * Journey 3: the back office. The bookkeeper (`compta`, Billing only) sends "Payer avec Alma" by
 * SMS for Sophie Bernard's 1 200,00 € invoice (a phone sale); she pays on Alma's page (a real
 * POST to the stand-in, as the other tours do) and the dialog shows it by itself (it polls, as
 * the till does: Alma's notification cannot reach a test's server); the invoice is paid.
 */

registry.category("web_tour.tours").add("AlmaClinicInvoiceBySms", {
    steps: () => [
        {
            content: "Payer avec Alma",
            trigger:
                ".o_form_view button[name='action_alma_pay']:contains('Payer avec Alma')",
            run: "click",
        },
        {
            content: "Alma's dialog, under its own title",
            trigger: ".modal .modal-title:contains('Payer avec Alma')",
        },
        {
            content: "3x: three installments, what the customer and the clinic pay",
            trigger: ".modal .o_alma_plan[data-plan-code='P3X']",
            run() {
                const plan = document.querySelector(
                    ".modal .o_alma_plan[data-plan-code='P3X']"
                );
                const installments = plan.querySelectorAll(".o_alma_installment");
                if (installments.length !== 3) {
                    fail(`3 installments expected, got ${installments.length}`);
                }
                for (const selector of [
                    ".o_alma_customer_total",
                    ".o_alma_clinic_fee_total",
                ]) {
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
            trigger:
                ".modal .o_alma_plan[data-plan-code='P4X']:not(:has(.o_alma_absorbed_fee))",
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
            trigger: ".modal .o_alma_choose div[name='contact_id'] input",
            run() {
                const contact = document.querySelector(
                    ".modal .o_alma_choose div[name='contact_id'] input"
                ).value;
                if (!contact.includes("Sophie Bernard")) {
                    fail(`The contact offered is "${contact}", not Sophie Bernard`);
                }
                if (document.querySelector(".modal .o_alma_contact_errors")) {
                    fail("Sophie Bernard's contact is complete");
                }
            },
        },
        {
            content: "send by SMS",
            trigger: ".modal div[name='send_mode'] input[data-value='sms']",
            run: "click",
        },
        {
            content: "send",
            trigger: ".modal button[name='action_send_link']",
            run: "click",
        },
        {
            content: "the link waits for the customer, with a copy button",
            trigger:
                ".modal div[name='payment_state']:contains('En attente du client')",
        },
        {
            trigger: ".modal div[name='payment_url'] .o_clipboard_button",
        },
        {
            content: "the contact's mobile and e-mail, where the link went",
            trigger:
                ".modal div[name='payment_contact_mobile']:contains('06 23 45 67 89')",
        },
        {
            trigger:
                ".modal div[name='payment_contact_email']:contains('sophie.bernard@example.com')",
        },
        {
            content:
                "the plan sent takes the dialog's width; no amount runs over its label",
            trigger: ".modal .o_alma_sent .o_alma_plan[data-plan-code='P3X']",
            run() {
                const sent = document.querySelector(".modal .o_alma_sent");
                const plan = sent.querySelector(".o_alma_plan");
                const width = plan.getBoundingClientRect().width;
                if (width < 0.9 * sent.getBoundingClientRect().width) {
                    fail(`The plan is squeezed: ${width} px of ${sent.clientWidth} px`);
                }
                for (const row of plan.querySelectorAll(
                    ".o_alma_fee_row, .o_alma_installment"
                )) {
                    const [label, amount] = [
                        row.firstElementChild,
                        row.lastElementChild,
                    ];
                    const [a, b] = [
                        label.getBoundingClientRect(),
                        amount.getBoundingClientRect(),
                    ];
                    const overlap = a.right > b.left + 0.5 && a.bottom > b.top + 0.5;
                    const rowBox = row.getBoundingClientRect();
                    if (
                        overlap ||
                        b.right > rowBox.right + 0.5 ||
                        a.right > rowBox.right + 0.5
                    ) {
                        fail(
                            `"${row.textContent.trim()}" overlaps or runs out of its column`
                        );
                    }
                }
            },
        },
        {
            content: "the customer opens the SMS's link and pays on Alma's page",
            trigger: ".modal div[name='payment_url']",
            async run() {
                const text = document.querySelector(
                    ".modal div[name='payment_url']"
                ).textContent;
                const almaUrl = (text.match(/https?:\/\/\S+\/pay\/[^\s/?#]+/) || [])[0];
                if (!almaUrl) {
                    fail(`Unexpected Alma page: ${text}`);
                }
                await fetch(almaUrl, {
                    method: "POST",
                    mode: "no-cors",
                    body: new URLSearchParams({card_number: ACCEPTED_CARD}),
                });
            },
        },
        {
            content: "the dialog changes by itself, without Actualiser",
            trigger: ".modal div[name='payment_state']:contains('Accepté')",
            timeout: 15000,
        },
        noErrorDialog("no error"),
        {
            content: "Fermer",
            trigger: ".modal .modal-footer button:contains('Fermer')",
            run: "click",
        },
        {
            content: "the invoice is paid",
            trigger:
                ".o_form_view .ribbon span:contains('Payé'), .o_form_view .ribbon span:contains('En paiement')",
        },
    ],
});

/* The clinic's administrator refunds part of it: a credit note refunded through Alma (only
 * accounting managers refund; the bookkeeper's Billing rights do not). */
registry.category("web_tour.tours").add("AlmaClinicCreditNoteRefund", {
    steps: () => [
        {
            content:
                "the credit note of an invoice paid with Alma offers Alma's refund",
            trigger:
                ".o_form_view button[name='action_alma_refund']:contains('Rembourser avec Alma')",
            run: "click",
        },
        {
            content: "confirm the refund",
            trigger: ".modal:contains('Alma') .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "the administrator is told what Alma refunds, in French",
            trigger: ".o_notification:contains('Alma rembourse'):contains('300,00')",
        },
        noErrorDialog("no error"),
        {
            content: "the credit note is paid and no longer offers the refund",
            trigger:
                ".o_form_view:not(:has(button[name='action_alma_refund'])) .ribbon",
        },
    ],
});
