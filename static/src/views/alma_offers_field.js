import {_t} from "@web/core/l10n/translation";
import {Component} from "@odoo/owl";
import {formatCurrency} from "@web/core/currency";
import {registry} from "@web/core/registry";
import {formatFloat} from "@web/core/utils/numbers";
import {standardFieldProps} from "@web/views/fields/standard_field_props";
import {almaFormatDueDate} from "@payment_alma/app/alma_utils";

/**
 * The plans Alma offers for an invoice, as the till's dialog shows them: each plan's schedule,
 * what the customer pays and what the clinic pays (fees incl. VAT, and the customer's fees
 * when they are offered). A click on a plan chooses it (the record's `plan_id`); with
 * `selectable: false` it only shows the plan of a payment already sent.
 */
export class AlmaOffersField extends Component {
    static template = "payment_alma.AlmaOffersField";
    static props = {
        ...standardFieldProps,
        selectable: {type: Boolean, optional: true},
    };
    static defaultProps = {selectable: true};

    get offers() {
        return this.props.record.data[this.props.name] || [];
    }
    get eligibleOffers() {
        return this.offers.filter((offer) => offer.eligible);
    }
    get ineligibleOffers() {
        return this.offers.filter((offer) => !offer.eligible);
    }
    get selectedPlanId() {
        const plan = this.props.record.data.plan_id;
        return this.props.selectable && plan ? plan[0] : false;
    }
    select(offer) {
        if (this.props.selectable && offer.plan_id !== this.selectedPlanId) {
            this.props.record.update({plan_id: [offer.plan_id, offer.name]});
        }
    }
    formatCurrency(amount) {
        const currency = this.props.record.data.currency_id;
        return formatCurrency(amount || 0, currency && currency[0]);
    }
    formatDate(date) {
        return almaFormatDueDate(date);
    }
    annualRate(offer) {
        const rate = offer?.annual_interest_rate;
        if (typeof rate !== "number" || !(rate > 0)) {
            return "";
        }
        return _t("%s %", formatFloat(rate, {digits: [false, 2]}));
    }
}

export const almaOffersField = {
    component: AlmaOffersField,
    supportedTypes: ["json"],
    extractProps: ({options}) => ({selectable: options.selectable !== false}),
};

registry.category("fields").add("alma_offers", almaOffersField);
