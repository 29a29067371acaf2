import {Component} from "@odoo/owl";
import {almaAnnualRate, almaFormatDueDate} from "@payment_alma/app/alma_utils";

/**
 * One plan Alma offers, with the server's figures: its schedule, what the customer pays and
 * what the clinic pays. Compact (the till: the customer's side, then the clinic's fees incl.
 * VAT) or `detailed` (an invoice's dialog: both sides, the clinic's fees with their VAT). A
 * click chooses it when `onSelect` is given.
 */
export class AlmaOfferCard extends Component {
    static template = "payment_alma.AlmaOfferCard";
    static props = {
        offer: Object,
        selected: {type: Boolean, optional: true},
        onSelect: {type: Function, optional: true},
        detailed: {type: Boolean, optional: true},
        formatCurrency: Function,
    };

    formatDate(date) {
        return almaFormatDueDate(date);
    }
    annualRate(offer) {
        return almaAnnualRate(offer);
    }
}

/** The plans for an amount: the ones Alma takes as cards, the others with Alma's reason. */
export class AlmaOfferList extends Component {
    static template = "payment_alma.AlmaOfferList";
    static components = {AlmaOfferCard};
    static props = {
        offers: Array,
        selectedPlanId: {type: [Number, Boolean], optional: true},
        onSelect: {type: Function, optional: true},
        detailed: {type: Boolean, optional: true},
        formatCurrency: Function,
    };

    get eligibleOffers() {
        return this.props.offers.filter((offer) => offer.eligible);
    }
    get ineligibleOffers() {
        return this.props.offers.filter((offer) => !offer.eligible);
    }
}
