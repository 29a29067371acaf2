import { registry } from "@web/core/registry";

/* A bookkeeper refunds a credit note through Alma from its form. */
registry.category("web_tour.tours").add("AlmaCreditNoteRefund", {
    steps: () => [
        {
            content: "the credit note of an invoice paid with Alma offers Alma's refund",
            trigger: "button[name='action_alma_refund']",
            run: "click",
        },
        {
            content: "confirm the refund",
            trigger: ".modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "the bookkeeper is told what Alma refunds",
            trigger: ".o_notification:contains(Alma refunds)",
        },
        {
            content: "the credit note is paid and no longer offers the refund",
            trigger: ".o_form_view:not(:has(button[name='action_alma_refund'])) .ribbon",
        },
    ],
});
