"""Rodan's workflow document (rodan-compat.md §5.1): export 0.2, import 0.1 and 0.2."""

from django.db import transaction

from rodan.engine.validation import settings_errors
from rodan.models import Connection, InputPort, Job, OutputPort, Workflow, WorkflowJob
from rodan.models.workflow import default_appearance

EXPORT_VERSION = 0.2
SUPPORTED_VERSIONS = (0.1, 0.2)


class SerializationError(Exception):
    """An unusable document; ``detail`` is Rodan's message (a string or ``{path: msg}``)."""

    def __init__(self, detail):
        super().__init__(str(detail))
        self.detail = detail


def export_workflow(workflow):
    counter = 0
    ids = {}
    jobs = []
    for wfj in workflow.workflow_jobs.select_related("job").order_by("created", "uuid"):
        ports = {}
        for key, related, type_attr in (
            ("input_ports", wfj.input_ports, "input_port_type"),
            ("output_ports", wfj.output_ports, "output_port_type"),
        ):
            ports[key] = []
            for port in related.select_related(type_attr).order_by("uuid"):
                counter += 1
                ids[port.pk] = counter
                ports[key].append({"label": port.label, "type": getattr(port, type_attr).name, "id": counter})
        jobs.append(
            {
                "job_name": wfj.job.name,
                "job_settings": wfj.job_settings,
                "input_ports": ports["input_ports"],
                "output_ports": ports["output_ports"],
                "appearance": wfj.appearance,
            }
        )
    connections = [
        {"output_port": ids[c.output_port_id], "input_port": ids[c.input_port_id]}
        for c in Connection.objects.filter(input_port__workflow_job__workflow=workflow)
        if c.output_port_id in ids and c.input_port_id in ids
    ]
    return {
        "__version__": EXPORT_VERSION,
        "name": workflow.name,
        "description": workflow.description or "",
        "workflow_jobs": jobs,
        "connections": connections,
    }


def _require(mapping, keys, path):
    if not isinstance(mapping, dict):
        raise SerializationError({path or "document": "This field must be a JSON object."})
    for key in keys:
        if key not in mapping:
            raise SerializationError({f"{path}.{key}" if path else key: "This field is required."})


def _require_type(value, kinds, path, what):
    """Refuse a value of the wrong JSON type (booleans are not numbers here)."""
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        raise SerializationError({path: f"This field must be {what}."})


def _check_port(port, path, types, seen, word, job):
    _require(port, ["type", "id", "label"], path)
    _require_type(port["type"], (str,), f"{path}.type", "a string")
    _require_type(port["id"], (int, float), f"{path}.id", "a number")
    _require_type(port["label"], (str,), f"{path}.label", "a string")
    if port["type"] not in types:
        raise SerializationError({f"{path}.type": f"{word} type {port['type']} does not exist for job {job.name}."})
    if port["id"] in seen:
        raise SerializationError({f"{path}.id": f"Duplicate {word} ID found."})
    seen.add(port["id"])


def _check_document(doc):
    """Validate the document completely before anything is written; return resolved jobs."""
    if not isinstance(doc, dict):
        raise SerializationError("This field must be a JSON object.")
    if "__version__" not in doc:
        raise SerializationError("Please provide the version of serialization format.")
    if doc["__version__"] not in SUPPORTED_VERSIONS:
        raise SerializationError(f"Unsupported version of serialization format: {doc['__version__']}")
    _require(doc, ["name", "description", "workflow_jobs", "connections"], "")
    _require_type(doc["name"], (str,), "name", "a string")
    _require_type(doc["description"], (str, type(None)), "description", "a string")
    _require_type(doc["workflow_jobs"], (list,), "workflow_jobs", "a list")
    _require_type(doc["connections"], (list,), "connections", "a list")
    input_ids, output_ids, jobs = set(), set(), []
    for index, entry in enumerate(doc["workflow_jobs"]):
        path = f"workflow_jobs[{index}]"
        _require(entry, ["job_name", "job_settings", "input_ports", "output_ports"], path)
        _require_type(entry["job_name"], (str,), f"{path}.job_name", "a string")
        _require_type(entry["job_settings"], (dict,), f"{path}.job_settings", "a JSON object")
        for key in ("input_ports", "output_ports"):
            _require_type(entry[key], (list,), f"{path}.{key}", "a list")
        job = Job.objects.filter(name=entry["job_name"]).first()
        if job is None:
            raise SerializationError({f"{path}.job_name": f"Job {entry['job_name']} does not exist in current Rodan installation."})
        errors = settings_errors(job.settings, entry["job_settings"])
        if errors:
            raise SerializationError({f"{path}.job_settings": f"Invalid settings: {errors[0]}"})
        types = {
            "input_ports": {t.name: t for t in job.input_port_types.all()},
            "output_ports": {t.name: t for t in job.output_port_types.all()},
        }
        for key, seen, word in (("input_ports", input_ids, "InputPort"), ("output_ports", output_ids, "OutputPort")):
            for port_index, port in enumerate(entry[key]):
                _check_port(port, f"{path}.{key}[{port_index}]", types[key], seen, word, job)
        jobs.append((entry, job, types))
    for index, connection in enumerate(doc["connections"]):
        path = f"connections[{index}]"
        _require(connection, ["output_port", "input_port"], path)
        for key in ("output_port", "input_port"):
            _require_type(connection[key], (int, float), f"{path}.{key}", "a number")
        if connection["input_port"] not in input_ids:
            raise SerializationError({f"{path}.input_port": "Referencing an invalid InputPort ID."})
        if connection["output_port"] not in output_ids:
            raise SerializationError({f"{path}.output_port": "Referencing an invalid OutputPort ID."})
    return jobs


@transaction.atomic
def import_workflow(project, doc, creator=None, name=None):
    """Create a (not yet valid) workflow in ``project`` from a serialized document."""
    jobs = _check_document(doc)
    workflow = Workflow.objects.create(
        project=project, name=(name or doc["name"])[:100], description=doc["description"] or "", creator=creator
    )
    inputs, outputs = {}, {}
    for entry, job, types in jobs:
        wfj = WorkflowJob.objects.create(
            workflow=workflow,
            job=job,
            job_settings=entry["job_settings"],
            name=job.name.rsplit(".", 1)[-1],
            appearance=entry.get("appearance") or default_appearance(),
        )
        for port in entry["input_ports"]:
            inputs[port["id"]] = InputPort.objects.create(
                workflow_job=wfj, input_port_type=types["input_ports"][port["type"]], label=port["label"]
            )
        for port in entry["output_ports"]:
            outputs[port["id"]] = OutputPort.objects.create(
                workflow_job=wfj, output_port_type=types["output_ports"][port["type"]], label=port["label"]
            )
    for connection in doc["connections"]:
        Connection.objects.create(input_port=inputs[connection["input_port"]], output_port=outputs[connection["output_port"]])
    return workflow
