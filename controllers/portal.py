from odoo.http import request

from odoo.addons.account_payment.controllers.portal import PortalAccount


class AlmaPortalAccount(PortalAccount):

    def _invoice_get_page_view_values(self, invoice, access_token, payment=False, **kwargs):
        """Override of `account_payment` to give the payment form the invoice's access token.

        A logged-in customer opening /my/invoices/<id> has no token in the URL, and the form's
        "Pay now" then fails for every provider (`invoice_transaction()` needs the token). The
        route has already checked the user's access to the invoice.
        """
        if not access_token and not request.env.user._is_public() and invoice._has_to_be_paid():
            access_token = invoice._portal_ensure_token()
        return super()._invoice_get_page_view_values(
            invoice, access_token, payment=payment, **kwargs)
