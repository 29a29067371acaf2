import {_t} from "@web/core/l10n/translation";
import {Component} from "@odoo/owl";
import {Dialog} from "@web/core/dialog/dialog";
import {almaFormatDate} from "@payment_alma/app/alma_utils";

/**
 * Before a refund through Alma: the sale's Alma payment (plan, contact, amount), what is
 * already refunded and left, and what this line refunds now. Resolves (getPayload) with true
 * when the cashier confirms; a refund beyond what is left cannot be confirmed.
 */
export class AlmaRefundDialog extends Component {
    static template = "payment_alma.AlmaRefundDialog";
    static components = {Dialog};
    static props = {
        preview: Object,
        getPayload: Function,
        close: Function,
    };

    get preview() {
        return this.props.preview;
    }
    get payment() {
        return this.props.preview.payment;
    }
    get showsAlmaAmount() {
        return this.preview.alma_amount !== this.preview.amount;
    }
    /** The customer's contact, and the day Alma accepted the payment. */
    get subtitle() {
        const parts = [];
        if (this.payment.contact_name) {
            parts.push(this.payment.contact_name);
        }
        if (this.payment.accepted_date) {
            parts.push(
                _t("accepted on %s", this.formatDate(this.payment.accepted_date))
            );
        }
        return parts.join(" · ");
    }
    get confirmLabel() {
        return _t("Refund %s through Alma", this.formatCurrency(this.preview.amount));
    }
    formatCurrency(amount) {
        return this.env.utils.formatCurrency(amount || 0);
    }
    formatDate(datetime) {
        return datetime ? almaFormatDate(datetime.slice(0, 10)) : "";
    }
    confirm() {
        if (this.preview.problem) {
            return;
        }
        this.props.getPayload(true);
        this.props.close();
    }
    cancel() {
        this.props.close();
    }
}
