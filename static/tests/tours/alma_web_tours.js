/** @odoo-module **/
/* Odoo's payment form with Alma: the customer picks a plan inline, pays on the stand-in's page
 * (a real POST to the stand-in, as the POS tours do), and comes back through Alma's return
 * link. The form's redirection to Alma is recorded instead of followed: a tour cannot run on
 * another site's page. */

import {registry} from "@web/core/registry";
import {
    chooseAlma,
    onAlmasPage,
} from "@payment_alma/../tests/tours/utils/alma_web_util";

registry.category("web_tour.tours").add("AlmaPaymentLink", {
    steps: () => [
        ...chooseAlma("P3X"),
        ...onAlmasPage(),
        {
            content: "the payment is confirmed",
            trigger: ".alert-success",
        },
    ],
});

/* The shop (website_sale, installed in the test database only: no import from it here). The
 * product is a service, so the checkout goes from the cart straight to the payment step. */
registry.category("web_tour.tours").add("AlmaShopCheckout", {
    steps: () => [
        {
            content: "add the product to the cart",
            trigger: "#add_to_cart",
            run: "click",
        },
        {
            content: "go to the cart",
            trigger: "a:has(sup.my_cart_quantity:contains(/^1$/))",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "checkout",
            trigger: "a[href^='/shop/checkout']",
            run: "click",
            expectUnloadPage: true,
        },
        ...chooseAlma("P3X"),
        ...onAlmasPage(),
        {
            content:
                "back on the shop: the order is confirmed and the payment accepted",
            trigger: ".oe_website_sale_tx_status .alert-success",
        },
    ],
});
