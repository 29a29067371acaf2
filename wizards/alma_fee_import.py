import base64
import csv
import io
import re
import time
import unicodedata
from collections import defaultdict
from datetime import datetime
from datetime import time as dt_time

from odoo import fields, models
from odoo.exceptions import UserError

# Alma's accounting export, column by header label; Alma may add columns: they are ignored.
COLUMNS = {
    'payment_id': ('iddupaiement', 'paymentid', 'payment'),
    'refund_id': ('iddurembourssement', 'idduremboursement', 'refundid', 'refund'),
    'fee': ('fraisalma', 'almafee', 'fee', 'feeamount', 'frais'),
    'fee_vat': ('tvasurlesfrais', 'feevat', 'vatonfee', 'vat', 'tva'),
}
REQUIRED = ('payment_id', 'fee')


def _label_key(label):
    text = unicodedata.normalize('NFKD', label or '').encode('ascii', 'ignore').decode()
    return re.sub(r'[^a-z0-9]', '', text.lower())


def _cell(record, index):
    return record[index].strip() if index is not None and index < len(record) else ''


class AlmaFeeImport(models.TransientModel):
    """Match the fee lines with Alma's own figures (its accounting export)."""

    _name = 'alma.fee.import'
    _description = "Import Alma's Accounting Export"

    file = fields.Binary(string="Alma accounting export (CSV)")
    filename = fields.Char()
    provider_id = fields.Many2one(
        'payment.provider', domain=[('code', '=', 'alma')],
        default=lambda self: self.env['payment.provider'].search(
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
        provider = self.provider_id.sudo()
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
        result = {'matched': 0, 'different': 0, 'unknown': 0, 'changed': 0}
        matched_ids = []
        changes = defaultdict(list)  # Alma's fee -> line ids: one write per fee value.
        for row in rows:
            line = by_key.get((row['payment_id'], row['refund_id']))
            if not line:
                result['unknown'] += 1
                continue
            result['matched'] += 1
            matched_ids.append(line.id)
            if not line.alma_fee_known or line.alma_fee_cents != row['fee']:
                changes[row['fee']].append(line.id)
        for fee, line_ids in changes.items():
            Line.browse(line_ids).write({'alma_fee_cents': fee, 'alma_fee_known': True})
            result['changed'] += len(line_ids)
        result['different'] = len(Line.browse(matched_ids).filtered('alma_fee_difference'))
        return result

    def _alma_parse(self, content):
        if not content or not content.strip():
            raise UserError(self.env._("The file is empty."))
        try:
            text = content.decode('utf-8-sig')
        except UnicodeDecodeError:
            raise UserError(self.env._(
                "The file is not in UTF-8. Export it again from Alma as CSV, without "
                "opening and saving it in a spreadsheet.")) from None
        try:
            delimiter = csv.Sniffer().sniff(text.splitlines()[0], delimiters=',;\t').delimiter
        except csv.Error:
            delimiter = ','
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        header = next(reader, [])
        keys = {_label_key(label): index for index, label in enumerate(header)}
        columns = {name: next((keys[label] for label in labels if label in keys), None)
                   for name, labels in COLUMNS.items()}
        missing = [name for name in REQUIRED if columns[name] is None]
        if missing:
            raise UserError(self.env._(
                "This is not Alma's accounting export: no column %(columns)s among %(header)s.",
                columns=', '.join(missing), header=', '.join(header)))
        rows, errors = [], []
        for number, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue
            values = {name: _cell(record, index) for name, index in columns.items()}
            if not values['payment_id'] or not re.fullmatch(r'-?\d+', values['fee'] or '0'):
                errors.append(number)
                continue
            rows.append({'payment_id': values['payment_id'], 'refund_id': values['refund_id'],
                         'fee': int(values['fee'] or 0)})
        if errors:
            raise UserError(self.env._("Lines %s cannot be read: nothing was imported.",
                              ', '.join(map(str, errors))))
        if not rows:
            raise UserError(self.env._("The file has no line."))
        return rows

    def _alma_notify(self, result):
        message = self.env._(
            "%(matched)s lines matched, %(changed)s updated, %(different)s with a fee that "
            "differs from the expected one, %(unknown)s unknown to Odoo.", **result)
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'warning' if result['different'] else 'success',
                'message': message,
                'sticky': bool(result['different']),
                'next': {'type': 'ir.actions.act_window_close'},
            },
        }
