import {_t} from "@web/core/l10n/translation";
import {Component, onMounted, onWillUnmount, useState} from "@odoo/owl";
import {browser} from "@web/core/browser/browser";
import {
    almaFormatDueDate,
    almaFormatDuration,
    almaPillClass,
    almaQrCodeUrl,
    almaSecondsLeft,
} from "@payment_alma/app/alma_utils";

/**
 * What the cashier sees under an Alma payment line once the payment was sent: the status
 * pill (orange while waiting, green when accepted, red otherwise), the time left, Cancel and
 * Resend, and the link with its QR code when the customer pays from a link.
 */
export class AlmaPaymentStatus extends Component {
    static template = "payment_alma.AlmaPaymentStatus";
    static props = {
        line: Object,
    };

    setup() {
        this.state = useState({
            now: Date.now(),
            busy: false,
            copied: false,
            emailed: false,
        });
        let timer = null;
        onMounted(() => {
            timer = setInterval(() => {
                this.state.now = Date.now();
            }, 1000);
        });
        onWillUnmount(() => clearInterval(timer));
    }

    get line() {
        return this.props.line;
    }
    get terminal() {
        return this.line.payment_method_id.payment_terminal;
    }
    get payment() {
        return this.line.almaPayment;
    }
    get visible() {
        // While the dialog is open for a new send, the previous payment is not shown.
        return Boolean(this.payment) && this.line.get_payment_status() !== "waiting";
    }
    get isWaiting() {
        return this.payment?.state === "waiting";
    }
    get pillClass() {
        return almaPillClass(this.payment.state);
    }
    get pillText() {
        const payment = this.payment;
        const label = payment.state_label || payment.state;
        if (this.pillClass === "o_alma_pill_refused" && payment.state_reason) {
            // "Cancelled by Anne." says the state already: not "Cancelled — Cancelled by Anne."
            if (payment.state_reason.startsWith(label)) {
                return payment.state_reason;
            }
            return `${label} — ${payment.state_reason}`;
        }
        return label;
    }
    get secondsLeft() {
        return almaSecondsLeft(this.payment.expires_at, this.state.now);
    }
    get timeLeft() {
        return almaFormatDuration(this.secondsLeft);
    }
    get showLink() {
        const payment = this.payment;
        return (
            this.isWaiting &&
            Boolean(payment.url) &&
            (["link", "here"].includes(payment.send_mode) || Boolean(payment.sms_error))
        );
    }
    get showQr() {
        const payment = this.payment;
        return (
            this.showLink &&
            (payment.send_mode === "link" || Boolean(payment.sms_error))
        );
    }
    get qrSrc() {
        return almaQrCodeUrl(this.payment.url);
    }
    /** How the customer was reached; shown while the payment waits (nothing is paid yet). */
    get modeLabel() {
        return {
            sms: _t("Sent by SMS"),
            link: _t("Payment link"),
            here: _t("On this device"),
        }[this.payment.send_mode];
    }
    formatCurrency(amount) {
        return this.env.utils.formatCurrency(amount || 0);
    }
    formatDate(date) {
        return almaFormatDueDate(date);
    }

    /** One action at a time: a double click on Cancel or Resend sends one request. */
    async whileBusy(action) {
        if (this.state.busy) {
            return;
        }
        this.state.busy = true;
        try {
            await action();
        } finally {
            this.state.busy = false;
        }
    }

    /** Cancel at Alma once the cashier confirmed: the customer's link stops working. */
    onCancel() {
        return this.whileBusy(async () => {
            if (await this.terminal.confirmCancel(this.line.uuid)) {
                await this.terminal.almaCancel(this.line.uuid);
            }
        });
    }

    /** "Pay here": bring Alma's window back over the till, or open it again. */
    onShowHere() {
        this.terminal.showHere(this.payment);
    }

    onResend() {
        return this.whileBusy(() => this.terminal.almaResend(this.line.uuid));
    }

    onEmail() {
        return this.whileBusy(async () => {
            const result = await this.terminal._callOrShow("alma_send_email", [
                this.line.uuid,
            ]);
            if (result && result.error) {
                this.terminal._showError(result.error);
            } else if (result) {
                this.state.emailed = true;
            }
        });
    }

    async onCopy() {
        const url = this.payment.url;
        try {
            await browser.navigator.clipboard.writeText(url);
        } catch {
            // No clipboard (http, old browser): select the link so the cashier can copy it.
            const link = document.querySelector(
                `.o_alma_status[data-line-uuid="${this.line.uuid}"] a.o_alma_link`
            );
            if (link) {
                const range = document.createRange();
                range.selectNodeContents(link);
                const selection = window.getSelection();
                selection.removeAllRanges();
                selection.addRange(range);
            }
        }
        this.state.copied = true;
        setTimeout(() => {
            this.state.copied = false;
        }, 2000);
    }
}
