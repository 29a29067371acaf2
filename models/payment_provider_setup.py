from odoo import models

# The English name of the add-on's account, by which it is found (its source term).
OUTSTANDING_ACCOUNT_NAME = "Alma Outstanding Receipts"


class PaymentProviderSetup(models.Model):
    """What an Alma provider sets up for the clinic: its bank journal and accounts, and the
    till's payment method."""

    _inherit = 'payment.provider'

    def _alma_ensure_journal(self):
        """Give each Alma provider its own bank journal with its own outstanding receipts account.

        Alma pays out grouped transfers, net of its fees: keeping its receipts apart lets the
        bookkeeper reconcile each transfer with exactly the Alma payments it settles.
        """
        for provider in self.filtered(lambda p: p.code == 'alma'):
            company = provider.company_id
            if not company.chart_template:
                continue  # No chart of accounts yet: nothing to post into.
            Journal = self.env['account.journal'].with_company(company)
            journal = Journal.search([
                *Journal._check_company_domain(company), ('code', '=', 'ALMA'),
            ], limit=1) or Journal.create({
                'name': "Alma",
                'code': 'ALMA',
                'type': 'bank',
                'company_id': company.id,
            })
            provider.journal_id = journal
            outstanding = provider._alma_outstanding_account()
            journal.inbound_payment_method_line_ids.filtered(
                lambda line, p=provider: line.payment_provider_id == p
            ).payment_account_id = outstanding

    def _alma_pos_method_values(self):
        self.ensure_one()
        return {
            'name': "Alma",
            'payment_method_type': 'terminal',
            'use_payment_terminal': 'alma',
            'alma_provider_id': self.id,
            'journal_id': self.journal_id.id,
            'outstanding_account_id': self._alma_outstanding_account().id,
            'company_id': self.company_id.id,
        }

    def _alma_fee_accounts(self):
        """Return the (fee expense, deductible VAT) accounts: configured, French, or generic."""
        self.ensure_one()
        Account = self.env['account.account'].with_company(self.company_id)
        domain = Account._check_company_domain(self.company_id)
        # 627800 "Autres frais et commissions sur prestations de services" is where a French
        # accountant books a payment service's commissions (627100 is for securities).
        fee = self.alma_fee_account_id or Account.search(
            [*domain, ('code', '=like', '6278%')], limit=1) or Account.search(
            [*domain, ('code', '=like', '627%')], limit=1) or Account.search(
            [*domain, ('account_type', '=', 'expense')], limit=1)
        purchase_tax = self.company_id.account_purchase_tax_id
        vat = self.alma_fee_vat_account_id or Account.search(
            [*domain, ('code', '=like', '44566%')], limit=1) or (
            purchase_tax.invoice_repartition_line_ids.filtered(
                lambda line: line.repartition_type == 'tax').account_id[:1])
        return fee, vat

    def _alma_outstanding_account(self):
        """The add-on's account of Alma's receipts not paid out yet, named in every installed
        language (see `_alma_name_outstanding_account`)."""
        self.ensure_one()
        # Found by its English name, the source of its translations, whatever the reader's
        # language: searched in French, a translated name would not match and a twin be made.
        Account = self.env['account.account'].with_company(self.company_id).with_context(
            lang='en_US')
        account = Account.search([
            *Account._check_company_domain(self.company_id),
            ('name', '=', OUTSTANDING_ACCOUNT_NAME),
        ], limit=1)
        if not account:
            chart = self.env['account.chart.template'].with_company(self.company_id)
            receipts = chart.ref('account_journal_payment_debit_account_id',
                                 raise_if_not_found=False)
            start_code = receipts.code if receipts else '101400'
            account = Account.create({
                'name': OUTSTANDING_ACCOUNT_NAME,
                'code': Account._search_new_account_code(start_code),
                'account_type': 'asset_current',
                'reconcile': True,
            })
        self._alma_name_outstanding_account(account)
        return account.with_env(self.env).with_company(self.company_id)

    def _alma_name_outstanding_account(self, account):
        """Give the account its name in each installed language where it still has the English
        one: made before French was installed, or by an earlier version, it reads French too.
        A name the bookkeeper changed is left alone."""
        translations = {}
        for code, _name in self.env['res.lang'].get_installed():
            if code == 'en_US':
                continue
            translated = self.with_context(lang=code).env._("Alma Outstanding Receipts")
            if translated != OUTSTANDING_ACCOUNT_NAME \
                    and account.with_context(lang=code).name == OUTSTANDING_ACCOUNT_NAME:
                translations[code] = translated
        if translations:
            # sudo: whoever books Alma's money (a cashier closing the till, an invoicing user)
            # may not write accounts; only the add-on's own account is renamed, once.
            account.sudo().update_field_translations('name', translations)
