import {_t} from "@web/core/l10n/translation";
import {ConfirmationDialog} from "@web/core/confirmation_dialog/confirmation_dialog";
import {registry} from "@web/core/registry";
import {useService} from "@web/core/utils/hooks";
import {listView} from "@web/views/list/list_view";
import {ListRenderer} from "@web/views/list/list_renderer";
import {onMounted} from "@odoo/owl";

/**
 * "Frais Alma": double-click a line when Alma's transfer has arrived (a green tick shows at
 * its left); double-click again, and confirm, to undo. A single click changes nothing.
 */
export class AlmaFeeListRenderer extends ListRenderer {
    setup() {
        super.setup();
        this.orm = useService("orm");
        this.dialog = useService("dialog");
        this.notification = useService("notification");
        onMounted(() => {
            this.tableRef.el.addEventListener("dblclick", (ev) =>
                this.onRowDoubleClicked(ev)
            );
        });
    }

    onCellClicked() {
        // Not even the form: a double click starts with a click.
    }

    onRowDoubleClicked(ev) {
        const row = ev.target.closest(".o_data_row");
        const record =
            row && this.props.list.records.find((rec) => rec.id === row.dataset.id);
        if (!record) {
            return;
        }
        if (record.data.settled) {
            this.dialog.add(ConfirmationDialog, {
                title: _t("Transfer not received?"),
                body: _t(
                    "This line will be marked as not settled and its fee entry reversed."
                ),
                confirmLabel: _t("Mark as not settled"),
                confirm: () => this.toggleSettled(record),
                cancel: () => {},
            });
        } else {
            this.toggleSettled(record);
        }
    }

    async toggleSettled(record) {
        const action = await this.orm.call("alma.fee.line", "action_toggle_settled", [
            [record.resId],
        ]);
        // Say what was done: the tick alone is easy to miss.
        this.notification.add(action.params.message, {type: action.params.type});
        // Reload this line only: it stays in view, ticked, until the next search.
        await record.load();
    }
}

registry.category("views").add("alma_fee_list", {
    ...listView,
    Renderer: AlmaFeeListRenderer,
});
