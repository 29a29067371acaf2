"""Lets pytest run the stand-in's tests inside the Odoo add-on without importing the add-on.

The add-on's root holds an `__init__.py` that imports Odoo, and pytest imports every package
above a test file (as `<checkout>.alma_standin.tests.test_…`, starting with the add-on itself).
With this plugin (enabled by `alma_standin/pytest.ini`) folders are plain folders and test
files are imported under their real name, `alma_standin.tests.test_…`.
"""

import importlib
from pathlib import Path

import pytest

IMPORT_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds alma_standin/


def pytest_collect_directory(path: Path, parent: pytest.Collector):
    if (path / "__init__.py").is_file():
        return pytest.Dir.from_parent(parent, path=path)
    return None


class StandInTestModule(pytest.Module):
    def _getobj(self):
        relative = self.path.resolve().relative_to(IMPORT_ROOT).with_suffix("")
        return importlib.import_module(".".join(relative.parts))


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector):
    return StandInTestModule.from_parent(parent, path=module_path)
