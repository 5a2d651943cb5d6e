"""Building test data the way users do: upload files, import a workflow, run it."""

import time
import uuid
from pathlib import Path

from django.contrib.auth import get_user_model

from rodan import storage
from rodan.engine.expansion import create_run
from rodan.engine.serialization import import_workflow
from rodan.engine.validation import validate_workflow
from rodan.models import InputPort, Project, Resource, ResourceType, RunJob

STEP = "Test - Text step"


def make_project(name=None):
    user = get_user_model().objects.create_user(f"user-{uuid.uuid4().hex[:8]}", f"{uuid.uuid4().hex[:8]}@example.org", "pw")
    return Project.objects.create(name=name or "test project", creator=user)


def upload(project, path_or_text, name=None, mimetype="text/plain"):
    """A ready Resource from a file path, or from text content."""
    resource = Resource.objects.create(
        name=name or "page", project=project, resource_type=ResourceType.objects.get(mimetype=mimetype)
    )
    if isinstance(path_or_text, Path):
        storage.store_copy(resource, path_or_text)
    else:
        storage.store_stream(resource, [path_or_text.encode()])
    resource.save()
    return resource


def chain_document(steps, job_name=STEP, in_port="Text input", out_port="Text output", name="chain"):
    """A serialized workflow of ``len(steps)`` jobs in a line, each with the given settings.

    ``job_name``, ``in_port`` and ``out_port`` are one value for every job or a list, one per job.
    """
    jobs, connections, next_id = [], [], 1
    for index, settings in enumerate(steps):
        name = job_name[index] if isinstance(job_name, list) else job_name
        inp = in_port[index] if isinstance(in_port, list) else in_port
        out = out_port[index] if isinstance(out_port, list) else out_port
        jobs.append(
            {
                "job_name": name,
                "job_settings": settings,
                "input_ports": [{"label": inp, "type": inp, "id": next_id}],
                "output_ports": [{"label": out, "type": out, "id": next_id + 1}],
                "appearance": {"x": index, "y": 0},
            }
        )
        if index:
            connections.append({"output_port": next_id - 1, "input_port": next_id})
        next_id += 2
    return {"__version__": 0.2, "name": name, "description": "", "workflow_jobs": jobs, "connections": connections}


def _share_a_type(declared, wanted):
    """Whether two ports' resource types meet; a callable (Rodan's "any type") meets everything."""
    return callable(declared) or callable(wanted) or bool(set(declared) & set(wanted))


def graph_document(nodes, name="graph"):
    """A serialized workflow of registered jobs, wired by port types.

    ``nodes`` maps a key to ``(job_name, settings, feeds)`` or ``(job_name,
    settings, feeds, optional_outputs)``; ``feeds`` maps an input port type
    name to the key of the node feeding it, through that job's first output
    port type sharing a resource type with the input, or to None for an open
    input of the workflow. Every output port type a job must have, every one
    that feeds another job and every one named in ``optional_outputs`` gets
    one port.
    """
    from rodan.jobs.registry import get_registry

    jobs = get_registry().jobs
    ids = iter(range(1, 10_000))
    out_ids, connections, entries = {}, [], []

    def out_port(key, resource_types):
        source = jobs[nodes[key][0]]
        (port_type,) = [p for p in source.output_port_types if _share_a_type(p["resource_types"], resource_types)][:1]
        return out_ids.setdefault((key, port_type["name"]), next(ids))

    for key, (job_name, settings, feeds, *optional) in nodes.items():
        for port_name in optional[0] if optional else ():
            out_ids.setdefault((key, port_name), next(ids))
        input_ports = []
        for port_type in jobs[job_name].input_port_types:
            if port_type["name"] not in feeds:
                continue
            port_id = next(ids)
            input_ports.append({"label": port_type["name"], "type": port_type["name"], "id": port_id})
            if feeds[port_type["name"]] is not None:
                connections.append({"output_port": out_port(feeds[port_type["name"]], port_type["resource_types"]), "input_port": port_id})
        entries.append((key, job_name, settings, input_ports))
    documents = []
    for index, (key, job_name, settings, input_ports) in enumerate(entries):
        for port_type in jobs[job_name].output_port_types:
            if port_type["minimum"] >= 1:
                out_ids.setdefault((key, port_type["name"]), next(ids))
        output_ports = [{"label": port, "type": port, "id": pid} for (k, port), pid in out_ids.items() if k == key]
        documents.append(
            {
                "job_name": job_name,
                "job_settings": settings,
                "input_ports": input_ports,
                "output_ports": output_ports,
                "appearance": {"x": index, "y": 0},
            }
        )
    return {"__version__": 0.2, "name": name, "description": "", "workflow_jobs": documents, "connections": connections}


def step_settings(tag, **extra):
    return {"Tag": tag, "Sleep": 0, "Ledger": "", "Fail unless exists": "", "Mode": "append", **extra}


def valid_workflow(project, doc):
    workflow = import_workflow(project, doc)
    validate_workflow(workflow)
    return workflow


def run_over(workflow, resources):
    """Start a run with ``resources`` on the workflow's single open input port."""
    port = InputPort.objects.get(workflow_job__workflow=workflow, extern=True)
    return create_run(workflow, {port: list(resources)})


def wait_for(predicate, timeout=60, what="condition", interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def wait_run(run, statuses, timeout=90):
    def reached():
        run.refresh_from_db()
        return run.status in statuses

    summary = lambda: [(rj.job_name, rj.status, rj.error_summary) for rj in RunJob.objects.filter(workflow_run=run)]  # noqa: E731
    try:
        wait_for(reached, timeout, f"run status in {statuses}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; run status {run.status}; RunJobs {summary()}") from None
    return run


def output_texts(run, job_name=None):
    """{chain resource name (or job name): text} of the run's finished end outputs."""
    texts = {}
    for run_job in RunJob.objects.filter(workflow_run=run).prefetch_related("outputs__resource"):
        for output in run_job.outputs.all():
            consumed = output.resource.inputs.exists()
            if output.resource.is_ready and not consumed and (job_name in (None, run_job.job_name)):
                texts[output.resource.name] = Path(storage.absolute_path(output.resource)).read_text()
    return texts
