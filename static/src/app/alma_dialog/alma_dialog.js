import {_t} from "@web/core/l10n/translation";
import {Component, onMounted, onWillDestroy, useState} from "@odoo/owl";
import {Dialog} from "@web/core/dialog/dialog";
import {usePos} from "@point_of_sale/app/store/pos_hook";
import {almaErrorMessage} from "@payment_alma/app/alma_utils";
import {
    AlmaOfferCard,
    AlmaOfferList,
} from "@payment_alma/shared/alma_offer_card/alma_offer_card";

export const ALMA_CONTACT_FIELDS = [
    "first_name",
    "last_name",
    "mobile",
    "email",
    "street",
    "zip",
    "city",
    "country_id",
];

/**
 * The cashier's Alma dialog: plan, customer's contact, fee split, send mode.
 *
 * Resolves (getPayload) with the Alma payment dict once `alma_send` succeeded; closing it
 * otherwise leaves the payment line to be sent again.
 */
export class AlmaDialog extends Component {
    static template = "payment_alma.AlmaDialog";
    static components = {Dialog, AlmaOfferList, AlmaOfferCard};
    static props = {
        terminal: Object,
        line: Object,
        getPayload: Function,
        close: Function,
    };

    setup() {
        this.pos = usePos();
        this.state = useState({
            step: "loading", // loading | error | none | plans | contact | fees | mode
            loadError: "",
            offers: [],
            offeredOffers: null, // the same plans when the clinic takes the customer's fee
            contacts: [],
            countries: [],
            defaultCountryId: false,
            planId: false,
            contactId: false,
            form: null, // contact being added or completed
            formErrors: {},
            feesOffered: false,
            feesError: "",
            busy: false,
            sendError: "",
        });
        this.closed = false;
        this.destroyed = false;
        onMounted(() => this.loadOffers());
        onWillDestroy(() => {
            this.closed = true;
            this.destroyed = true;
        });
    }

    // -------------------------------------------------------------------------------------
    // Helpers
    // -------------------------------------------------------------------------------------

    get line() {
        return this.props.line;
    }
    get order() {
        return this.props.line.pos_order_id;
    }
    get amount() {
        return this.props.line.get_amount();
    }
    get partnerId() {
        return this.order?.get_partner?.()?.id || false;
    }
    get steps() {
        return [
            {name: "plans", label: _t("Installment plan")},
            {name: "contact", label: _t("Customer")},
            {name: "fees", label: _t("Fees")},
            {name: "mode", label: _t("Send")},
        ];
    }
    stepIndex(name) {
        return this.steps.findIndex((step) => step.name === name);
    }
    formatCurrency(amount) {
        return this.env.utils.formatCurrency(amount || 0);
    }
    async rpc(method, args) {
        try {
            return await this.pos.data.call("pos.payment.method", method, [
                [this.props.terminal.payment_method_id.id],
                ...args,
            ]);
        } catch (error) {
            return {error: almaErrorMessage(error), failed: true};
        }
    }

    /** Whose details the form must not take: the business's, by its name. */
    get ownDetailsHint() {
        const company = this.pos.company?.name;
        return company
            ? _t("The customer's own details, never those of %s.", company)
            : _t("The customer's own details, never those of your business.");
    }
    get noPlanMessage() {
        return _t("Alma offers no plan for %s.", this.formatCurrency(this.amount));
    }
    get eligibleOffers() {
        return this.state.offers.filter((offer) => offer.eligible);
    }
    get selectedOffer() {
        return this.state.offers.find((offer) => offer.plan_id === this.state.planId);
    }
    /** The offer as it will be sent: the "fees offered" variant when ticked. */
    get finalOffer() {
        const offer = this.selectedOffer;
        if (!offer || !this.state.feesOffered) {
            return offer;
        }
        return (
            (this.state.offeredOffers || []).find((o) => o.plan_id === offer.plan_id) ||
            offer
        );
    }
    get canOfferFees() {
        return Boolean(
            this.selectedOffer && this.selectedOffer.customer_total_cost > 0
        );
    }
    get selectedContact() {
        return this.state.contacts.find(
            (contact) => contact.id === this.state.contactId
        );
    }
    countryName(countryId) {
        return (
            this.state.countries.find((country) => country.id === countryId)?.name || ""
        );
    }
    contactAddress(contact) {
        const city = [contact.zip, contact.city].filter(Boolean).join(" ");
        // The country by its name, as the cashier reads it ("France", not "FR").
        const country = this.countryName(contact.country_id) || contact.country_code;
        return [contact.street, city, country].filter(Boolean).join(", ");
    }
    /** The contact's mobile as people read it ("06 12 34 56 78"); stored in E.164. */
    contactMobile(contact) {
        return contact?.mobile_display || contact?.mobile || "";
    }
    contactLabel(contact) {
        const label = [contact.name, this.contactMobile(contact)]
            .filter(Boolean)
            .join(" — ");
        return contact.is_complete ? label : _t("%s (incomplete)", label);
    }

    // -------------------------------------------------------------------------------------
    // Step 1: plans
    // -------------------------------------------------------------------------------------

    async loadOffers() {
        this.state.step = "loading";
        this.state.loadError = "";
        const result = await this.rpc("alma_get_offers", [
            this.amount,
            this.partnerId,
            false,
        ]);
        if (this.closed) {
            return;
        }
        if (!result || result.error) {
            this.state.loadError = result?.error || _t("Alma could not be reached.");
            this.state.step = "error";
            return;
        }
        this.state.offers = result.offers || [];
        this.state.offeredOffers = null;
        this.state.contacts = result.contacts || [];
        // The till's own countries (the POS loads them all), for the address form.
        this.state.countries = this.pos.models["res.country"]
            .getAll()
            .map(({id, name, code}) => ({id, name, code}))
            .sort((a, b) => a.name.localeCompare(b.name));
        this.state.defaultCountryId = result.default_country_id || false;
        this.state.contactId =
            result.default_contact_id || this.state.contacts[0]?.id || false;
        const eligible = this.eligibleOffers;
        if (!eligible.length) {
            this.state.step = "none";
            return;
        }
        if (!eligible.some((offer) => offer.plan_id === this.state.planId)) {
            this.state.planId = eligible.length === 1 ? eligible[0].plan_id : false;
        }
        this.state.step = "plans";
    }

    selectPlan(offer) {
        if (!offer.eligible) {
            return;
        }
        this.state.planId = offer.plan_id;
        this.state.feesOffered = false;
        this.state.feesError = "";
    }

    // -------------------------------------------------------------------------------------
    // Step 2: contact
    // -------------------------------------------------------------------------------------

    enterContactStep() {
        this.state.step = "contact";
        if (!this.state.contacts.length) {
            this.addContact();
        } else if (this.selectedContact && !this.selectedContact.is_complete) {
            this.editContact();
        }
    }

    onContactChange(ev) {
        this.state.contactId = parseInt(ev.target.value) || false;
        this.state.form = null;
        this.state.formErrors = {};
        if (this.selectedContact && !this.selectedContact.is_complete) {
            this.editContact();
        }
    }

    defaultCountryId() {
        if (this.state.defaultCountryId) {
            return this.state.defaultCountryId;
        }
        const companyCountry = this.pos.company?.country_id;
        const byCompany =
            companyCountry &&
            this.state.countries.find((c) => c.id === companyCountry.id);
        const france = this.state.countries.find((c) => c.code === "FR");
        return (byCompany || france || this.state.countries[0])?.id || false;
    }

    addContact() {
        // Blank: the customer itself is always among the contacts the server sent (with its
        // name split by the server's one rule), so a new contact is someone else.
        this.state.form = {
            first_name: "",
            last_name: "",
            mobile: "",
            email: "",
            street: "",
            zip: "",
            city: "",
            country_id: String(this.defaultCountryId() || ""),
        };
        this.state.formErrors = {};
    }

    editContact() {
        const contact = this.selectedContact;
        if (!contact) {
            return this.addContact();
        }
        this.state.form = {
            id: contact.id,
            first_name: contact.first_name || "",
            last_name: contact.last_name || "",
            mobile: this.contactMobile(contact),
            email: contact.email || "",
            street: contact.street || "",
            zip: contact.zip || "",
            city: contact.city || "",
            country_id: String(contact.country_id || this.defaultCountryId() || ""),
        };
        this.state.formErrors = {};
    }

    cancelForm() {
        this.state.form = null;
        this.state.formErrors = {};
    }

    async saveContact() {
        if (this.state.busy || !this.state.form) {
            return;
        }
        const values = {};
        for (const field of ALMA_CONTACT_FIELDS) {
            const value = this.state.form[field];
            values[field] = typeof value === "string" ? value.trim() : value;
        }
        values.country_id = parseInt(values.country_id) || false;
        if (this.state.form.id) {
            values.id = this.state.form.id;
        }
        this.state.busy = true;
        try {
            const result = await this.rpc("alma_save_contact", [
                this.partnerId,
                values,
                this.pos.session?.id || false,
            ]);
            if (this.closed) {
                return;
            }
            if (!result || result.failed) {
                this.state.formErrors = {_general: result?.error || ""};
                return;
            }
            if (result.errors) {
                this.state.formErrors = result.errors;
                return;
            }
            if (result.error) {
                this.state.formErrors = {_general: result.error};
                return;
            }
            const contact = result.contact;
            const index = this.state.contacts.findIndex((c) => c.id === contact.id);
            if (index >= 0) {
                this.state.contacts.splice(index, 1, contact);
            } else {
                this.state.contacts.push(contact);
            }
            this.state.contactId = contact.id;
            this.state.form = null;
            this.state.formErrors = {};
            if (!contact.is_complete) {
                this.editContact();
            }
        } finally {
            this.state.busy = false;
        }
    }

    get contactReady() {
        return Boolean(
            this.selectedContact && this.selectedContact.is_complete && !this.state.form
        );
    }

    // -------------------------------------------------------------------------------------
    // Step 3: fees
    // -------------------------------------------------------------------------------------

    async toggleFeesOffered(ev) {
        const checked = ev.target.checked;
        this.state.feesError = "";
        if (!checked) {
            this.state.feesOffered = false;
            return;
        }
        const offer = this.selectedOffer;
        if (this.state.offeredOffers) {
            this.state.feesOffered = true;
            return;
        }
        this.state.busy = true;
        try {
            const result = await this.rpc("alma_get_offers", [
                this.amount,
                this.partnerId,
                true,
            ]);
            if (this.closed) {
                return;
            }
            if (!result || result.error) {
                this.state.feesError =
                    result?.error || _t("Alma could not be reached.");
                this.state.feesOffered = false;
                ev.target.checked = false;
                return;
            }
            this.state.offeredOffers = result.offers || [];
            const variant = this.state.offeredOffers.find(
                (o) => o.plan_id === offer.plan_id
            );
            if (!variant || !variant.eligible) {
                this.state.feesError =
                    variant?.reason ||
                    _t("Alma does not allow offering the fees on this plan.");
                this.state.feesOffered = false;
                ev.target.checked = false;
                return;
            }
            this.state.feesOffered = true;
        } finally {
            this.state.busy = false;
        }
    }

    // -------------------------------------------------------------------------------------
    // Navigation
    // -------------------------------------------------------------------------------------

    get canGoNext() {
        if (this.state.busy) {
            return false;
        }
        switch (this.state.step) {
            case "plans":
                return Boolean(this.selectedOffer);
            case "contact":
                return this.contactReady;
            case "fees":
                return Boolean(this.finalOffer);
        }
        return false;
    }

    next() {
        if (!this.canGoNext) {
            return;
        }
        switch (this.state.step) {
            case "plans":
                return this.enterContactStep();
            case "contact":
                this.state.step = "fees";
                return;
            case "fees":
                this.state.sendError = "";
                this.state.step = "mode";
                return;
        }
    }

    back() {
        if (this.state.busy) {
            return;
        }
        switch (this.state.step) {
            case "contact":
                this.state.form = null;
                this.state.formErrors = {};
                this.state.step = "plans";
                return;
            case "fees":
                this.state.step = "contact";
                return;
            case "mode":
                this.state.sendError = "";
                this.state.step = "fees";
                return;
        }
    }

    // -------------------------------------------------------------------------------------
    // Step 4: send
    // -------------------------------------------------------------------------------------

    async send(mode) {
        // Double send: clicks while a request is in flight are ignored (and the buttons are
        // disabled); the server is idempotent on the payment line's uuid anyway.
        if (this.state.busy || this.closed) {
            return;
        }
        this.state.busy = true;
        this.state.sendError = "";
        // "Pay here": the window opens on the click itself, or the browser would block it.
        const popup =
            mode === "here" ? this.props.terminal.openHereWindow(this.line.uuid) : null;
        let payment = false;
        try {
            const order = this.order;
            const result = await this.rpc("alma_send", [
                {
                    pos_payment_uuid: this.line.uuid,
                    pos_order_uuid: order.uuid,
                    pos_order_name: order.pos_reference || order.name || "",
                    partner_id: this.partnerId,
                    amount: this.amount,
                    plan_id: this.state.planId,
                    contact_id: this.state.contactId,
                    fees_offered: Boolean(this.state.feesOffered),
                    send_mode: mode,
                    // The till that sends it: recorded on the payment, and its contact rules.
                    session_id: this.pos.session?.id || false,
                },
            ]);
            if (!result || result.error || !result.payment) {
                this.state.sendError =
                    result?.error || _t("Alma did not create the payment.");
                return;
            }
            payment = result.payment;
        } finally {
            if (!payment) {
                this.state.busy = false;
                popup?.close();
            }
        }
        if (mode === "here" && payment.url) {
            this.props.terminal.showHere(payment, popup);
        } else {
            popup?.close(); // No page to show (Alma gave no link): no empty window left.
        }
        if (this.destroyed) {
            // Closed (Escape, ×) while Alma was creating the payment: the line still waits.
            this.props.terminal.handleStatus(payment, {fresh: true});
            return;
        }
        this.closed = true;
        this.props.getPayload(payment);
        this.props.close();
    }

    close() {
        if (this.state.busy && this.state.step === "mode") {
            // alma_send in flight: its answer decides.
            return;
        }
        this.closed = true;
        this.props.close();
    }
}
