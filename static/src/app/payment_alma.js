import { markRaw } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { PaymentInterface } from "@point_of_sale/app/payment/payment_interface";
import { register_payment_method } from "@point_of_sale/app/store/pos_store";
import { ask, makeAwaitable } from "@point_of_sale/app/store/make_awaitable_dialog";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { formatDate } from "@web/core/l10n/dates";
import { AlmaDialog } from "@payment_alma/app/alma_dialog/alma_dialog";
import { AlmaRefundDialog } from "@payment_alma/app/alma_refund_dialog/alma_refund_dialog";
import {
    ALMA_FINAL_STATES,
    ALMA_POLL_DELAY,
    almaErrorMessage,
} from "@payment_alma/app/alma_utils";

const { DateTime } = luxon;

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
        // uuid -> the window showing Alma's page on this device ("Pay here"), and its watcher.
        // The terminal is reached through the POS models' reactive proxies: a window on
        // Alma's page (another origin) reads as a plain "Object" to OWL, which would wrap it
        // in a Proxy, and `proxy.close()` / `proxy.focus()` throw "Illegal invocation". The
        // windows are kept out of reactivity (the till shows nothing of them).
        this.windows = markRaw(new Map());
        this.windowWatchers = {};
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

    get almaPayments() {
        if (!this.pos.almaPayments) {
            this.pos.almaPayments = {};
        }
        return this.pos.almaPayments;
    }

    /** uuid of a refund line -> the Alma refund dict the server last gave for it. */
    get almaRefunds() {
        if (!this.pos.almaRefunds) {
            this.pos.almaRefunds = {};
        }
        return this.pos.almaRefunds;
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
        if (this.almaRefunds[uuid] || this.isRefundLine(this.findLine(uuid))) {
            // A refund asked of Alma cannot be cancelled: the line stops waiting, and Retry
            // finds the same refund again (never a second one).
            this._stopPolling(uuid);
            this._resolve(uuid, false);
            return true;
        }
        const payment = this.almaPayments[uuid];
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
            const line = order.payment_ids.find((paymentLine) => paymentLine.uuid === uuid);
            if (line) {
                return line;
            }
        }
        return undefined;
    }

    getPayment(uuid) {
        return this.almaPayments[uuid];
    }

    getRefund(uuid) {
        return this.almaRefunds[uuid];
    }

    isBusy(uuid) {
        return Boolean(this.requests[uuid]);
    }

    async _call(method, args = [], { silent = false } = {}) {
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
            return this._almaRefund(line);
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
        this.handleStatus(payment, { fresh: true });
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
    handleStatus(payment, { fresh = false } = {}) {
        if (!payment || !payment.pos_payment_uuid) {
            return;
        }
        const uuid = payment.pos_payment_uuid;
        const known = this.almaPayments[uuid];
        if (!fresh && known && known.id && payment.id && payment.id < known.id) {
            // A late notification about an earlier Alma payment of the same line.
            return;
        }
        this.almaPayments[uuid] = payment;
        const line = this.findLine(uuid);
        if (!line) {
            this._stopPolling(uuid);
            return;
        }
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
    // "Pay here": Alma's page in a window over the till
    // -------------------------------------------------------------------------------------

    /**
     * Open the window of a "Pay here" payment, empty, while the cashier's click still allows
     * pop-ups (Alma's address comes after the server's answer): a window sized for Alma's page,
     * over the till, that the till closes itself once the payment is paid, refused or
     * cancelled; not a tab the cashier would have to find and close.
     */
    openHereWindow(uuid) {
        const width = 480;
        const height = 760;
        const left = Math.round(window.screenX + Math.max(0, (window.outerWidth - width) / 2));
        const top = Math.round(window.screenY + Math.max(0, (window.outerHeight - height) / 2));
        const popup = window.open(
            "",
            `alma_pay_here_${uuid}`,
            `popup=yes,width=${width},height=${height},left=${left},top=${top}`
        );
        if (!popup) {
            return null;
        }
        try {
            if (!popup.location.href || popup.location.href === "about:blank") {
                popup.document.title = "Alma";
                if (popup.document.body) {
                    popup.document.body.textContent = _t("Opening Alma's payment page…");
                }
            }
        } catch {
            // Already on Alma's page (another origin): keep it.
        }
        return popup;
    }

    /**
     * Show Alma's page of `payment` in the till's window (`popup`, or a new one); the cashier
     * is told when the browser blocks it and can open it again from the payment line.
     */
    showHere(payment, popup = null) {
        const uuid = payment.pos_payment_uuid;
        const shown = this.windows.get(uuid);
        if (!popup && shown && !shown.closed) {
            // Still open behind the till: bring it back as it is (the customer may be typing).
            shown.focus();
            return true;
        }
        popup = popup || this.openHereWindow(uuid);
        if (!popup) {
            this.env.services.notification?.add(
                _t(
                    "The browser blocked Alma's window: allow pop-ups for this till, or press \"Show Alma's page\" on the payment line."
                ),
                { type: "warning", sticky: true }
            );
            return false;
        }
        popup.location.href = payment.url;
        popup.focus();
        this.windows.set(uuid, popup);
        this._watchHereWindow(uuid);
        return true;
    }

    /** The customer closed the window or came back from Alma: ask for the state at once. */
    _watchHereWindow(uuid) {
        if (this.windowWatchers[uuid]) {
            return;
        }
        this.windowWatchers[uuid] = setInterval(() => {
            const popup = this.windows.get(uuid);
            if (popup && !popup.closed) {
                return;
            }
            this._forgetHereWindow(uuid);
            if (this.getPayment(uuid)?.state === "waiting") {
                this._poll(uuid);
            }
        }, 500);
    }

    _forgetHereWindow(uuid) {
        clearInterval(this.windowWatchers[uuid]);
        delete this.windowWatchers[uuid];
        this.windows.delete(uuid);
    }

    closeHereWindow(uuid) {
        const popup = this.windows.get(uuid);
        this._forgetHereWindow(uuid);
        if (popup && !popup.closed) {
            popup.close();
        }
    }

    // -------------------------------------------------------------------------------------
    // Polling and re-attaching
    // -------------------------------------------------------------------------------------

    /** Ask the server what it holds of the line's payment (or, for a refund line, refund). */
    _startPolling(uuid, method = "alma_get_status") {
        if (this.pollers[uuid]) {
            return;
        }
        this.pollers[uuid] = setInterval(() => this._poll(uuid, method), ALMA_POLL_DELAY);
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
            const result = await this._call(method, [uuid], { silent: true });
            if (result?.payment) {
                this.handleStatus(result.payment);
            }
            if (result?.refund) {
                this.handleRefund(result.refund);
            }
        } finally {
            delete this.polling[uuid];
        }
    }

    /**
     * Read the line's Alma payment from the server (after a notification on the bus).
     */
    async refreshStatus(uuid) {
        const result = await this._call("alma_get_status", [uuid], { silent: true });
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
            return this.reattachRefund(line);
        }
        if (this.isBusy(uuid)) {
            return;
        }
        const result = await this._call("alma_get_status", [uuid], { silent: true });
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
    // Refunds: the refund order's Alma line refunds the sale's Alma payment
    // -------------------------------------------------------------------------------------

    /** The sale a refund order refunds (Odoo refunds one order at a time). */
    refundedOrderOf(order) {
        return order?.lines.find((line) => line.refunded_orderline_id)?.refunded_orderline_id
            ?.order_id;
    }

    /** What the server needs to check a refund line; it trusts none of it blindly. */
    refundValues(line) {
        const order = line.pos_order_id;
        return {
            pos_payment_uuid: line.uuid,
            pos_order_uuid: order.uuid,
            refunded_order_id: this.refundedOrderOf(order)?.id || false,
            amount: line.get_amount(),
            session_id: this.pos.session?.id || false,
        };
    }

    /** What Alma has left to refund of a sale, as the server last said (see the PaymentScreen
     * patch: no "Alma keeps collecting" warning once nothing is left). */
    rememberLeft(saleId, payment) {
        if (!this.pos.almaSaleLeft) {
            this.pos.almaSaleLeft = {};
        }
        if (saleId && payment && typeof payment.left === "number") {
            this.pos.almaSaleLeft[saleId] = payment.left;
        }
    }

    async _almaRefund(line) {
        const uuid = line.uuid;
        if (!this.refundedOrderOf(line.pos_order_id)) {
            this._showError(
                _t(
                    "Alma refunds only an order paid with Alma: open the sale in Orders, press Refund, then choose Alma to pay the refund."
                ),
                _t("Alma refund")
            );
            return false;
        }
        const values = this.refundValues(line);
        const preview = await this._callOrShow("alma_refund_preview", [values]);
        if (!preview) {
            return false;
        }
        this.rememberLeft(values.refunded_order_id, preview.payment || preview.refund?.payment);
        if (!preview.refund) {
            const confirmed = await makeAwaitable(this.env.services.dialog, AlmaRefundDialog, {
                preview,
            });
            if (!confirmed) {
                return false;
            }
        } else if (preview.refund.state === "done") {
            // Refunded before a reload or a retry: nothing is asked of Alma again.
            return this.handleRefund(preview.refund);
        }
        const result = await this._callOrShow("alma_refund", [values]);
        if (!result) {
            return false;
        }
        if (result.refund) {
            this.almaRefunds[uuid] = result.refund;
            this.rememberLeft(values.refunded_order_id, result.refund.payment);
        }
        if (result.error) {
            this._showError(result.error, _t("Alma refund"));
        }
        if (result.refund?.state === "asked") {
            // Alma's answer was lost: the line waits while the server finds it again.
            const done = new Promise((resolve) => {
                this.resolvers[uuid] = resolve;
            });
            this.handleRefund(result.refund);
            return done;
        }
        return result.refund ? this.handleRefund(result.refund) : false;
    }

    /**
     * Apply an Alma refund dict (from alma_refund, a poll or a reload) to its refund line;
     * return whether it is refunded.
     */
    handleRefund(refund) {
        const uuid = refund?.pos_payment_uuid;
        if (!uuid) {
            return false;
        }
        this.almaRefunds[uuid] = refund;
        const line = this.findLine(uuid);
        if (!line) {
            this._stopPolling(uuid);
            return false;
        }
        if (refund.state === "asked") {
            if (!line.is_done()) {
                // Waiting while the request is open; else Retry (which finds the same refund).
                const status = this.resolvers[uuid] ? "waitingCard" : "retry";
                if (line.get_payment_status() !== status) {
                    line.set_payment_status(status);
                }
                this._startPolling(uuid, "alma_get_refund_status");
            }
            return false;
        }
        this._stopPolling(uuid);
        if (refund.state === "done") {
            if (refund.receipt_text && line.ticket !== refund.receipt_text) {
                line.update({
                    ticket: refund.receipt_text,
                    transaction_id: refund.alma_refund_id || line.transaction_id,
                });
            }
            if (!this._resolve(uuid, true) && line.get_payment_status() !== "done") {
                line.handle_payment_response(true);
            }
            return true;
        }
        if (!this._resolve(uuid, false) && !line.is_done()) {
            line.set_payment_status("retry");
        }
        return false;
    }

    /**
     * "Check again" on a refund whose answer was lost: the server looks for it at Alma (by its
     * reference) and asks again only what Alma never received.
     */
    async almaRefundCheck(line) {
        const result = await this._callOrShow("alma_refund", [this.refundValues(line)]);
        if (!result) {
            return false;
        }
        if (result.refund) {
            this.handleRefund(result.refund);
        }
        if (result.error && result.refund?.state !== "asked") {
            this._showError(result.error, _t("Alma refund"));
        }
        return result.refund?.state === "done";
    }

    /** After a reload: the refund line shows what the server holds of its refund. */
    async reattachRefund(line) {
        const uuid = line.uuid;
        if (this.isBusy(uuid)) {
            return;
        }
        const result = await this._call("alma_get_refund_status", [uuid], { silent: true });
        if (!result || this.isBusy(uuid)) {
            return;
        }
        if (result.refund) {
            this.handleRefund(result.refund);
        } else if (!line.is_done() && line.get_payment_status() !== "pending") {
            // Reloaded before anything was asked of Alma.
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
