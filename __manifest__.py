{
    'name': "Alma Pay Later for Point of Sale",
    'version': '18.0.1.1.0',
    'category': 'Accounting/Payment Providers',
    'sequence': 350,
    'summary': "Sell in 2, 3 or 4 installments or deferred at the counter with Alma, and follow "
               "Alma's fees and payouts.",
    'author': "payment_alma",
    'website': 'https://almapay.com',
    'license': 'LGPL-3',
    'development_status': 'Beta',
    'depends': ['account_payment', 'point_of_sale'],
    'external_dependencies': {'python': ['requests', 'phonenumbers']},
    'data': [
        'security/ir.model.access.csv',
        'security/alma_payment_security.xml',
        'data/payment_alma_plan_data.xml',
        'data/ir_cron_data.xml',
        'data/mail_template_data.xml',
        'views/payment_provider_views.xml',
        'views/alma_payment_views.xml',
        'views/alma_fee_line_views.xml',
        'views/pos_payment_method_views.xml',
        'views/pos_order_views.xml',
        'views/account_move_views.xml',
        'views/res_config_settings_views.xml',
        'wizards/alma_payment_wizard_views.xml',
        'wizards/alma_transfer_views.xml',
        'views/payment_alma_templates.xml',
        'data/payment_provider_data.xml',
    ],
    'assets': {
        'point_of_sale._assets_pos': [
            'payment_alma/static/src/app/**/*',
            'payment_alma/static/src/shared/**/*',
        ],
        'web.assets_backend': [
            'payment_alma/static/src/app/alma_utils.js',
            'payment_alma/static/src/shared/**/*',
            'payment_alma/static/src/views/**/*',
        ],
        'web.assets_frontend': [
            'payment_alma/static/src/js/**/*',
        ],
        'web.assets_tests': [
            'payment_alma/static/tests/tours/**/*',
        ],
    },
    'demo': [
        'demo/payment_provider_demo.xml',
    ],
    'post_init_hook': 'post_init_hook',
    'uninstall_hook': 'uninstall_hook',
}
