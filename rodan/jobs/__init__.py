"""The job framework: the base class jobs derive from, and the job registry.

Rodan job packages call ``module_loader`` from their ``__init__`` to import
their job modules; it is kept so such packages run unchanged.
"""

import importlib


def module_loader(module_name, afterwards=None):
    """Import ``module_name`` (Rodan's package convention); call ``afterwards`` if given."""
    module = importlib.import_module(module_name)
    if afterwards is not None:
        afterwards()
    return module
