"""pytest-odoo's view of these tests: the Python tests, the browser tours left out.

`scripts/test` runs the Python tests once more with pytest-odoo (`pytest --odoo-http
--odoo-database=…`) and fails when it does not count as many passed as Odoo's runner. The
tours (tag `alma_tours`) need Odoo's runner, which drives the browser; they are deselected
here. Odoo's runner does not load this file (it imports the tests through `__init__.py`).
"""


def pytest_collection_modifyitems(config, items):
    """Deselect the browser tours: Odoo's runner runs them."""
    tours = [item for item in items
             if 'alma_tours' in getattr(getattr(item, 'cls', None), 'test_tags', ())]
    if tours:
        config.hook.pytest_deselected(items=tours)
        items[:] = [item for item in items if item not in tours]
