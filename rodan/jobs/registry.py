"""Finding job classes, and registering them into the database.

Job families come from ``rodan.jobs.families``: the house families (``jobs/``)
and those of ``RODAN_JOB_PATH`` folders and entry points, all imported as
``rodan.jobs.<family>``, and the packages named in ``RODAN_JOB_PACKAGES``.
Discovery only imports code and reads each family's ``resource_types.yaml``:
a family whose import or type file fails (Gamera missing, say) is reported
as unavailable with the reason and contributes nothing, and the others
carry on. Writing the rows is ``register_jobs``, run explicitly after
``migrate``; it is idempotent.
"""

import functools
import hashlib
import importlib
import importlib.metadata
import inspect
import json
import logging
import os
import pkgutil
from dataclasses import dataclass, field

import jsonschema

from django.conf import settings as django_settings
from django.db import transaction

from rodan.jobs.base import DEFAULT_QUEUE, RodanTask
from rodan.jobs.families import family_sources
from rodan.resource_types import MIMETYPES, RESOURCE_TYPES, expand_resource_types, read_declarations

logger = logging.getLogger(__name__)

DEFAULT_SETTINGS = {"job_queue": DEFAULT_QUEUE, "type": "object"}


@dataclass
class Family:
    """One job package: its jobs when it imported, or why it did not."""

    package: str
    version: str = "n/a"
    jobs: dict = field(default_factory=dict)
    #: Its ``resource_types.yaml``: (mimetype, description, extension) entries.
    resource_types: list = field(default_factory=list)
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
    #: mimetype -> (description, extension): the built-in types, then those families declare.
    resource_types: dict = field(default_factory=lambda: {m: (d, e) for m, d, e in RESOURCE_TYPES})

    def job_class(self, name):
        """The class of job ``name``; LookupError naming the family when it is unavailable."""
        if name in self.jobs:
            return self.jobs[name]
        missing = [f"{f.package} ({f.error})" for f in self.families.values() if not f.available]
        hint = f"; unavailable job families here: {', '.join(missing)}" if missing else ""
        raise LookupError(f'job "{name}" is not installed on this worker{hint}')


def _modules_of(package):
    """The package and all its submodules, test modules excepted."""
    yield package
    for info in pkgutil.walk_packages(getattr(package, "__path__", []), prefix=package.__name__ + "."):
        leaf = info.name.rsplit(".", 1)[-1]
        if leaf == "tests" or leaf.startswith("test_") or leaf.endswith("_test") or ".tests." in info.name:
            continue
        yield importlib.import_module(info.name)


def _package_version(package):
    version = getattr(package, "__version__", None)
    if version:
        return str(version)
    if package.__name__.startswith("rodan.jobs."):
        return "n/a"  # a folder family: the rodan distribution's version is not its own
    try:
        return importlib.metadata.version(package.__name__.split(".")[0])
    except importlib.metadata.PackageNotFoundError:
        return "n/a"


def check_job_metadata(cls, known=MIMETYPES):
    """Raise ValueError when a job class's declared metadata cannot be registered.

    ``known`` are the registered mimetypes a port may name (families add theirs).
    """
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
            expand_resource_types(port["resource_types"], known)


def _declared_types(package):
    """The entries of the package's ``resource_types.yaml``, if it has one."""
    for folder in getattr(package, "__path__", [])[:1]:
        path = os.path.join(folder, "resource_types.yaml")
        if os.path.exists(path):
            return read_declarations(path)
    return []


def _load_family(package_name, importer=None):
    """Import one family, collect its jobs and resource types; on any failure, only the reason."""
    family = Family(package=package_name)
    try:
        package = importer() if importer else importlib.import_module(package_name)
        family.version = _package_version(package)
        for module in _modules_of(package):
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, RodanTask) and cls.__module__ == module.__name__ and cls.name:
                    family.jobs[cls.name] = cls
        family.resource_types = _declared_types(package)
    except Exception as exc:  # any import failure makes just this family unavailable
        family.error = f"{type(exc).__name__}: {exc}"
        family.jobs, family.resource_types = {}, []
        logger.warning("job family %s is unavailable: %s", package_name, family.error)
    return family


@functools.cache
def get_registry():
    """Import every job family once per process and index their jobs by name."""
    registry = Registry()
    for source in family_sources():
        if source.error:
            logger.warning("job family %s is unavailable: %s", source.package, source.error)
            family = Family(package=source.package, error=source.error)
        else:
            family = _load_family(source.package, source.importer)
        registry.families[source.package] = family
        for mimetype, description, extension in family.resource_types:
            registry.resource_types.setdefault(mimetype, (description, extension))
        for name, cls in family.jobs.items():
            try:
                check_job_metadata(cls, list(registry.resource_types))
                if name in registry.jobs:
                    raise ValueError(f"the name is already taken by {registry.jobs[name].__module__}")
            except ValueError as exc:
                registry.rejected[name] = f"{cls.__module__}.{cls.__qualname__}: {exc}"
                logger.warning("job %r not registered: %s", name, registry.rejected[name])
                continue
            registry.jobs[name] = cls
    return registry


def register_resource_types(registry):
    """Write the built-in types and those the families declare (the first declaration of a type wins)."""
    from rodan.models import ResourceType

    for mimetype, (description, extension) in registry.resource_types.items():
        ResourceType.objects.update_or_create(
            mimetype=mimetype, defaults={"description": description, "extension": extension}
        )


def _port_rows(declared, mimetypes):
    return [
        {
            "name": port["name"],
            "minimum": port["minimum"],
            "maximum": port["maximum"],
            "is_list": bool(port.get("is_list", False)),
            "resource_types": expand_resource_types(port["resource_types"], mimetypes),
        }
        for port in declared or []
    ]


def declarations(registry):
    """What ``register_jobs`` writes, as plain data: {job name: (Job fields, input ports, output ports)}."""
    mimetypes = list(registry.resource_types)
    rows = {}
    for name, cls in registry.jobs.items():
        # The first family declaring the name: a later one's job of that name was rejected.
        family = next(f for f in registry.families.values() if name in f.jobs)
        fields = {
            "author": cls.author or "",
            "description": cls.description or "",
            "category": cls.category or "",
            "enabled": bool(cls.enabled),
            "interactive": bool(cls.interactive),
            "settings": cls.settings if cls.settings is not None else dict(DEFAULT_SETTINGS),
            "job_queue": cls.job_queue(),
            # What dispatch reads: it never imports the job's code (see models.Job).
            "soft_time_limit": cls.soft_time_limit,
            "time_limit": cls.time_limit,
            "package": family.package,
            "version": family.version,
        }
        rows[name] = (fields, _port_rows(cls.input_port_types, mimetypes), _port_rows(cls.output_port_types, mimetypes))
    return rows


def fingerprint(registry):
    """A digest of everything registration writes: equal digests, equal job tables."""
    data = {"resource_types": registry.resource_types, "jobs": declarations(registry)}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=repr).encode()).hexdigest()


def _register_ports(job, port_model, rows, types_by_mimetype):
    kept = []
    for port in rows:
        row, _ = port_model.objects.update_or_create(
            job=job,
            name=port["name"],
            defaults={"minimum": port["minimum"], "maximum": port["maximum"], "is_list": port["is_list"]},
        )
        row.resource_types.set([types_by_mimetype[m] for m in port["resource_types"]])
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
    register_resource_types(registry)
    types_by_mimetype = {t.mimetype: t for t in ResourceType.objects.filter(mimetype__in=registry.resource_types)}
    for name, (fields, inputs, outputs) in declarations(registry).items():
        job, _ = Job.objects.update_or_create(name=name, defaults=fields)
        _register_ports(job, InputPortType, inputs, types_by_mimetype)
        _register_ports(job, OutputPortType, outputs, types_by_mimetype)
    available = [p for p, f in registry.families.items() if f.available]
    Job.objects.filter(package__in=available).exclude(name__in=registry.jobs).update(enabled=False)
    return registry


def register_after_migrate(sender, **kwargs):
    """post_migrate hook: registration is part of ``migrate``, non-interactive."""
    register_jobs()
