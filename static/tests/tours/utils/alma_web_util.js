import {ACCEPTED_CARD, fail} from "@payment_alma/../tests/tours/utils/alma_util";

/* Odoo's payment form with Alma: the customer picks a plan inline, pays on the stand-in's page
 * (a real POST to the stand-in, as the POS tours do), and comes back through Alma's return
 * link. The form's redirection to Alma is recorded instead of followed: a tour cannot run on
 * another site's page. */

export function chooseAlma(planCode) {
    return [
        {
            content: "Alma is offered: choose it",
            trigger: "input[name='o_payment_radio'][data-provider-code='alma']",
            run: "click",
        },
        {
            content: "the plans Alma takes for this amount, with their schedules",
            trigger: `.o_alma_inline_form .o_alma_plan[data-plan-code='${planCode}']`,
            run() {
                const plan = document.querySelector(
                    `.o_alma_plan[data-plan-code='${planCode}']`
                );
                const rows = plan.querySelectorAll(".o_alma_schedule tr");
                if (planCode === "P3X" && rows.length !== 3) {
                    fail(`3 installments expected, got ${rows.length}`);
                }
                if (!plan.querySelector(".o_alma_fees")?.textContent.trim()) {
                    fail("The plan's fees are not shown");
                }
            },
        },
        {
            content: `choose ${planCode}`,
            trigger: `.o_alma_plan[data-plan-code='${planCode}'] input[name='o_alma_plan']`,
            run: "click",
        },
        {
            content: "record where the form sends the customer",
            trigger: "body",
            run() {
                const submit = HTMLFormElement.prototype.submit;
                HTMLFormElement.prototype.submit = function () {
                    if (this.id === "o_payment_redirect_form") {
                        const url = new URL(this.action);
                        new FormData(this).forEach((value, name) =>
                            url.searchParams.set(name, value)
                        );
                        document.body.dataset.almaRedirect = url.href;
                    } else {
                        submit.call(this);
                    }
                };
            },
        },
    ];
}

/** Click "Pay" and wait for the form to send the customer to Alma (the UI stays blocked). */
async function clickPayAndGetAlmaUrl() {
    document.querySelector("button[name='o_payment_submit_button']").click();
    for (let attempt = 0; attempt < 200; attempt++) {
        if (document.body.dataset.almaRedirect) {
            return document.body.dataset.almaRedirect;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    fail("The payment form did not send the customer to Alma");
}

/**
 * The customer is sent to Alma's page, then pays with `card` and comes back by Alma's return
 * link, or (`givesUp`) goes back to the business by Alma's "give up" link.
 */
export function onAlmasPage({card = ACCEPTED_CARD, givesUp = false} = {}) {
    return [
        {
            content: givesUp
                ? "pay: on Alma's page, the customer gives up and goes back to the business"
                : `pay: the customer is sent to Alma's page and pays with ${card}`,
            trigger: "button[name='o_payment_submit_button']:enabled",
            async run() {
                const almaUrl = await clickPayAndGetAlmaUrl();
                const match = new URL(almaUrl).pathname.match(/\/pay\/([^/?#]+)/);
                if (!match) {
                    fail(`Unexpected Alma page: ${almaUrl}`);
                }
                const page = await fetch(almaUrl, {mode: "no-cors"});
                if (page.type !== "opaque" && !page.ok) {
                    fail(`Alma's page answered ${page.status}`);
                }
                if (givesUp) {
                    // Alma's "give up" link: its customer_cancel_url with `pid` appended.
                    window.location.href = `/payment/alma/cancel?pid=${match[1]}`;
                    return;
                }
                await fetch(almaUrl, {
                    method: "POST",
                    mode: "no-cors",
                    body: new URLSearchParams({card_number: card}),
                });
                // Alma's return link: its return_url with `pid` appended.
                window.location.href = `/payment/alma/return?pid=${match[1]}`;
            },
            expectUnloadPage: true,
        },
    ];
}
