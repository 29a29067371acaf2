import {Component} from "@odoo/owl";
import {formatCurrency} from "@web/core/currency";
import {registry} from "@web/core/registry";
import {standardFieldProps} from "@web/views/fields/standard_field_props";
import {AlmaOfferList} from "@payment_alma/shared/alma_offer_card/alma_offer_card";

/**
 * The plans Alma offers for an invoice, as the till's dialog shows them, each in detail (what
 * the customer pays and what the clinic pays). A click on a plan chooses it (the record's
 * `plan_id`); with `selectable: false` it only shows the plan of a payment already sent.
 */
export class AlmaOffersField extends Component {
    static template = "payment_alma.AlmaOffersField";
    static components = {AlmaOfferList};
    static props = {
        ...standardFieldProps,
        selectable: {type: Boolean, optional: true},
    };
    static defaultProps = {selectable: true};

    get selectedPlanId() {
        const plan = this.props.record.data.plan_id;
        return this.props.selectable && plan ? plan[0] : false;
    }
    select(offer) {
        if (offer.plan_id !== this.selectedPlanId) {
            this.props.record.update({plan_id: [offer.plan_id, offer.name]});
        }
    }
    formatCurrency(amount) {
        const currency = this.props.record.data.currency_id;
        return formatCurrency(amount || 0, currency && currency[0]);
    }
}

export const almaOffersField = {
    component: AlmaOffersField,
    supportedTypes: ["json"],
    extractProps: ({options}) => ({selectable: options.selectable !== false}),
};

registry.category("fields").add("alma_offers", almaOffersField);
