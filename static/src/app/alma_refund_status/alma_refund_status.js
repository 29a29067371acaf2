import {_t} from "@web/core/l10n/translation";
import {Component, useState} from "@odoo/owl";

/**
 * What the cashier sees under a refund order's Alma line once the refund was asked: the pill
 * (green refunded, orange while Alma's answer is looked for, red refused), the sale's Alma
 * payment and what is refunded of it in all.
 */
export class AlmaRefundStatus extends Component {
    static template = "payment_alma.AlmaRefundStatus";
    static props = {
        line: Object,
    };

    setup() {
        this.state = useState({busy: false});
    }

    get line() {
        return this.props.line;
    }
    get terminal() {
        return this.line.payment_method_id.payment_terminal;
    }
    get refund() {
        return this.line.almaRefund;
    }
    get visible() {
        return Boolean(this.refund) && this.line.get_payment_status() !== "waiting";
    }
    get pillClass() {
        return (
            {
                done: "o_alma_pill_accepted",
                asked: "o_alma_pill_waiting",
            }[this.refund.state] || "o_alma_pill_refused"
        );
    }
    get pillText() {
        const refund = this.refund;
        if (refund.state === "done") {
            return _t("Refunded through Alma");
        }
        if (refund.state === "asked") {
            return _t("Asked of Alma: waiting for its confirmation");
        }
        return refund.error
            ? `${refund.state_label} — ${refund.error}`
            : refund.state_label || refund.state;
    }
    /** The sale's Alma payment, its plan, and what Alma refunded of it in all. */
    get summary() {
        const payment = this.refund.payment;
        return [
            payment.alma_id,
            payment.plan_name,
            _t("%(refunded)s refunded of %(paid)s", {
                refunded: this.formatCurrency(payment.refunded),
                paid: this.formatCurrency(payment.purchase_amount),
            }),
        ]
            .filter(Boolean)
            .join(" · ");
    }
    formatCurrency(amount) {
        return this.env.utils.formatCurrency(amount || 0);
    }

    /** Ask again: the server looks for the refund at Alma first, never refunds twice. */
    async onCheckAgain() {
        if (this.state.busy) {
            return;
        }
        this.state.busy = true;
        try {
            await this.terminal.refunds.check(this.line);
        } finally {
            this.state.busy = false;
        }
    }

    /** The line stops waiting (the refund stays asked at Alma, found again by Retry). */
    onStopWaiting() {
        return this.terminal.send_payment_cancel(
            this.line.pos_order_id,
            this.line.uuid
        );
    }
}
