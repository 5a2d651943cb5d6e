"""Finding job classes, and registering them into the database.

Job families are the sub-packages of ``jobs`` (``jobs.utilities``,
``jobs.gamera``, ...), the packages named in ``RODAN_JOB_PACKAGES``, and any
installed distribution's ``rodan.jobs`` entry point. Discovery only imports
code: a family whose import fails (Gamera missing, say) is reported as
unavailable with the reason, and the others carry on. Writing the Job rows is
``register_jobs``, run explicitly after ``migrate``; it is idempotent.
"""

import functools
import importlib
import importlib.metadata
import inspect
import logging
import pkgutil
from dataclasses import dataclass, field

import jsonschema

from django.conf import settings as django_settings
from django.db import transaction

from rodan.jobs.base import DEFAULT_QUEUE, RodanTask
from rodan.resource_types import RESOURCE_TYPES, expand_resource_types

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "rodan.jobs"
DEFAULT_SETTINGS = {"job_queue": DEFAULT_QUEUE, "type": "object"}


@dataclass
class Family:
    """One job package: its jobs when it imported, or why it did not."""

    package: str
    version: str = "n/a"
    jobs: dict = field(default_factory=dict)
    error: str = ""

    @property
    def available(self):
        return not self.error


@dataclass
class Registry:
    families: dict = field(default_factory=dict)
    jobs: dict = field(default_factory=dict)
    #: Jobs refused because their metadata is malformed: name -> reason.
    rejected: dict = field(default_factory=dict)

    def job_class(self, name):
        """The class of job ``name``; LookupError naming the family when it is unavailable."""
        if name in self.jobs:
            return self.jobs[name]
        missing = [f"{f.package} ({f.error})" for f in self.families.values() if not f.available]
        hint = f"; unavailable job families here: {', '.join(missing)}" if missing else ""
        raise LookupError(f'job "{name}" is not installed on this worker{hint}')


def _family_packages():
    """(package name, loader) for every job family, in a stable order."""
    import jobs

    found = [(f"jobs.{info.name}", None) for info in pkgutil.iter_modules(jobs.__path__) if info.ispkg]
    found += [(name, None) for name in django_settings.RODAN_JOB_PACKAGES]
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.append((entry_point.value.split(":")[0], entry_point.load))
    return found


def _modules_of(package):
    """The package and all its submodules, test modules excepted."""
    yield package
    for info in pkgutil.walk_packages(getattr(package, "__path__", []), prefix=package.__name__ + "."):
        leaf = info.name.rsplit(".", 1)[-1]
        if leaf == "tests" or leaf.startswith("test_") or ".tests." in info.name:
            continue
        yield importlib.import_module(info.name)


def _package_version(package):
    version = getattr(package, "__version__", None)
    if version:
        return str(version)
    try:
        return importlib.metadata.version(package.__name__.split(".")[0])
    except importlib.metadata.PackageNotFoundError:
        return "n/a"


def check_job_metadata(cls):
    """Raise ValueError when a job class's declared metadata cannot be registered."""
    if not cls.name or not isinstance(cls.name, str):
        raise ValueError("a job needs a non-empty string name")
    if cls.settings is not None:
        if not isinstance(cls.settings, dict):
            raise ValueError("settings must be a JSON Schema object")
        try:
            jsonschema.Draft4Validator.check_schema(cls.settings)
        except jsonschema.SchemaError as exc:
            raise ValueError(f"settings are not a Draft-4 JSON Schema: {exc.message}") from None
    queue = cls.job_queue()
    if not isinstance(queue, str) or not queue or len(queue) > 50:
        raise ValueError("settings' job_queue must be a queue name of 1 to 50 characters")
    limits = {}
    for attribute in ("soft_time_limit", "time_limit"):
        value = getattr(cls, attribute, None)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise ValueError(f"{attribute} must be a whole number of seconds above 0, or None")
        limits[attribute] = value
    if None not in limits.values() and limits["time_limit"] <= limits["soft_time_limit"]:
        raise ValueError("time_limit must be longer than soft_time_limit")
    for direction in ("input_port_types", "output_port_types"):
        names = set()
        for port in getattr(cls, direction) or []:
            for key in ("name", "minimum", "maximum", "resource_types"):
                if key not in port:
                    raise ValueError(f"{direction} entry {port.get('name')!r} lacks {key!r}")
            if port["name"] in names:
                raise ValueError(f"{direction} has two ports named {port['name']!r}")
            names.add(port["name"])
            expand_resource_types(port["resource_types"])


def _load_family(package_name, loader):
    family = Family(package=package_name)
    try:
        package = loader() if loader else importlib.import_module(package_name)
        family.version = _package_version(package)
        for module in _modules_of(package):
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, RodanTask) and cls.__module__ == module.__name__ and cls.name:
                    family.jobs[cls.name] = cls
    except Exception as exc:  # any import failure makes just this family unavailable
        family.error = f"{type(exc).__name__}: {exc}"
        family.jobs = {}
        logger.warning("job family %s is unavailable: %s", package_name, family.error)
    return family


@functools.cache
def get_registry():
    """Import every job family once per process and index their jobs by name."""
    registry = Registry()
    for package_name, loader in _family_packages():
        family = _load_family(package_name, loader)
        registry.families[package_name] = family
        for name, cls in family.jobs.items():
            try:
                check_job_metadata(cls)
                if name in registry.jobs:
                    raise ValueError(f"the name is already taken by {registry.jobs[name].__module__}")
            except ValueError as exc:
                registry.rejected[name] = f"{cls.__module__}.{cls.__qualname__}: {exc}"
                logger.warning("job %r not registered: %s", name, registry.rejected[name])
                continue
            registry.jobs[name] = cls
    return registry


def register_resource_types():
    from rodan.models import ResourceType

    for mimetype, description, extension in RESOURCE_TYPES:
        ResourceType.objects.update_or_create(
            mimetype=mimetype, defaults={"description": description, "extension": extension}
        )


def _register_ports(job, port_model, declared, types_by_mimetype):
    kept = []
    for port in declared:
        row, _ = port_model.objects.update_or_create(
            job=job,
            name=port["name"],
            defaults={
                "minimum": port["minimum"],
                "maximum": port["maximum"],
                "is_list": bool(port.get("is_list", False)),
            },
        )
        row.resource_types.set([types_by_mimetype[m] for m in expand_resource_types(port["resource_types"])])
        kept.append(row.pk)
    port_model.objects.filter(job=job).exclude(pk__in=kept).delete()


@transaction.atomic
def register_jobs():
    """Write resource types, jobs and port types to the database; safe to run again.

    Jobs of an unavailable family keep their rows as they are (its workers may
    have it); jobs that vanished from an available family are disabled.
    Returns the registry that was written.
    """
    from rodan.models import InputPortType, Job, OutputPortType, ResourceType

    registry = get_registry()
    register_resource_types()
    types_by_mimetype = {t.mimetype: t for t in ResourceType.objects.all()}
    for name, cls in registry.jobs.items():
        family = registry.families[next(p for p, f in registry.families.items() if name in f.jobs)]
        job_settings = cls.settings if cls.settings is not None else dict(DEFAULT_SETTINGS)
        job, _ = Job.objects.update_or_create(
            name=name,
            defaults={
                "author": cls.author or "",
                "description": cls.description or "",
                "category": cls.category or "",
                "enabled": bool(cls.enabled),
                "interactive": bool(cls.interactive),
                "settings": job_settings,
                "job_queue": cls.job_queue(),
                # What dispatch reads: it never imports the job's code (see models.Job).
                "soft_time_limit": cls.soft_time_limit,
                "time_limit": cls.time_limit,
                "package": family.package,
                "version": family.version,
            },
        )
        _register_ports(job, InputPortType, cls.input_port_types or [], types_by_mimetype)
        _register_ports(job, OutputPortType, cls.output_port_types or [], types_by_mimetype)
    available = [p for p, f in registry.families.items() if f.available]
    Job.objects.filter(package__in=available).exclude(name__in=registry.jobs).update(enabled=False)
    return registry


def register_after_migrate(sender, **kwargs):
    """post_migrate hook: registration is part of ``migrate``, non-interactive."""
    register_jobs()
