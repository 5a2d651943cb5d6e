"""Where job families come from, each made importable as ``rodan.jobs.<family>``.

Rodan's packages import their own modules as ``rodan.jobs.<package>.<module>``,
so every family must live in that namespace: the sub-packages of the house
folder (``jobs/``) and of each ``RODAN_JOB_PATH`` folder become sub-packages
of ``rodan.jobs`` by joining its search path, and an installed distribution's
``rodan.jobs`` entry point ``<name> = <package>`` is imported as
``rodan.jobs.<name>``. Packages named in ``RODAN_JOB_PACKAGES`` keep their own
importable name.
"""

import importlib
import importlib.metadata
import importlib.util
import os
import pkgutil
import sys
from dataclasses import dataclass

from django.conf import settings

import rodan.jobs

ENTRY_POINT_GROUP = "rodan.jobs"
NAMESPACE = "rodan.jobs"


@dataclass
class Source:
    """One family to load: its package name and how to import it, or why it cannot be."""

    package: str
    importer: object = None
    error: str = ""


def configured_folders():
    """The ``RODAN_JOB_PATH`` folders, absolute, in order."""
    return [os.path.abspath(folder) for folder in settings.RODAN_JOB_PATH]


def mount():
    """Make the search path of ``rodan.jobs`` its own folder, the house families and ``RODAN_JOB_PATH``.

    Set from the settings each time (never appended to twice), so a changed
    setting is followed when the registry is rebuilt.
    """
    own = os.path.dirname(os.path.abspath(rodan.jobs.__file__))
    rodan.jobs.__path__[:] = list(dict.fromkeys([own, rodan.jobs.HOUSE_FAMILIES, *configured_folders()]))


def _framework_names():
    """Names under ``rodan.jobs`` the framework itself uses: no family may take them."""
    own = os.path.dirname(os.path.abspath(rodan.jobs.__file__))
    return {info.name: os.path.join(own, info.name) for info in pkgutil.iter_modules([own])}


def _folder_sources(taken):
    sources = []
    for folder in [rodan.jobs.HOUSE_FAMILIES, *configured_folders()]:
        if not os.path.isdir(folder):
            sources.append(Source(package=folder, error="the job folder does not exist"))
            continue
        for info in pkgutil.iter_modules([folder]):
            if not info.ispkg:
                continue
            here = os.path.join(folder, info.name)
            if info.name in taken:
                sources.append(Source(package=here, error=f"rodan.jobs.{info.name} is already {taken[info.name]}"))
                continue
            taken[info.name] = here
            sources.append(Source(package=f"{NAMESPACE}.{info.name}"))
    return sources


def import_entry_point(entry_point):
    """Import the package an entry point names as ``rodan.jobs.<entry point name>``; return it."""
    name = f"{NAMESPACE}.{entry_point.name}"
    if name in sys.modules:
        return sys.modules[name]
    found = importlib.util.find_spec(entry_point.module)
    if found is None or not found.submodule_search_locations:
        raise ImportError(f"entry point {entry_point.name} = {entry_point.value} does not name a package")
    spec = importlib.util.spec_from_file_location(
        name, found.origin, submodule_search_locations=list(found.submodule_search_locations)
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _entry_point_sources(taken):
    sources = []
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name in taken:
            reason = f"rodan.jobs.{entry_point.name} is already {taken[entry_point.name]}"
            sources.append(Source(package=f"entry point {entry_point.value}", error=reason))
            continue
        taken[entry_point.name] = f"entry point {entry_point.value}"
        sources.append(Source(package=f"{NAMESPACE}.{entry_point.name}", importer=lambda ep=entry_point: import_entry_point(ep)))
    return sources


def family_sources():
    """Every family in a stable order: house, ``RODAN_JOB_PATH``, ``RODAN_JOB_PACKAGES``, entry points.

    A folder whose name is already taken (by the framework or an earlier
    folder) comes with the reason instead of an importer.
    """
    mount()
    taken = _framework_names()
    sources = _folder_sources(taken)
    known = {source.package for source in sources}
    sources += [Source(package=name) for name in settings.RODAN_JOB_PACKAGES if name not in known]
    sources += _entry_point_sources(taken)
    return sources
