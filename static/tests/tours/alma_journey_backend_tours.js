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
            trigger: ".o_form_view .o_statusbar_status button.active:contains('Accepté')",
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
