import {_t} from "@web/core/l10n/translation";
import {makeAwaitable} from "@point_of_sale/app/store/make_awaitable_dialog";
import {AlmaRefundDialog} from "@payment_alma/app/alma_refund_dialog/alma_refund_dialog";

/**
 * Refunds at the till: the refund order's Alma line (negative) refunds the sale's Alma payment.
 * The server checks everything and asks Alma once per refund line (the line's uuid is the key);
 * this side shows what the server holds of the line's refund.
 */
export class AlmaTillRefunds {
    /** @param {PaymentAlma} terminal the till's Alma terminal (calls, polling, dialogs) */
    constructor(terminal) {
        this.terminal = terminal;
    }

    /** The sale a refund order refunds (Odoo refunds one order at a time). */
    refundedOrderOf(order) {
        return order?.lines.find((line) => line.refunded_orderline_id)
            ?.refunded_orderline_id?.order_id;
    }

    /** What the server needs to check a refund line; it trusts none of it blindly. */
    refundValues(line) {
        const order = line.pos_order_id;
        return {
            pos_payment_uuid: line.uuid,
            pos_order_uuid: order.uuid,
            refunded_order_id: this.refundedOrderOf(order)?.id || false,
            amount: line.get_amount(),
            session_id: this.terminal.pos.session?.id || false,
        };
    }

    /** What Alma has left to refund of a sale, as the server last said (see the PaymentScreen
     * patch: no "Alma keeps collecting" warning once nothing is left). */
    rememberLeft(saleId, payment) {
        if (!this.terminal.pos.almaSaleLeft) {
            this.terminal.pos.almaSaleLeft = {};
        }
        if (saleId && payment && typeof payment.left === "number") {
            this.terminal.pos.almaSaleLeft[saleId] = payment.left;
        }
    }

    async ask(line) {
        const uuid = line.uuid;
        if (!this.refundedOrderOf(line.pos_order_id)) {
            this.terminal._showError(
                _t(
                    "Alma refunds only an order paid with Alma: open the sale in Orders, press Refund, then choose Alma to pay the refund."
                ),
                _t("Alma refund")
            );
            return false;
        }
        const values = this.refundValues(line);
        const preview = await this.terminal._callOrShow("alma_refund_preview", [
            values,
        ]);
        if (!preview) {
            return false;
        }
        this.rememberLeft(
            values.refunded_order_id,
            preview.payment || preview.refund?.payment
        );
        if (!preview.refund) {
            const confirmed = await makeAwaitable(
                this.terminal.env.services.dialog,
                AlmaRefundDialog,
                {
                    preview,
                }
            );
            if (!confirmed) {
                return false;
            }
        } else if (preview.refund.state === "done") {
            // Refunded before a reload or a retry: nothing is asked of Alma again.
            return this.apply(preview.refund);
        }
        const result = await this.terminal._callOrShow("alma_refund", [values]);
        if (!result) {
            return false;
        }
        if (result.refund) {
            line.almaRefund = result.refund;
            this.rememberLeft(values.refunded_order_id, result.refund.payment);
        }
        if (result.error) {
            this.terminal._showError(result.error, _t("Alma refund"));
        }
        if (result.refund?.state === "asked") {
            // Alma's answer was lost: the line waits while the server finds it again.
            const done = new Promise((resolve) => {
                this.terminal.resolvers[uuid] = resolve;
            });
            this.apply(result.refund);
            return done;
        }
        return result.refund ? this.apply(result.refund) : false;
    }

    /**
     * Apply an Alma refund dict (from alma_refund, a poll or a reload) to its refund line;
     * return whether it is refunded.
     */
    apply(refund) {
        const uuid = refund?.pos_payment_uuid;
        if (!uuid) {
            return false;
        }
        const line = this.terminal.findLine(uuid);
        if (!line) {
            this.terminal._stopPolling(uuid);
            return false;
        }
        line.almaRefund = refund;
        if (refund.state === "asked") {
            if (!line.is_done()) {
                // Waiting while the request is open; else Retry (which finds the same refund).
                const status = this.terminal.resolvers[uuid] ? "waitingCard" : "retry";
                if (line.get_payment_status() !== status) {
                    line.set_payment_status(status);
                }
                this.terminal._startPolling(uuid, "alma_get_refund_status");
            }
            return false;
        }
        this.terminal._stopPolling(uuid);
        if (refund.state === "done") {
            if (refund.receipt_text && line.ticket !== refund.receipt_text) {
                line.update({
                    ticket: refund.receipt_text,
                    transaction_id: refund.alma_refund_id || line.transaction_id,
                });
            }
            if (
                !this.terminal._resolve(uuid, true) &&
                line.get_payment_status() !== "done"
            ) {
                line.handle_payment_response(true);
            }
            return true;
        }
        if (!this.terminal._resolve(uuid, false) && !line.is_done()) {
            line.set_payment_status("retry");
        }
        return false;
    }

    /**
     * "Check again" on a refund whose answer was lost: the server looks for it at Alma (by its
     * reference) and asks again only what Alma never received.
     */
    async check(line) {
        const result = await this.terminal._callOrShow("alma_refund", [
            this.refundValues(line),
        ]);
        if (!result) {
            return false;
        }
        if (result.refund) {
            this.apply(result.refund);
        }
        if (result.error && result.refund?.state !== "asked") {
            this.terminal._showError(result.error, _t("Alma refund"));
        }
        return result.refund?.state === "done";
    }

    /** After a reload: the refund line shows what the server holds of its refund. */
    async reattach(line) {
        const uuid = line.uuid;
        if (this.terminal.isBusy(uuid)) {
            return;
        }
        const result = await this.terminal._call("alma_get_refund_status", [uuid], {
            silent: true,
        });
        if (!result || this.terminal.isBusy(uuid)) {
            return;
        }
        if (result.refund) {
            this.apply(result.refund);
        } else if (!line.is_done() && line.get_payment_status() !== "pending") {
            // Reloaded before anything was asked of Alma.
            line.set_payment_status("retry");
        }
    }
}
