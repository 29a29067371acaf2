/** @odoo-module **/

import {_t} from "@web/core/l10n/translation";
import {rpc, RPCError} from "@web/core/network/rpc";
import paymentForm from "@payment/js/payment_form";

paymentForm.include({
    // #=== DOM MANIPULATION ===#

    /**
     * Alma's plan choice is rendered by the server: only the flow is set here.
     *
     * @override method from @payment/js/payment_form
     */
    async _prepareInlineForm(
        providerId,
        providerCode,
        paymentOptionId,
        paymentMethodCode,
        flow
    ) {
        if (providerCode !== "alma") {
            return this._super(...arguments);
        }
        if (flow !== "token") {
            this._setPaymentFlow("direct");
        }
    },

    /**
     * Return the plan radio checked in Alma's inline form, if any.
     *
     * @private
     * @return {HTMLInputElement|null}
     */
    _almaSelectedPlan() {
        const radio = this.el.querySelector('input[name="o_payment_radio"]:checked');
        const inlineForm = radio && this._getInlineForm(radio);
        return inlineForm?.querySelector('input[name="o_alma_plan"]:checked') ?? null;
    },

    // #=== PAYMENT FLOW ===#

    /**
     * Refuse to create a transaction before a plan is chosen.
     *
     * @override method from @payment/js/payment_form
     */
    async _initiatePaymentFlow(providerCode, paymentOptionId, paymentMethodCode, flow) {
        if (providerCode !== "alma" || flow === "token") {
            return this._super(...arguments);
        }
        if (!this._almaSelectedPlan()) {
            this._displayErrorDialog(
                _t("Payment processing failed"),
                _t("Choose how you want to pay with Alma.")
            );
            this._enableButton();
            return;
        }
        return this._super(...arguments);
    },

    /**
     * Create the Alma payment in the chosen plan, then send the customer to Alma's page.
     *
     * @override method from @payment/js/payment_form
     */
    async _processDirectFlow(
        providerCode,
        paymentOptionId,
        paymentMethodCode,
        processingValues
    ) {
        if (providerCode !== "alma") {
            return this._super(...arguments);
        }
        let result;
        try {
            result = await rpc("/payment/alma/payment", {
                reference: processingValues.reference,
                plan_id: parseInt(this._almaSelectedPlan()?.value),
                access_token: processingValues.alma_access_token,
            });
        } catch (error) {
            if (!(error instanceof RPCError)) {
                throw error;
            }
            result = {error: error.data.message};
        }
        if (result.error) {
            this._displayErrorDialog(_t("Payment processing failed"), result.error);
            this._enableButton();
            return;
        }
        this._almaRedirect(result.url);
    },

    /**
     * Send the customer to Alma's page as Odoo's redirect flow does: a form, to the top window.
     *
     * @private
     * @param {string} url - Alma's payment page.
     * @return {void}
     */
    _almaRedirect(url) {
        const parsed = new URL(url);
        const form = document.createElement("form");
        form.method = "get";
        form.action = parsed.origin + parsed.pathname;
        form.target = "_top";
        form.id = "o_payment_redirect_form";
        for (const [name, value] of parsed.searchParams) {
            const input = document.createElement("input");
            Object.assign(input, {type: "hidden", name, value});
            form.appendChild(input);
        }
        document.body.appendChild(form);
        form.submit();
    },
});
