import {_t} from "@web/core/l10n/translation";
import {patch} from "@web/core/utils/patch";
import {onMounted} from "@odoo/owl";
import {ConfirmationDialog} from "@web/core/confirmation_dialog/confirmation_dialog";
import {PaymentScreen} from "@point_of_sale/app/screens/payment_screen/payment_screen";

patch(PaymentScreen.prototype, {
    setup() {
        super.setup(...arguments);
        onMounted(() => this.almaReattachLines());
    },

    /**
     * The payment line's uuid is the key: after a reload (or when coming back to this
     * screen), every Alma line not done asks the server for its Alma payment and shows the
     * waiting UI or the final state again.
     */
    almaReattachLines() {
        for (const line of this.paymentLines) {
            const terminal = line.payment_method_id.payment_terminal;
            if (
                line.payment_method_id.use_payment_terminal !== "alma" ||
                !terminal ||
                line.get_payment_status() === "pending" || // never sent
                (line.is_done() &&
                    (terminal.getPayment(line.uuid) || terminal.getRefund(line.uuid)))
            ) {
                continue;
            }
            terminal.reattach(line);
        }
    },

    /**
     * Deleting a line whose Alma payment still waits cancels that payment first, once the
     * cashier confirmed, and keeps the line when Alma refuses (e.g. the customer has just paid).
     */
    deletePaymentLine(uuid) {
        const line = this.paymentLines.find((line) => line.uuid === uuid);
        const terminal = line?.payment_method_id.payment_terminal;
        if (line?.payment_method_id.use_payment_terminal === "alma" && terminal) {
            const payment = terminal.getPayment(uuid);
            if (payment?.state === "waiting") {
                terminal
                    .confirmCancel(uuid)
                    .then((confirmed) => confirmed && terminal.almaCancel(uuid))
                    .then((cancelled) => {
                        // After the pending send_payment_request has settled on this line.
                        setTimeout(() => {
                            if (
                                cancelled &&
                                !line.is_done() &&
                                this.paymentLines.includes(line)
                            ) {
                                this.currentOrder.remove_paymentline(line);
                                this.numberBuffer.reset();
                            }
                        });
                    });
                return;
            }
        }
        return super.deletePaymentLine(...arguments);
    },

    /**
     * Refunding an Alma sale with another method (cash, card) does not stop Alma: the customer
     * keeps paying the installments. The cashier is told so and offered the Alma refund.
     */
    async addNewPaymentLine(paymentMethod) {
        const sale = this.almaSaleRefundedWith(paymentMethod);
        if (sale) {
            const choice = await this.askAlmaRefundInstead(
                paymentMethod,
                sale.almaMethod,
                sale
            );
            if (!choice) {
                return false;
            }
            if (choice === "alma") {
                return await super.addNewPaymentLine(sale.almaMethod);
            }
        }
        return await super.addNewPaymentLine(...arguments);
    },

    /** The sale this refund order refunds, when it was paid with an Alma method of this
     * till and the refund is not going through Alma already. */
    almaSaleRefundedWith(paymentMethod) {
        const order = this.currentOrder;
        if (
            !order ||
            paymentMethod.use_payment_terminal === "alma" ||
            !(order.get_due() < 0)
        ) {
            return null;
        }
        const sale = order.lines.find((line) => line.refunded_orderline_id)
            ?.refunded_orderline_id?.order_id;
        const almaLine = sale?.payment_ids?.find(
            (line) =>
                line.payment_method_id?.use_payment_terminal === "alma" &&
                line.amount > 0
        );
        if (
            !almaLine ||
            !this.payment_methods_from_config.includes(almaLine.payment_method_id) ||
            this.pos.almaSaleLeft?.[sale.id] === 0 ||
            order.payment_ids.some(
                (line) => line.payment_method_id.use_payment_terminal === "alma"
            )
        ) {
            return null;
        }
        // The ticket the customer holds ("Commande 00001-001-0001"), not the till's sequence.
        return {
            name: sale.pos_reference || sale.name,
            almaMethod: almaLine.payment_method_id,
        };
    },

    askAlmaRefundInstead(paymentMethod, almaMethod, sale) {
        return new Promise((resolve) => {
            this.dialog.add(
                ConfirmationDialog,
                {
                    title: _t("Alma keeps collecting"),
                    body: _t(
                        "%(order)s was paid with Alma in installments. A refund in %(method)s does not stop Alma: the customer keeps paying the installments. Refund through Alma instead?",
                        {order: sale.name, method: paymentMethod.name}
                    ),
                    confirmLabel: _t("Refund through Alma"),
                    confirm: () => resolve("alma"),
                    cancelLabel: _t("Refund in %s anyway", paymentMethod.name),
                    cancel: () => resolve("other"),
                    dismiss: () => resolve(null),
                },
                {onClose: () => resolve(null)}
            );
        });
    },
});
