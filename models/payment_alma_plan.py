from odoo import api, fields, models


class PaymentAlmaPlan(models.Model):
    """A kind of Alma plan a merchant may offer: 2x, 3x, 4x, or one installment deferred by days
    (D+15…) or months (M+1…), offered when the merchant's Alma account has it."""

    _name = 'payment.alma.plan'
    _description = "Alma plan"
    _order = 'sequence, installments_count, deferred_days, deferred_months'

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    installments_count = fields.Integer(required=True)
    deferred_days = fields.Integer(required=True, default=0)
    # Alma's fee plans carry `deferred_months` (alma/alma-php-client src/Entities/FeePlan.php).
    deferred_months = fields.Integer(required=True, default=0)
    code = fields.Char(compute='_compute_code', store=True, help="Alma's name of the plan kind.")

    _sql_constraints = [(
        'plan_unique', 'unique(installments_count, deferred_days, deferred_months)',
        "This Alma plan already exists.",
    )]

    @api.depends('installments_count', 'deferred_days', 'deferred_months')
    def _compute_code(self):
        for plan in self:
            # Alma's payment kinds: P3X, P1X_D+30 (alma-api.md); "_M+1" for months is ours,
            # no public Alma source shows that kind.
            suffix = f'_D+{plan.deferred_days}' if plan.deferred_days else ''
            if plan.deferred_months:
                suffix += f'_M+{plan.deferred_months}'
            plan.code = f'P{plan.installments_count}X{suffix}'

    def _alma_query(self):
        """Return the plan as an Alma eligibility query."""
        self.ensure_one()
        return {
            'installments_count': self.installments_count,
            'deferred_days': self.deferred_days,
            'deferred_months': self.deferred_months,
        }

    def _alma_key(self):
        self.ensure_one()
        return self.installments_count, self.deferred_days, self.deferred_months
