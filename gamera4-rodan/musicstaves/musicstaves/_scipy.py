"""SciPy's ``ndimage``, imported when first used.

Importing it takes about a third of a second, longer than finding and
removing the staves of most pages, and a program that only lists what the
toolkit offers (Rodan's job registry, ``rodan jobs``) never calls it.
"""

import importlib.util
import sys


def _on_first_use(name):
    """The module ``name``, executed at its first attribute access (``importlib.util.LazyLoader``)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


ndimage = _on_first_use("scipy.ndimage")
