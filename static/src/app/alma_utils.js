import {_t} from "@web/core/l10n/translation";
import {ConnectionLostError, RPCError} from "@web/core/network/rpc";
import {formatFloat} from "@web/core/utils/numbers";

const {DateTime} = luxon;

/** States of an Alma payment (server side) after which nothing changes any more. */
export const ALMA_FINAL_STATES = [
    "accepted",
    "refused",
    "expired",
    "cancelled",
    "error",
];
/** How often a waiting payment is polled, in case a bus notification is lost (ms). */
export const ALMA_POLL_DELAY = 3000;

export function almaConnectionErrorMessage() {
    return _t(
        "Could not reach the Odoo server, please check your internet connection and try again."
    );
}

/**
 * Turn an error thrown by `pos.data.call` into a message for the cashier.
 */
export function almaErrorMessage(error) {
    if (error instanceof RPCError) {
        return error.data?.message || error.message || almaConnectionErrorMessage();
    }
    if (error instanceof ConnectionLostError) {
        return almaConnectionErrorMessage();
    }
    return almaConnectionErrorMessage();
}

/**
 * A due date ('YYYY-MM-DD') for the cashier: "Today" or the date in the user's language
 * ("15 déc. 2026").
 */
export function almaFormatDueDate(isoDate) {
    const date = DateTime.fromISO(isoDate);
    if (!date.isValid) {
        return isoDate || "";
    }
    if (date.hasSame(DateTime.now(), "day")) {
        return _t("Today");
    }
    return almaFormatDate(isoDate);
}

/**
 * The annual rate Alma gives for a plan that costs the customer something (French consumer
 * credit law wants it shown), e.g. "12.00 %"; "" when Alma gives none.
 */
export function almaAnnualRate(offer) {
    const rate = offer?.annual_interest_rate;
    if (typeof rate !== "number" || !(rate > 0)) {
        return "";
    }
    // A no-break space before "%", as French writes it ("12,00 %").
    return `${formatFloat(rate, {digits: [false, 2]})}\u00a0%`;
}

/** A date ('YYYY-MM-DD') in the user's language ("4 déc. 2026"), never "Today": it follows
 * words such as "accepted on". */
export function almaFormatDate(isoDate) {
    const date = DateTime.fromISO(isoDate);
    return date.isValid ? date.toLocaleString(DateTime.DATE_MED) : isoDate || "";
}

/**
 * Seconds left before `expiresAt` ('YYYY-MM-DD HH:MM:SS', UTC), never below 0;
 * null when unknown.
 */
export function almaSecondsLeft(expiresAt, nowMillis = Date.now()) {
    if (!expiresAt) {
        return null;
    }
    let expiry = DateTime.fromSQL(expiresAt, {zone: "utc"});
    if (!expiry.isValid) {
        expiry = DateTime.fromISO(expiresAt, {zone: "utc"});
    }
    if (!expiry.isValid) {
        return null;
    }
    return Math.max(0, Math.floor((expiry.toMillis() - nowMillis) / 1000));
}

const pad = (n) => String(n).padStart(2, "0");

/**
 * "14:59" under an hour, "3 h 05 min" under a day, "2 d 03 h" beyond.
 */
export function almaFormatDuration(seconds) {
    if (seconds === null || seconds === undefined) {
        return "";
    }
    const days = Math.floor(seconds / 86400);
    const hours = Math.floor((seconds % 86400) / 3600);
    const minutes = Math.floor((seconds % 3600) / 60);
    const secs = seconds % 60;
    if (days > 0) {
        return _t("%(days)s d %(hours)s h", {days, hours: pad(hours)});
    }
    if (hours > 0) {
        return _t("%(hours)s h %(minutes)s min", {hours, minutes: pad(minutes)});
    }
    return `${pad(minutes)}:${pad(secs)}`;
}

export function almaQrCodeUrl(url) {
    return `/report/barcode/?barcode_type=QR&value=${encodeURIComponent(
        url
    )}&width=200&height=200`;
}

export function almaPillClass(state) {
    if (state === "accepted") {
        return "o_alma_pill_accepted";
    }
    if (ALMA_FINAL_STATES.includes(state)) {
        return "o_alma_pill_refused";
    }
    return "o_alma_pill_waiting";
}
