import {onMounted, onWillUnmount} from "@odoo/owl";
import {registry} from "@web/core/registry";
import {useService} from "@web/core/utils/hooks";
import {BadgeField, badgeField} from "@web/views/fields/badge/badge_field";
import {ALMA_POLL_DELAY} from "@payment_alma/app/alma_utils";

/**
 * The state of an invoice's Alma payment in its dialog, as a badge that follows the payment,
 * as the till's pill does: while the link waits, the server asks Alma every few seconds
 * (`alma_poll`), and the dialog is read again when the state changed. An accepted payment has
 * the invoice paid at once (also after *Refresh*, whose request could not see it).
 */
export class AlmaPaymentStateField extends BadgeField {
    setup() {
        super.setup();
        this.orm = useService("orm");
        this.busy = false;
        onMounted(() => {
            this.timer = setInterval(() => this.poll(), ALMA_POLL_DELAY);
            if (this.state === "accepted") {
                this.poll(); // After *Refresh*: the invoice is paid now, not by the next cron.
            }
        });
        onWillUnmount(() => clearInterval(this.timer));
    }

    get state() {
        return this.props.record.data[this.props.name];
    }

    async poll() {
        const record = this.props.record;
        const state = this.state;
        if (this.busy || !record.resId || record.data.step !== "sent") {
            return;
        }
        if (state !== "waiting" && state !== "accepted") {
            clearInterval(this.timer);
            return;
        }
        this.busy = true;
        try {
            const now = await this.orm.silent.call(record.resModel, "alma_poll", [
                [record.resId],
            ]);
            if (state === "accepted") {
                clearInterval(this.timer); // The invoice is paid: nothing more to follow.
            } else if (now !== state) {
                await record.load();
            }
        } catch {
            // Offline for a moment, or the dialog closed meanwhile: the next poll tries again.
        } finally {
            this.busy = false;
        }
    }
}

export const almaPaymentStateField = {
    ...badgeField,
    component: AlmaPaymentStateField,
};

registry.category("fields").add("alma_payment_state", almaPaymentStateField);
