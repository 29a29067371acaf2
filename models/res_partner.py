from odoo import models


class ResPartner(models.Model):
    _inherit = 'res.partner'

    def _alma_split_name(self):
        """Return (first name, last name): Alma wants both, Odoo keeps one name."""
        self.ensure_one()
        first, _sep, last = (self.name or '').strip().partition(' ')
        return (first, last) if last else ('', first)

    def _alma_contact_data(self):
        self.ensure_one()
        first_name, last_name = self._alma_split_name()
        data = {
            'id': self.id,
            'name': self.name or '',
            'first_name': first_name,
            'last_name': last_name,
            'mobile': self.mobile or self.phone or '',
            'email': self.email or '',
            'street': self.street or '',
            'zip': self.zip or '',
            'city': self.city or '',
            'country_id': self.country_id.id or False,
            'country_code': self.country_id.code or '',
        }
        data['is_complete'] = all(data[key] for key in (
            'first_name', 'last_name', 'mobile', 'email', 'street', 'zip', 'city', 'country_id'))
        return data
