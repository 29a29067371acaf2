/** @odoo-module **/
/*
 * Journey 4 of the demo clinic (issue 18): the customer pays an invoice online, in French, on
 * the invoice's page (the portal's "Payer maintenant" as Jean Martin, or the page a payment
 * link opens, logged out). Alma refuses the card, the customer tries again and gives up on
 * Alma's page, then tries once more and pays: the page says what happened each time. The
 * Python side (TestClinicCustomer) checks the transactions, Alma's payments and the books.
 */

import {registry} from "@web/core/registry";
import {
    DECLINED_CARD,
    fail,
    readText,
} from "@payment_alma/../tests/tours/utils/alma_util";
import {
    chooseAlma,
    onAlmasPage,
} from "@payment_alma/../tests/tours/utils/alma_web_util";

function payNow() {
    return [
        {
            content: "Payer maintenant",
            trigger: "a[data-bs-target='#pay_with']:contains('Payer maintenant')",
            run: "click",
        },
        ...chooseAlma("P3X"),
    ];
}

/** Back on the invoice's page, which tells what happened to the Alma payment. */
function pageSays(expected, notExpected) {
    return {
        content: `the invoice's page says: ${expected}`,
        trigger: "#invoice_content [name='o_alma_payment_outcome']",
        run() {
            const text = readText(
                document.querySelector(
                    "#invoice_content [name='o_alma_payment_outcome']"
                )
            );
            if (text !== expected) {
                fail(`The page says "${text}", not "${expected}"`);
            }
            if (document.body.textContent.includes(notExpected)) {
                fail(`The page still says "${notExpected}"`);
            }
        },
    };
}

const AGAIN = "Vous pouvez réessayer ou choisir un autre moyen de paiement.";

registry.category("web_tour.tours").add("AlmaClinicCustomerPays", {
    steps: () => [
        // 1. A declined card.
        ...payNow(),
        ...onAlmasPage({card: DECLINED_CARD}),
        pageSays(
            `Le paiement avec Alma a été refusé : aucun montant n’a été prélevé. ${AGAIN}`,
            "Merci"
        ),
        // 2. Again; on Alma's page the customer gives up and goes back to the clinic.
        ...payNow(),
        ...onAlmasPage({givesUp: true}),
        pageSays(
            `Vous avez quitté la page d’Alma : rien n’a été payé. ${AGAIN}`,
            "a été refusé"
        ),
        // 3. Once more, paid.
        ...payNow(),
        ...onAlmasPage(),
        {
            content: "back on the invoice: Merci !, and nothing left to pay",
            trigger: "#invoice_content .o_account_payment_tx_status:contains('Merci')",
            run() {
                if (document.querySelector("[name='o_alma_payment_outcome']")) {
                    fail("The page still speaks of a payment that did not go through");
                }
                if (document.querySelector("a[data-bs-target='#pay_with']")) {
                    fail("Payer maintenant is still offered on a paid invoice");
                }
            },
        },
    ],
});
