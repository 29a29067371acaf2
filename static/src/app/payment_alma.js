import {markRaw} from "@odoo/owl";
import {_t} from "@web/core/l10n/translation";
import {PaymentInterface} from "@point_of_sale/app/payment/payment_interface";
import {register_payment_method} from "@point_of_sale/app/store/pos_store";
import {ask, makeAwaitable} from "@point_of_sale/app/store/make_awaitable_dialog";
import {AlertDialog} from "@web/core/confirmation_dialog/confirmation_dialog";
import {formatDate} from "@web/core/l10n/dates";
import {AlmaDialog} from "@payment_alma/app/alma_dialog/alma_dialog";
import {AlmaHereWindows} from "@payment_alma/app/alma_here_windows";
import {AlmaTillRefunds} from "@payment_alma/app/alma_till_refunds";
import {
    ALMA_FINAL_STATES,
    ALMA_POLL_DELAY,
    almaErrorMessage,
} from "@payment_alma/app/alma_utils";

const {DateTime} = luxon;

/**
 * Alma "pay later" at the counter.
 *
 * `send_payment_request` opens the Alma dialog (plan, contact, fees, send mode); once Alma
 * created the payment, the line waits (status `waitingCard`) until the payment is final. Final
 * states arrive by the bus (`ALMA_PAYMENT_STATUS`), or by polling `alma_get_status` every 3 s.
 * The payment line's uuid is the key of everything: a reload in the middle of the wait
 * re-attaches the line to its Alma payment (see the PaymentScreen patch).
 */
export class PaymentAlma extends PaymentInterface {
    setup() {
        super.setup(...arguments);
        // uuid -> resolve function of the promise returned by send_payment_request
        this.resolvers = {};
        // uuid -> promise of a send in progress (dialog open or waiting for the final state)
        this.requests = {};
        // uuid -> interval id of the status poll
        this.pollers = {};
        // uuid -> true while a poll request is in flight
        this.polling = {};
        this.refunds = new AlmaTillRefunds(this);
        // The windows showing Alma's page on this device ("Pay here"). Once the customer
        // closes one or comes back from Alma, the line's payment is asked at once.
        this.hereWindows = markRaw(
            new AlmaHereWindows({
                notification: this.env.services.notification,
                onClosed: (uuid) => {
                    if (this.getPayment(uuid)?.state === "waiting") {
                        this._poll(uuid);
                    }
                },
            })
        );
    }

    /** A refund order's Alma line (negative) refunds the sale's Alma payment. */
    isRefundLine(line) {
        return Boolean(line) && line.get_amount() < 0;
    }

    /**
     * The cashier can change the amount of the line before pressing Send.
     */
    get fast_payments() {
        return false;
    }

    send_payment_request(uuid) {
        super.send_payment_request(uuid);
        // Double send: one dialog, one payment per line at a time.
        if (!this.requests[uuid]) {
            this.requests[uuid] = this._almaPay(uuid).finally(() => {
                delete this.requests[uuid];
            });
        }
        return this.requests[uuid];
    }

    async send_payment_cancel(order, uuid) {
        super.send_payment_cancel(order, uuid);
        if (this.getRefund(uuid) || this.isRefundLine(this.findLine(uuid))) {
            // A refund asked of Alma cannot be cancelled: the line stops waiting, and Retry
            // finds the same refund again (never a second one).
            this._stopPolling(uuid);
            this._resolve(uuid, false);
            return true;
        }
        const payment = this.getPayment(uuid);
        if (!payment || payment.state !== "waiting") {
            this._resolve(uuid, false);
            return true;
        }
        return await this.almaCancel(uuid);
    }

    close() {
        // Leaving the payment screen does not stop a waiting Alma payment: the customer may
        // be paying on their phone. The line is re-attached when the screen opens again.
    }

    // -------------------------------------------------------------------------------------
    // Lines and payments
    // -------------------------------------------------------------------------------------

    findLine(uuid) {
        for (const order of this.pos.models["pos.order"].getAll()) {
            const line = order.payment_ids.find(
                (paymentLine) => paymentLine.uuid === uuid
            );
            if (line) {
                return line;
            }
        }
        return undefined;
    }

    /**
     * What the server last said of a line's Alma payment (or refund) lives on the payment line
     * itself (`almaPayment`, `almaRefund`): not saved with the order, read again after a reload.
     */
    getPayment(uuid) {
        return this.findLine(uuid)?.almaPayment;
    }

    getRefund(uuid) {
        return this.findLine(uuid)?.almaRefund;
    }

    isBusy(uuid) {
        return Boolean(this.requests[uuid]);
    }

    async _call(method, args = [], {silent = false} = {}) {
        const params = [[this.payment_method_id.id], ...args];
        if (silent) {
            return await this.pos.data.silentCall("pos.payment.method", method, params);
        }
        return await this.pos.data.call("pos.payment.method", method, params);
    }

    /**
     * Call the server; on failure show the reason and return false.
     */
    async _callOrShow(method, args = []) {
        try {
            return await this._call(method, args);
        } catch (error) {
            this._showError(almaErrorMessage(error));
            return false;
        }
    }

    async _almaPay(uuid) {
        const line = this.findLine(uuid);
        if (!line) {
            return false;
        }
        if (this.isRefundLine(line)) {
            return this.refunds.ask(line);
        }
        if (!(line.get_amount() > 0)) {
            this._showError(_t("Alma can only be used for a positive amount."));
            return false;
        }
        const payment = await makeAwaitable(this.env.services.dialog, AlmaDialog, {
            terminal: this,
            line,
        });
        if (!payment) {
            // Closed without sending (no eligible plan, Alma or Odoo unreachable, cashier's
            // choice): the line can be sent again or deleted.
            return false;
        }
        const done = new Promise((resolve) => {
            this.resolvers[uuid] = resolve;
        });
        this.handleStatus(payment, {fresh: true});
        return done;
    }

    _resolve(uuid, value) {
        const resolve = this.resolvers[uuid];
        if (resolve) {
            delete this.resolvers[uuid];
            resolve(value);
            return true;
        }
        return false;
    }

    /**
     * Apply an Alma payment dict (from alma_send, the bus, a poll, cancel or resend) to its
     * payment line.
     */
    handleStatus(payment, {fresh = false} = {}) {
        if (!payment || !payment.pos_payment_uuid) {
            return;
        }
        const uuid = payment.pos_payment_uuid;
        const line = this.findLine(uuid);
        if (!line) {
            this._stopPolling(uuid);
            return;
        }
        const known = line.almaPayment;
        if (!fresh && known && known.id && payment.id && payment.id < known.id) {
            // A late notification about an earlier Alma payment of the same line.
            return;
        }
        line.almaPayment = payment;
        if (!ALMA_FINAL_STATES.includes(payment.state)) {
            if (this.requests[uuid] && !this.resolvers[uuid]) {
                // The dialog is open for a new send: it decides.
                return;
            }
            if (!line.is_done()) {
                if (line.get_payment_status() !== "waitingCard") {
                    line.set_payment_status("waitingCard");
                }
                this._startPolling(uuid);
            }
            return;
        }
        this._stopPolling(uuid);
        // Paid, refused or cancelled: Alma's window has nothing more to show.
        this.closeHereWindow(uuid);
        if (payment.state === "accepted") {
            this._applyAccepted(line, payment);
            if (!this._resolve(uuid, true) && line.get_payment_status() !== "done") {
                line.handle_payment_response(true);
            }
            return;
        }
        if (this.requests[uuid] && !this.resolvers[uuid]) {
            return;
        }
        if (!this._resolve(uuid, false) && !line.is_done()) {
            if (line.get_payment_status() !== "retry") {
                line.set_payment_status("retry");
            }
        }
    }

    _applyAccepted(line, payment) {
        const ticket = this.receiptText(payment);
        const values = {};
        if (payment.alma_id && line.transaction_id !== payment.alma_id) {
            values.transaction_id = payment.alma_id;
        }
        if (ticket && line.ticket !== ticket) {
            values.ticket = ticket;
        }
        if (Object.keys(values).length) {
            line.update(values);
        }
    }

    /**
     * The receipt's Alma block, in the cashier's language and formats: the plan (named by the
     * server in the cashier's language) and its schedule, dates and amounts as the POS shows
     * them ("15/12/2026  133,00 €" in French).
     */
    receiptText(payment) {
        const lines = [payment.plan_name ? `Alma - ${payment.plan_name}` : "Alma"];
        for (const installment of payment.schedule || []) {
            const date = formatDate(DateTime.fromISO(installment.date));
            lines.push(`${date}  ${this.env.utils.formatCurrency(installment.amount)}`);
        }
        return lines.join("\n");
    }

    // -------------------------------------------------------------------------------------
    // "Pay here": Alma's page in a window over the till (see alma_here_windows.js)
    // -------------------------------------------------------------------------------------

    openHereWindow(uuid) {
        return this.hereWindows.open(uuid);
    }

    showHere(payment, popup = null) {
        return this.hereWindows.show(payment, popup);
    }

    closeHereWindow(uuid) {
        this.hereWindows.close(uuid);
    }

    // -------------------------------------------------------------------------------------
    // Polling and re-attaching
    // -------------------------------------------------------------------------------------

    /** Ask the server what it holds of the line's payment (or, for a refund line, refund). */
    _startPolling(uuid, method = "alma_get_status") {
        if (this.pollers[uuid]) {
            return;
        }
        this.pollers[uuid] = setInterval(
            () => this._poll(uuid, method),
            ALMA_POLL_DELAY
        );
    }

    _stopPolling(uuid) {
        if (this.pollers[uuid]) {
            clearInterval(this.pollers[uuid]);
            delete this.pollers[uuid];
        }
    }

    async _poll(uuid, method = "alma_get_status") {
        const line = this.findLine(uuid);
        if (!line || line.is_done()) {
            this._stopPolling(uuid);
            return;
        }
        if (this.polling[uuid]) {
            return;
        }
        this.polling[uuid] = true;
        try {
            const result = await this._call(method, [uuid], {silent: true});
            if (result?.payment) {
                this.handleStatus(result.payment);
            }
            if (result?.refund) {
                this.refunds.apply(result.refund);
            }
        } finally {
            delete this.polling[uuid];
        }
    }

    /**
     * Read the line's Alma payment from the server (after a notification on the bus).
     */
    async refreshStatus(uuid) {
        const result = await this._call("alma_get_status", [uuid], {silent: true});
        if (result && result.payment) {
            this.handleStatus(result.payment);
        }
    }

    /**
     * Re-attach a line to its Alma payment (after a reload, or when the payment screen opens
     * again): show the waiting UI or the final state.
     */
    async reattach(line) {
        const uuid = line.uuid;
        if (this.isRefundLine(line)) {
            return this.refunds.reattach(line);
        }
        if (this.isBusy(uuid)) {
            return;
        }
        const result = await this._call("alma_get_status", [uuid], {silent: true});
        if (!result || this.isBusy(uuid)) {
            // Odoo unreachable: the line keeps its state, the poll goes on if it was waiting.
            if (line.get_payment_status() === "waitingCard") {
                this._startPolling(uuid);
            }
            return;
        }
        if (result.payment) {
            this.handleStatus(result.payment);
        } else if (
            ["waiting", "waitingCard", "waitingCancel", "timeout"].includes(
                line.get_payment_status()
            )
        ) {
            // Reloaded while the dialog was open: nothing was sent.
            line.set_payment_status("retry");
        }
    }

    // -------------------------------------------------------------------------------------
    // Cashier's actions on a waiting line
    // -------------------------------------------------------------------------------------

    /**
     * Ask the cashier before cancelling a waiting payment at Alma (the customer's link stops
     * working); resolve to whether the cashier confirmed.
     */
    async confirmCancel(uuid) {
        const payment = this.getPayment(uuid);
        return await ask(this.env.services.dialog, {
            title: _t("Cancel the Alma payment?"),
            body: payment?.contact_name
                ? _t(
                      "The payment will be cancelled at Alma: %s will no longer be able to pay with this link.",
                      payment.contact_name
                  )
                : _t(
                      "The payment will be cancelled at Alma: the customer will no longer be able to pay with this link."
                  ),
            confirmLabel: _t("Cancel the payment"),
            cancelLabel: _t("Keep waiting"),
        });
    }

    async almaCancel(uuid) {
        const result = await this._callOrShow("alma_cancel", [uuid]);
        if (!result) {
            return false;
        }
        if (result.error) {
            this._showError(result.error);
            if (result.payment) {
                this.handleStatus(result.payment);
            }
            return false;
        }
        this.handleStatus(result.payment);
        return true;
    }

    async almaResend(uuid) {
        const result = await this._callOrShow("alma_resend", [uuid]);
        if (!result) {
            return false;
        }
        if (result.error) {
            this._showError(result.error);
            // The SMS may have failed (sms_error): show the link and its QR code instead.
            this._poll(uuid);
            return false;
        }
        this.handleStatus(result.payment);
        const payment = result.payment;
        if (payment?.send_mode === "here" && payment.url) {
            this.showHere(payment);
        }
        this.env.services.notification?.add(_t("The payment link was sent again."), {
            type: "success",
        });
        return true;
    }

    _showError(msg, title) {
        this.env.services.dialog.add(AlertDialog, {
            title: title || _t("Alma"),
            body: msg,
        });
    }
}

register_payment_method("alma", PaymentAlma);
