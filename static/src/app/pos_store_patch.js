import {_t} from "@web/core/l10n/translation";
import {patch} from "@web/core/utils/patch";
import {PosStore} from "@point_of_sale/app/store/pos_store";
import {AlertDialog} from "@web/core/confirmation_dialog/confirmation_dialog";

patch(PosStore.prototype, {
    async setup() {
        await super.setup(...arguments);
        this.data.connectWebSocket("ALMA_PAYMENT_STATUS", (payload) =>
            this.onAlmaPaymentStatus(payload)
        );
    },

    /**
     * The server notifies every state change of an Alma payment (IPN, cron, cancel) with the
     * line's uuid and the state only: the bus channel is public, so the till reads the rest
     * through its own authenticated RPC.
     */
    onAlmaPaymentStatus(payload) {
        const uuid = payload?.pos_payment_uuid;
        const terminal = uuid && this.getAlmaTerminal(uuid);
        if (terminal && terminal.findLine(uuid)) {
            terminal.refreshStatus(uuid);
        }
    },

    getAlmaTerminal(uuid) {
        for (const order of this.models["pos.order"].getAll()) {
            const line = order.payment_ids.find(
                (paymentLine) => paymentLine.uuid === uuid
            );
            if (line) {
                return line.payment_method_id.use_payment_terminal === "alma"
                    ? line.payment_method_id.payment_terminal
                    : undefined;
            }
        }
        // Not (or no longer) in this POS: remember the state anyway.
        return this.models["pos.payment.method"].find(
            (pm) => pm.use_payment_terminal === "alma" && pm.payment_terminal
        )?.payment_terminal;
    },

    /**
     * Deleting an order must not leave its customer able to pay Alma for nothing: a waiting
     * Alma payment is cancelled first (the order stays when Alma refuses), and an order Alma
     * has already accepted is kept.
     */
    async _onBeforeDeleteOrder(order) {
        for (const line of order.finalized ? [] : order.payment_ids) {
            const terminal = line.payment_method_id.payment_terminal;
            if (line.payment_method_id.use_payment_terminal !== "alma" || !terminal) {
                continue;
            }
            const refund = terminal.getRefund(line.uuid);
            if (refund?.state === "done" || refund?.state === "asked") {
                this.dialog.add(AlertDialog, {
                    title: _t("Alma"),
                    body: _t(
                        "Alma has refunded the customer for this order (or may be refunding): validate it instead of deleting it."
                    ),
                });
                return false;
            }
            const payment = terminal.getPayment(line.uuid);
            if (line.get_payment_status() === "done" || payment?.state === "accepted") {
                this.dialog.add(AlertDialog, {
                    title: _t("Alma"),
                    body: _t(
                        "The customer has paid this order with Alma: validate it instead of deleting it."
                    ),
                });
                return false;
            }
            if (
                payment?.state === "waiting" &&
                !(await terminal.almaCancel(line.uuid))
            ) {
                return false;
            }
        }
        return await super._onBeforeDeleteOrder(...arguments);
    },
});
