from odoo import api, fields, models


class PaymentAlmaPlan(models.Model):
    """A kind of Alma plan a merchant may offer: 2x, 3x, 4x or one installment deferred D+N."""

    _name = 'payment.alma.plan'
    _description = "Alma plan"
    _order = 'sequence, installments_count, deferred_days'

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    installments_count = fields.Integer(required=True)
    deferred_days = fields.Integer(required=True, default=0)
    code = fields.Char(compute='_compute_code', store=True, help="Alma's name of the plan kind.")

    _sql_constraints = [(
        'plan_unique', 'unique(installments_count, deferred_days)',
        "This Alma plan already exists.",
    )]

    @api.depends('installments_count', 'deferred_days')
    def _compute_code(self):
        for plan in self:
            suffix = f'_D+{plan.deferred_days}' if plan.deferred_days else ''
            plan.code = f'P{plan.installments_count}X{suffix}'

    def _alma_query(self):
        """Return the plan as an Alma eligibility query."""
        self.ensure_one()
        return {
            'installments_count': self.installments_count,
            'deferred_days': self.deferred_days,
            'deferred_months': 0,
        }

    def _alma_key(self):
        self.ensure_one()
        return self.installments_count, self.deferred_days, 0
