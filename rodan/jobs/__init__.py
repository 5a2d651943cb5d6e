"""The job framework (base class, registry, families) and the namespace every job family lives in.

Every family is importable as ``rodan.jobs.<family>``, as Rodan's own packages
expect. The house families (the ``jobs/`` folder beside this package) are on
this package's search path from the start: that is a declaration of where
its sub-packages are, computed from this file's location, reading nothing.
The folders of ``RODAN_JOB_PATH`` and installed entry points join when the
registry loads (``rodan.jobs.families.mount``), since they come from settings.

Rodan job packages call ``module_loader`` from their ``__init__`` to import
their job modules; it keeps Rodan's signature so such packages run unchanged.
"""

import importlib
import os

HOUSE_FAMILIES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "jobs")
__path__.append(HOUSE_FAMILIES)  # noqa: F821 - a package's own search path


def module_loader(name, callback=lambda module: None):
    """Import module ``name`` and hand it to ``callback`` (Rodan's package convention)."""
    module = importlib.import_module(name)
    callback(module)
    return module
