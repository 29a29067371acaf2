"""pytest-odoo's view of the add-on's tests: the Python tests, the browser tours left out.

`scripts/test` runs the Python tests a second time with pytest-odoo (`pytest -p pytest_alma
--odoo-http --odoo-database=…`, this folder on PYTHONPATH) and fails when pytest does not
count as many passed as Odoo's runner. The browser tours (tag `alma_tours`) are deselected:
Odoo's runner drives the browser. A plugin, not a conftest.py in tests/: pytest would import
a conftest (hence the add-on, hence Odoo's addons) before pytest-odoo has set Odoo up.
"""


def pytest_collection_modifyitems(config, items):
    """Deselect the browser tours."""
    tours = [item for item in items
             if 'alma_tours' in getattr(getattr(item, 'cls', None), 'test_tags', ())]
    if tours:
        config.hook.pytest_deselected(items=tours)
        items[:] = [item for item in items if item not in tours]
