import { patch } from "@web/core/utils/patch";
import { onMounted } from "@odoo/owl";
import { PaymentScreen } from "@point_of_sale/app/screens/payment_screen/payment_screen";

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
                (line.is_done() && terminal.getPayment(line.uuid))
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
                            if (cancelled && !line.is_done() && this.paymentLines.includes(line)) {
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
});
