from . import controllers
from . import models
from . import wizards

from odoo.addons.payment import reset_payment_provider, setup_provider


def post_init_hook(env):
    setup_provider(env, 'alma')
    providers = env['payment.provider'].search([('code', '=', 'alma')])
    providers._alma_ensure_journal()
    providers._alma_setup_demo_shop()


def uninstall_hook(env):
    reset_payment_provider(env, 'alma')
