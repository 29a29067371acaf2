import { registry } from "@web/core/registry";

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
            trigger: ".o_list_renderer .o_data_row td[name=partner_id]:contains('Jean Martin')",
            run: "click",
        },
        {
            content: "its form opens, with its plan",
            trigger: ".o_form_view .o_field_widget[name=plan_id]:contains('Paiement en 3 fois')",
        },
        noErrorDialog("no access error"),
        {
            content: "and its state, in French",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains('Accepté')",
        },
    ],
});

registry.category("web_tour.tours").add("AlmaClinicAdminChecksTheConnection", {
    steps: () => [
        {
            content: "the provider's form, in French",
            trigger: ".o_form_view button[name=action_alma_check_connection]:contains('Tester la connexion')",
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
            content: "Frais Alma: the two sales of the day, waiting for Alma's transfer",
            trigger: ".o_list_renderer:has(.o_data_row:nth-child(2)):not(:has(.o_data_row:nth-child(3)))",
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
        { trigger: ".o_notification:contains('Virement reçu')" },
        noErrorDialog("no error"),
        {
            content: "select both lines",
            trigger: "thead .o_list_record_selector input",
            run: "click",
        },
        {
            content: "Virement reçu",
            trigger: ".o_list_buttons button[name=action_alma_record_transfer], .o_control_panel button[name=action_alma_record_transfer]",
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
            content: "the bookkeeper types the amount of the bank statement: the expected net",
            trigger: ".modal .o_field_widget[name=amount_received] input",
            async run(helpers) {
                const expected = document.querySelector(".modal .o_field_widget[name=amount] span, .modal .o_field_widget[name=amount]");
                const text = expected.textContent.replace(/[^\d,.-]/g, "").replace(/\./g, "").replace(",", ".");
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
