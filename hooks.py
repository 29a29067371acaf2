from odoo.addons.payment import reset_payment_provider, setup_provider


def post_init_hook(env):
    setup_provider(env, 'alma')
    if env.ref('payment_alma.demo_clinic', raise_if_not_found=False):
        _setup_demo_clinic(env)
    else:
        env['payment.provider'].search([('code', '=', 'alma')])._alma_ensure_journal()


def uninstall_hook(env):
    reset_payment_provider(env, 'alma')


def _setup_demo_clinic(env):
    """The demo's French clinic, in euros: its chart, Alma account, till and first customer.

    Odoo's demo company works in dollars, which Alma does not take.
    """
    clinic = env.ref('payment_alma.demo_clinic')
    env['account.chart.template'].try_loading('generic_coa', clinic, install_demo=False)
    clinic.currency_id = env.ref('base.EUR')  # The generic chart brings dollars.
    admin = env.ref('base.user_admin')
    admin.write({'company_ids': [(4, clinic.id)], 'company_id': clinic.id})
    env = env(context=dict(env.context, allowed_company_ids=clinic.ids))
    provider = env.ref('payment_alma.payment_provider_alma')
    provider.write({'journal_id': False})  # The journal found at install is the other company's.
    provider.write({'company_id': clinic.id})
    provider._alma_ensure_journal()
    cash_journal = env['account.journal'].search(
        [('company_id', '=', clinic.id), ('type', '=', 'cash')], limit=1)
    cash = env['pos.payment.method'].create({
        'name': "Espèces", 'journal_id': cash_journal.id, 'company_id': clinic.id})
    alma = env['pos.payment.method'].create(provider._alma_pos_method_values())
    pricelist = env['product.pricelist'].create({
        'name': "Tarifs clinique", 'currency_id': env.ref('base.EUR').id,
        'company_id': clinic.id})
    env['pos.config'].create({
        'name': "Accueil clinique",
        'company_id': clinic.id,
        'payment_method_ids': [(6, 0, (cash | alma).ids)],
        'pricelist_id': pricelist.id,
        'available_pricelist_ids': [(6, 0, pricelist.ids)],
        # As at the clinic: the cashier sees the pill turn green, then cashes in.
        'auto_validate_terminal_payment': False,
    })
    product = {'type': 'service', 'available_in_pos': True, 'taxes_id': False,
               'company_id': clinic.id}
    env['product.product'].create([
        {**product, 'name': "Consultation", 'list_price': 399.0},
        {**product, 'name': "Vaccin", 'list_price': 30.0},
        {**product, 'name': "Détartrage", 'list_price': 90.0},
    ])
    env['res.partner'].create({
        'name': "Jean Martin", 'mobile': '+33612345678', 'email': 'jean.martin@example.com',
        'street': "20 rue d'Alsace", 'zip': '75002', 'city': 'Paris',
        'country_id': env.ref('base.fr').id, 'company_id': clinic.id,
    })
