from odoo import Command, fields

from odoo.addons.payment import reset_payment_provider, setup_provider

# Bumped when the demo clinic's set-up changes: scripts/demo recreates an older demo database.
DEMO_VERSION = '3'

# (name, price excluding VAT, type): a French vet's prices, 20 % VAT included at the till.
DEMO_PRODUCTS = [
    ("Consultation", 37.50, 'service'),
    ("Vaccination annuelle chien (CHPPiL + rage)", 60.00, 'service'),
    ("Stérilisation chatte", 175.00, 'service'),
    ("Stérilisation chienne (ovariectomie)", 332.50, 'service'),
    ("Détartrage sous anesthésie", 150.00, 'service'),
    ("Bilan sanguin pré-anesthésique", 70.00, 'service'),
    ("Chirurgie du ligament croisé", 1000.00, 'service'),
    ("Croquettes chien adulte 12 kg", 66.25, 'consu'),
    ("Antiparasitaire chien (3 pipettes)", 29.00, 'consu'),
]

# (name, mobile, e-mail, street, zip, city): the clinic's customers, all French.
DEMO_CUSTOMERS = [
    ("Jean Martin", '+33612345678', 'jean.martin@example.com', "20 rue d'Alsace", '75002', 'Paris'),
    ("Sophie Bernard", '+33623456789', 'sophie.bernard@example.com', "14 rue Mercière", '69002',
     'Lyon'),
    ("Camille Dubois", '+33781234567', 'camille.dubois@example.com', "8 cours Émile-Zola",
     '69100', 'Villeurbanne'),
    ("Lucas Moreau", '+33645678901', 'lucas.moreau@example.com', "3 place Bellecour", '69002',
     'Lyon'),
]

# The portal account of Jean Martin, who pays his invoice online ("Payer maintenant").
DEMO_PORTAL_LOGIN = 'jean.martin@example.com'
DEMO_PORTAL_PASSWORD = 'jean'

# (name, login = password, groups): the clinic's staff, each with only the standard groups of
# their job, as the clinic's administrator would set them.
DEMO_STAFF = [
    ("Claire Petit (accueil)", 'accueil', ['point_of_sale.group_pos_user']),
    ("Paul Girard (comptabilité)", 'compta', ['account.group_account_invoice']),
]


def post_init_hook(env):
    setup_provider(env, 'alma')
    if env.ref('payment_alma.demo_clinic', raise_if_not_found=False):
        _setup_demo_clinic(env)
    else:
        env['payment.provider'].search([('code', '=', 'alma')])._alma_ensure_journal()


def uninstall_hook(env):
    reset_payment_provider(env, 'alma')


def _setup_demo_clinic(env):
    """The demo's French veterinary clinic, in euros: chart, Alma, till, customers, invoices.

    Odoo's demo company works in dollars, which Alma does not take. The French chart is used when
    `l10n_fr_account` is installed (scripts/demo installs it first; the add-on does not depend on
    it), the generic one otherwise (the test database). The clinic's staff and customers speak
    French when French is loaded in the database (scripts/demo loads it; the tests do not, so
    that their users keep Odoo's English).
    """
    clinic = env.ref('payment_alma.demo_clinic')
    french_chart = bool(env['ir.module.module'].search_count(
        [('name', '=', 'l10n_fr_account'), ('state', '=', 'installed')]))
    env['account.chart.template'].try_loading(
        'fr' if french_chart else 'generic_coa', clinic, install_demo=False)
    clinic.currency_id = env.ref('base.EUR')  # The generic chart brings dollars.
    french = bool(env['res.lang'].search_count([('code', '=', 'fr_FR')]))
    people = {'tz': 'Europe/Paris', **({'lang': 'fr_FR'} if french else {})}
    clinic.partner_id.write(people)

    admin = env.ref('base.user_admin')
    admin.write({'company_ids': [Command.link(clinic.id)], 'company_id': clinic.id})
    env['res.users'].search([('share', '=', False)]).write(people)
    env = env(context=dict(env.context, allowed_company_ids=clinic.ids))

    provider = env.ref('payment_alma.payment_provider_alma')
    provider.write({'journal_id': False})  # The journal found at install is the other company's.
    provider.write({'company_id': clinic.id})
    provider._alma_ensure_journal()
    # Published: the clinic's customers pay their invoices with Alma in the portal.
    env.ref('payment.payment_method_alma').active = True
    provider.is_published = True

    cash_journal = env['account.journal'].search(
        [('company_id', '=', clinic.id), ('type', '=', 'cash')], limit=1)
    cash = env['pos.payment.method'].create({
        'name': "Espèces", 'journal_id': cash_journal.id, 'company_id': clinic.id})
    alma = env['pos.payment.method'].create(provider._alma_pos_method_values())
    pricelist = env['product.pricelist'].create({
        'name': "Tarifs clinique", 'currency_id': env.ref('base.EUR').id,
        'company_id': clinic.id})
    care, shop = categories = env['pos.category'].create([{'name': "Soins"}, {'name': "Boutique"}])
    env['pos.config'].create({
        'name': "Accueil clinique",
        'company_id': clinic.id,
        'payment_method_ids': [Command.set((cash | alma).ids)],
        'pricelist_id': pricelist.id,
        'available_pricelist_ids': [Command.set(pricelist.ids)],
        # As at the clinic: the cashier sees the pill turn green, then cashes in.
        'auto_validate_terminal_payment': False,
        # The clinic's own products, not Odoo's demo furniture and food.
        'limit_categories': True,
        'iface_available_categ_ids': [Command.set(categories.ids)],
    })

    vat = _demo_vat_20(env, clinic)
    products = env['product.product'].create([{
        'name': name, 'list_price': price, 'type': product_type, 'available_in_pos': True,
        'pos_categ_ids': [Command.set((shop if product_type == 'consu' else care).ids)],
        'taxes_id': [Command.set(vat.ids)], 'company_id': clinic.id,
    } for name, price, product_type in DEMO_PRODUCTS])
    product = {product.name: product for product in products}

    customers = env['res.partner'].create([{
        'name': name, 'mobile': mobile, 'email': email, 'street': street, 'zip': zip_code,
        'city': city, 'country_id': env.ref('base.fr').id, 'company_id': clinic.id, **people,
    } for name, mobile, email, street, zip_code, city in DEMO_CUSTOMERS])
    jean, sophie = customers[:2]
    env['res.users'].with_context(no_reset_password=True).create([{
        'name': name, 'login': login, 'password': login, 'email': f'{login}@clinique-lilas.example',
        'company_id': clinic.id, 'company_ids': [Command.set(clinic.ids)],
        'groups_id': [Command.set([env.ref('base.group_user').id]
                                  + [env.ref(group).id for group in groups])],
        **people,
    } for name, login, groups in DEMO_STAFF])
    env['res.users'].with_context(no_reset_password=True).create({
        'name': jean.name, 'login': DEMO_PORTAL_LOGIN, 'password': DEMO_PORTAL_PASSWORD,
        'partner_id': jean.id, 'company_id': clinic.id, 'company_ids': [Command.set(clinic.ids)],
        'groups_id': [Command.set([env.ref('base.group_portal').id])],
    })

    # Two invoices left to pay: Jean Martin's, in the portal; Sophie Bernard's, by phone.
    invoices = env['account.move'].with_company(clinic).create([{
        'move_type': 'out_invoice', 'partner_id': partner.id,
        'invoice_date': fields.Date.context_today(clinic),
        'invoice_user_id': False,  # Not OdooBot, who runs this hook.
        'invoice_line_ids': [
            Command.create({'product_id': product[name].id, 'quantity': 1}) for name in lines],
    } for partner, lines in [
        (jean, ["Détartrage sous anesthésie", "Bilan sanguin pré-anesthésique",
                "Croquettes chien adulte 12 kg"]),
        (sophie, ["Chirurgie du ligament croisé"]),
    ]])
    invoices.action_post()
    env['ir.config_parameter'].set_param('payment_alma.demo_version', DEMO_VERSION)


def _demo_vat_20(env, company):
    """The clinic's 20 % sales VAT: the French chart's default one, else the chart's made 20 %."""
    tax = company.account_sale_tax_id
    if tax.amount_type == 'percent' and tax.amount == 20 and not tax.price_include:
        return tax
    group = env['account.tax.group'].create({
        'name': "TVA 20 %", 'company_id': company.id, 'country_id': tax.country_id.id})
    return tax.copy({'name': "TVA 20 %", 'amount': 20, 'tax_group_id': group.id})
