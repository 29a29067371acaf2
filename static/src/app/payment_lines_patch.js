import {patch} from "@web/core/utils/patch";
import {PaymentScreenPaymentLines} from "@point_of_sale/app/screens/payment_screen/payment_lines/payment_lines";
import {AlmaPaymentStatus} from "@payment_alma/app/alma_payment_status/alma_payment_status";
import {AlmaRefundStatus} from "@payment_alma/app/alma_refund_status/alma_refund_status";

PaymentScreenPaymentLines.components = {
    ...(PaymentScreenPaymentLines.components || {}),
    AlmaPaymentStatus,
    AlmaRefundStatus,
};

patch(PaymentScreenPaymentLines.prototype, {
    isAlmaLine(line) {
        return line.payment_method_id?.use_payment_terminal === "alma";
    },
    /**
     * Alma lines waiting for the customer show their own block (pill, link, Cancel, Resend)
     * instead of the terminal's "Waiting for card".
     */
    showTerminalStatus(line) {
        return !(this.isAlmaLine(line) && line.payment_status === "waitingCard");
    },
});
