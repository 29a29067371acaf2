import base64
import csv
import io
import logging
import re
import time
import unicodedata
from collections import defaultdict
from datetime import datetime
from datetime import time as dt_time

from odoo import fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

# Alma's accounting export, column by header label, in French or English; Alma may add columns:
# they are ignored. Neither the labels nor the units are published (alma-api.md, "Money"): fees
# are read in cents ("456") or in decimal euros ("4,56", "4.56", "4,56 €").
COLUMNS = {
    'payment_id': ('iddupaiement', 'identifiantdupaiement', 'paiement', 'paymentid', 'payment'),
    'refund_id': ('iddurembourssement', 'idduremboursement', 'identifiantduremboursement',
                  'remboursement', 'refundid', 'refund'),
    'fee': ('fraisalma', 'commissionalma', 'frais', 'commission', 'almafee', 'almafees', 'fee',
            'fees', 'feeamount'),
    'fee_vat': ('tvasurlesfrais', 'tvasurlafrais', 'tvafrais', 'tva', 'feevat', 'vatonfee',
                'vatonfees', 'vat'),
}
REQUIRED = ('payment_id', 'fee')
AMOUNT_COLUMNS = ('fee',)
EURO_HINTS = ('€', 'eur', 'euro', 'euros')
CENT_HINTS = ('cents', 'cent', 'centimes', 'centime', 'ct', 'cts')
# "4,56", "-4.56", "1 234,56", "4,56 €", "456": digits, optional thousands spaces, 1-2 decimals.
# A fee is stored in integer cents (PostgreSQL's integer); no cell of Alma's export is longer.
MAX_CENTS = 2**31 - 1
MAX_CELL = 256
AMOUNT_RE = re.compile(r'(-?)(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[.,](\d{1,2}))?')


def _label_key(label):
    label = re.sub(r'\(.*?\)|\[.*?\]', ' ', label or '')  # "Frais Alma (€)": the unit apart
    text = unicodedata.normalize('NFKD', label).encode('ascii', 'ignore').decode()
    return re.sub(r'[^a-z0-9]', '', text.lower())


def _label_unit(label):
    """'euros', 'cents' or None, from a unit written in the header: "Fee (EUR)", "Frais (cts)"."""
    words = re.findall(r'€|[a-z]+', unicodedata.normalize('NFKD', (label or '').lower()))
    if any(word in CENT_HINTS for word in words):
        return 'cents'
    if any(word in EURO_HINTS for word in words):
        return 'euros'
    return None


def _cell(record, index):
    return record[index].strip() if index is not None and index < len(record) else ''


def _amount_parts(text):
    """(sign, units, decimals or None) of an amount cell, or None when it is not an amount."""
    text = text.replace('€', '').replace('EUR', '').strip()
    match = AMOUNT_RE.fullmatch(text)
    if not match:
        return None
    sign, units, decimals = match.groups()
    return sign, int(re.sub(r'\D', '', units)), decimals


class AlmaFeeImport(models.TransientModel):
    """Match the fee lines with Alma's own figures (its accounting export)."""

    _name = 'alma.fee.import'
    _description = "Import Alma's Accounting Export"

    file = fields.Binary(string="Alma accounting export (CSV)")
    filename = fields.Char()
    provider_id = fields.Many2one(
        'payment.provider', domain=[('code', '=', 'alma')],
        # sudo: bookkeepers may not read providers; their own company's Alma account is the one.
        default=lambda self: self.env['payment.provider'].sudo().search(
            [('code', '=', 'alma'), ('company_id', '=', self.env.company.id)], limit=1),
    )
    date_from = fields.Date(default=lambda self: fields.Date.context_today(self).replace(day=1))
    date_to = fields.Date(default=fields.Date.context_today)

    def action_import(self):
        self.ensure_one()
        if not self.file:
            raise UserError(self.env._("Choose the CSV file exported from Alma."))
        return self._alma_notify(self._alma_import_csv(base64.b64decode(self.file)))

    def action_fetch(self):
        """Ask Alma for its accounting export of the period, then import it."""
        self.ensure_one()
        # sudo: bookkeepers may not read providers (nor their keys): the account's company is
        # compared, and its key is read by the server only, for this company's own account.
        provider = self.provider_id.sudo()
        if provider.company_id not in self.env.companies:
            raise UserError(self.env._("This Alma account belongs to another company."))
        if not self.date_from or not self.date_to:
            raise UserError(self.env._("Choose the first and the last day of the period."))
        if self.date_from > self.date_to:
            raise UserError(self.env._("The period ends before it starts: swap its dates."))
        client = provider._alma_client()
        start = int(datetime.combine(self.date_from, dt_time.min).timestamp())
        end = int(datetime.combine(self.date_to, dt_time.max).timestamp())
        export = client.create_data_export('accounting', start, end)
        for _attempt in range(30):
            if export.get('complete'):
                break
            time.sleep(1)
            export = client.get_data_export(export['id'])
        else:
            raise UserError(self.env._("Alma has not finished the export yet. Try again later."))
        return self._alma_notify(
            self._alma_import_csv(client.download_data_export(export['id'])))

    def _alma_import_csv(self, content):
        """Import the whole file or nothing; importing it again changes nothing."""
        rows = self._alma_parse(content)
        Line = self.env['alma.fee.line']
        lines = Line.search([('alma_id', 'in', [row['payment_id'] for row in rows])])
        by_key = {(line.alma_id, line.refund_id or ''): line for line in lines}
        if self._alma_learn_refunds(rows, by_key):
            lines = Line.search([('alma_id', 'in', [row['payment_id'] for row in rows])])
            by_key = {(line.alma_id, line.refund_id or ''): line for line in lines}
        result = {'matched': 0, 'different': 0, 'unknown': 0, 'changed': 0, 'unknown_ids': []}
        matched_ids = []
        changes = defaultdict(list)  # Alma's fee -> line ids: one write per fee value.
        for row in rows:
            line = by_key.get((row['payment_id'], row['refund_id']))
            if not line:
                result['unknown'] += 1
                result['unknown_ids'].append(row['refund_id'] or row['payment_id'])
                continue
            result['matched'] += 1
            matched_ids.append(line.id)
            if not line.alma_fee_known or line.alma_fee_cents != row['fee']:
                changes[row['fee']].append(line.id)
        for fee, line_ids in changes.items():
            # sudo: fee lines are the add-on's own records, read-only for everyone; the import
            # writes only Alma's fee on the lines the bookkeeper could read above.
            Line.browse(line_ids).sudo().write({'alma_fee_cents': fee, 'alma_fee_known': True})
            result['changed'] += len(line_ids)
        result['different'] = len(Line.browse(matched_ids).filtered('alma_fee_difference'))
        return result

    def _alma_learn_refunds(self, rows, by_key):
        """Record the refunds Alma lists of a payment these lines know, but Odoo does not
        (made on Alma's dashboard): read from Alma, recorded as ours are (their Frais Alma
        line, their refund transaction). Return whether any payment was read again."""
        lines = {by_key[row['payment_id'], ''] for row in rows
                 if row['refund_id'] and (row['payment_id'], row['refund_id']) not in by_key
                 and (row['payment_id'], '') in by_key}
        # sudo: the payments of the lines the bookkeeper could read; what Alma did is recorded
        # whoever learnt it, and the key is read by the server only.
        for payment in self.env['alma.fee.line'].union(*lines).alma_payment_id.sudo():
            try:
                payment._alma_record_refunds(payment._alma_client().get_payment(payment.alma_id))
            except UserError as error:  # AlmaError, or a provider left without its key.
                _logger.warning("Refunds of Alma payment %s not read: %s", payment.alma_id, error)
        return bool(lines)

    def _alma_parse(self, content):
        if not content or not content.strip():
            raise UserError(self.env._("The file is empty."))
        try:
            text = content.decode('utf-8-sig')
        except UnicodeDecodeError:
            raise UserError(self.env._(
                "The file is not in UTF-8. Export it again from Alma as CSV, without "
                "opening and saving it in a spreadsheet.")) from None
        if '\x00' in text:
            raise UserError(self.env._(
                "The file holds a NUL character (line %s): it is not Alma's CSV export. Export "
                "it again from Alma.", text[:text.index('\x00')].count('\n') + 1))
        try:
            delimiter = csv.Sniffer().sniff(text.splitlines()[0], delimiters=',;\t').delimiter
        except csv.Error:
            delimiter = ','
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        try:
            table = list(reader)
        except csv.Error:  # A cell over csv's own limit (128 KiB).
            raise UserError(self.env._(
                "This is not Alma's accounting export: line %s cannot be read as CSV.",
                reader.line_num)) from None
        for number, record in enumerate(table, start=1):
            long_cell = next((index for index, cell in enumerate(record)
                              if len(cell) > MAX_CELL), None)
            if long_cell is not None:
                raise UserError(self.env._(
                    "This is not Alma's accounting export: line %(line)s, column %(column)s "
                    "holds %(length)s characters.", line=number, column=long_cell + 1,
                    length=len(record[long_cell])))
        reader = iter(table)
        header = next(reader, [])
        keys = {}
        for index, label in enumerate(header):
            keys.setdefault(_label_key(label), index)
        columns = {name: next((keys[label] for label in labels if label in keys), None)
                   for name, labels in COLUMNS.items()}
        missing = [name for name in REQUIRED if columns[name] is None]
        if missing:
            raise UserError(self.env._(
                "This is not Alma's accounting export: no column %(columns)s among %(header)s.",
                columns=', '.join(missing), header=', '.join(header)))
        records = [(number, record) for number, record in enumerate(reader, start=2)
                   if any(cell.strip() for cell in record)]
        units = {name: self._alma_column_unit(header[columns[name]], [
            _cell(record, columns[name]) for _number, record in records])
            for name in AMOUNT_COLUMNS}
        rows, errors = [], []
        for number, record in records:
            values = {name: _cell(record, index) for name, index in columns.items()}
            if not values['payment_id']:
                errors.append(self.env._("line %(line)s, column %(column)s: no payment id",
                                         line=number, column=header[columns['payment_id']]))
                continue
            fee = self._alma_amount_cents(values['fee'], units['fee'])
            if fee is not None and abs(fee) > MAX_CENTS:
                errors.append(self.env._(
                    "line %(line)s, column %(column)s: \"%(value)s\" is not a fee of one "
                    "payment", line=number, column=header[columns['fee']], value=values['fee']))
                continue
            if fee is None:
                errors.append(self.env._(
                    "line %(line)s, column %(column)s: \"%(value)s\" is not an amount in "
                    "euros (4,56 or 4.56) or in cents (456)",
                    line=number, column=header[columns['fee']], value=values['fee']))
                continue
            rows.append({'payment_id': values['payment_id'], 'refund_id': values['refund_id'],
                         'fee': fee})
        if errors:
            shown = errors[:10]
            if len(errors) > len(shown):
                more = len(errors) - len(shown)
                shown.append(self.env._("and 1 more error") if more == 1 else
                             self.env._("and %s more errors", more))
            raise UserError(self.env._("Nothing was imported: %s.", '; '.join(shown)))
        if not rows:
            raise UserError(self.env._("The file has no line."))
        return rows

    def _alma_column_unit(self, label, cells):
        """'euros' or 'cents' for an amount column: its header says so, or any cell with
        decimals ("4,56") makes the whole column euros; whole numbers alone are cents."""
        unit = _label_unit(label)
        if unit:
            return unit
        if any((_amount_parts(cell) or (None, None, None))[2] is not None for cell in cells):
            return 'euros'
        return 'cents'

    def _alma_amount_cents(self, text, unit):
        """The integer cents of an amount cell ('' is 0), or None when it is not an amount."""
        if not text:
            return 0
        parts = _amount_parts(text)
        if parts is None:
            return None
        sign, units, decimals = parts
        if unit == 'cents':
            if decimals is not None:
                return None  # "4,56" in a column of cents is not a number of cents
            cents = units
        else:
            cents = units * 100 + int((decimals or '0').ljust(2, '0'))
        return -cents if sign else cents

    def _alma_notify(self, result):
        # Counts after their labels: no "1 lines" in any language.
        message = self.env._(
            "Lines matched: %(matched)s. Updated: %(changed)s. With a fee that differs from the "
            "expected one: %(different)s. Unknown to Odoo: %(unknown)s.", **result)
        unknown = result['unknown_ids']
        if unknown:
            shown = ', '.join(unknown[:20])
            if len(unknown) > 20:
                shown = self.env._("%(ids)s and %(count)s more", ids=shown,
                                   count=len(unknown) - 20)
            message = self.env._(
                "%(message)s Unknown to Odoo (made elsewhere, or in another company): %(ids)s.",
                message=message, ids=shown)
        attention = result['different'] or unknown
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'warning' if attention else 'success',
                'message': message,
                'sticky': bool(attention),
                # The grid behind shows the figures just imported.
                'next': {'type': 'ir.actions.client', 'tag': 'soft_reload'},
            },
        }
