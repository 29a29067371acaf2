import {_t} from "@web/core/l10n/translation";

/**
 * "Pay here": Alma's page in a window over the till, one per payment line (keyed by its uuid).
 *
 * A window sized for Alma's page, over the till, that the till closes itself once the payment
 * is paid, refused or cancelled; not a tab the cashier would have to find and close.
 *
 * Keep an instance out of OWL's reactivity (`markRaw`): a window on Alma's page (another
 * origin) reads as a plain "Object" to OWL, which would wrap it in a Proxy, and
 * `proxy.close()` / `proxy.focus()` throw "Illegal invocation".
 */
export class AlmaHereWindows {
    /**
     * @param {Object} params
     * @param {Object} [params.notification] the notification service, to say a window was
     *   blocked
     * @param {Function} params.onClosed called with the line's uuid once its window is closed
     *   (by the customer, or by Alma's return page)
     */
    constructor({notification, onClosed}) {
        this.notification = notification;
        this.onClosed = onClosed;
        this.windows = new Map();
        this.watchers = {};
    }

    /**
     * Open the window of a payment line, empty, while the cashier's click still allows pop-ups
     * (Alma's address comes after the server's answer); null when the browser blocks it.
     */
    open(uuid) {
        const width = 480;
        const height = 760;
        const left = Math.round(
            window.screenX + Math.max(0, (window.outerWidth - width) / 2)
        );
        const top = Math.round(
            window.screenY + Math.max(0, (window.outerHeight - height) / 2)
        );
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
                    popup.document.body.textContent = _t(
                        "Opening Alma's payment page…"
                    );
                }
            }
        } catch {
            // Already on Alma's page (another origin): keep it.
        }
        return popup;
    }

    /**
     * Show Alma's page of `payment` in the line's window (`popup`, or a new one); the cashier
     * is told when the browser blocks it and can open it again from the payment line.
     */
    show(payment, popup = null) {
        const uuid = payment.pos_payment_uuid;
        const shown = this.windows.get(uuid);
        if (!popup && shown && !shown.closed) {
            // Still open behind the till: bring it back as it is (the customer may be typing).
            shown.focus();
            return true;
        }
        popup = popup || this.open(uuid);
        if (!popup) {
            this.notification?.add(
                _t(
                    "The browser blocked Alma's window: allow pop-ups for this till, or press \"Show Alma's page\" on the payment line."
                ),
                {type: "warning", sticky: true}
            );
            return false;
        }
        popup.location.href = payment.url;
        popup.focus();
        this.windows.set(uuid, popup);
        this._watch(uuid);
        return true;
    }

    /** Paid, refused or cancelled: Alma's window has nothing more to show. */
    close(uuid) {
        const popup = this.windows.get(uuid);
        this._forget(uuid);
        if (popup && !popup.closed) {
            popup.close();
        }
    }

    _watch(uuid) {
        if (this.watchers[uuid]) {
            return;
        }
        this.watchers[uuid] = setInterval(() => {
            const popup = this.windows.get(uuid);
            if (popup && !popup.closed) {
                return;
            }
            this._forget(uuid);
            this.onClosed(uuid);
        }, 500);
    }

    _forget(uuid) {
        clearInterval(this.watchers[uuid]);
        delete this.watchers[uuid];
        this.windows.delete(uuid);
    }
}
