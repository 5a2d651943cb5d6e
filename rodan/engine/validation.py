"""Workflow validation with Rodan's error codes (rodan-compat.md §2.7).

``validate_workflow`` runs the checks in Rodan's order and raises
``WorkflowInvalid`` for the first failure; on success it recomputes every
port's ``extern`` flag and marks the workflow valid.
"""

from collections import Counter, defaultdict

import jsonschema
from django.db import transaction

from rodan.models import Connection, InputPort, OutputPort

NO_OUTPUT_EXEMPT_JOBS = {"Labeler"}


class WorkflowInvalid(Exception):
    """A failed check: ``error_code``, human ``details``, and the objects involved."""

    def __init__(self, error_code, detail, associated_objects=None):
        super().__init__(f"{error_code}: {detail}")
        self.error_code = error_code
        self.details = [detail]
        #: {"workflowjobs"|"inputports"|"outputports"|...: [model instances]}
        self.associated_objects = associated_objects or {}


def settings_errors(schema, job_settings):
    """Draft-4 validation messages of ``job_settings`` against a job's schema.

    A setting the schema does not name is an error too (a misspelt name would
    otherwise be silently ignored); ``@`` keys are the job's own state.
    """
    validator = jsonschema.Draft4Validator(schema or {})
    errors = [error.message for error in validator.iter_errors(job_settings)]
    known = (schema or {}).get("properties")
    if isinstance(job_settings, dict) and isinstance(known, dict):
        for key in job_settings:
            if key not in known and not key.startswith("@"):
                names = ", ".join(f"'{name}'" for name in known) or "none"
                errors.append(f"Unknown setting '{key}' (the job's settings are: {names})")
    return errors


def _check_workflow_job(wfj):
    job = wfj.job
    output_ports = list(wfj.output_ports.all())
    if not output_ports and job.name not in NO_OUTPUT_EXEMPT_JOBS:
        raise WorkflowInvalid("WFJ_NO_OP", f"The WorkflowJob {wfj} has no OutputPorts.", {"workflowjobs": [wfj]})
    for direction, ports, type_attr, word in (
        ("IP", wfj.input_ports.all(), "input_port_type", "InputPorts"),
        ("OP", output_ports, "output_port_type", "OutputPorts"),
    ):
        counts = Counter(getattr(port, f"{type_attr}_id") for port in ports)
        for port_type in getattr(job, f"{type_attr}s").all():
            count = counts.get(port_type.pk, 0)
            if count < port_type.minimum:
                raise WorkflowInvalid(
                    f"WFJ_TOO_FEW_{direction}",
                    f"The WorkflowJob {wfj} has too few {word} of type {port_type.name}.",
                    {"workflowjobs": [wfj], f"{type_attr.replace('_', '')}s": [port_type]},
                )
            if port_type.maximum and count > port_type.maximum:
                raise WorkflowInvalid(
                    f"WFJ_TOO_MANY_{direction}",
                    f"The WorkflowJob {wfj} has too many {word} of type {port_type.name}.",
                    {"workflowjobs": [wfj], f"{type_attr.replace('_', '')}s": [port_type]},
                )
    errors = settings_errors(job.settings, wfj.job_settings)
    if errors:
        raise WorkflowInvalid(
            "WFJ_INVALID_SETTINGS", f"The WorkflowJob {wfj} has invalid settings: {errors[0]}", {"workflowjobs": [wfj]}
        )


def _check_ports(workflow):
    input_ports = InputPort.objects.filter(workflow_job__workflow=workflow).select_related(
        "workflow_job", "input_port_type"
    )
    for port in input_ports:
        if port.input_port_type.job_id != port.workflow_job.job_id:
            raise WorkflowInvalid(
                "IP_TYPE_MISMATCH", "The InputPort's type does not belong to its job.", {"inputports": [port]}
            )
        connections = list(port.connections.select_related("output_port__workflow_job"))
        foreign = [c for c in connections if c.output_port.workflow_job.workflow_id != workflow.pk]
        if foreign:
            raise WorkflowInvalid(
                "WF_NOT_CONNECTED",
                "The InputPort is connected to a job of another workflow.",
                {"inputports": [port], "connections": foreign},
            )
        if len(connections) > 1:
            raise WorkflowInvalid(
                "IP_TOO_MANY_CONNECTIONS", "The InputPort has more than one Connection.", {"inputports": [port]}
            )
    output_ports = OutputPort.objects.filter(workflow_job__workflow=workflow).select_related(
        "workflow_job", "output_port_type"
    )
    for port in output_ports:
        if port.output_port_type.job_id != port.workflow_job.job_id:
            raise WorkflowInvalid(
                "OP_TYPE_MISMATCH", "The OutputPort's type does not belong to its job.", {"outputports": [port]}
            )
        connections = list(port.connections.select_related("input_port__input_port_type"))
        if not connections:
            continue
        common = set(port.output_port_type.resource_types.values_list("pk", flat=True))
        for connection in connections:
            input_type = connection.input_port.input_port_type
            if input_type.is_list != port.output_port_type.is_list:
                raise WorkflowInvalid(
                    "RESOURCETYPE_LIST_CONFLICT",
                    "The OutputPort and a connected InputPort disagree on whether they carry a list.",
                    {"outputports": [port], "inputports": [connection.input_port], "connections": [connection]},
                )
            common &= set(input_type.resource_types.values_list("pk", flat=True))
        if not common:
            raise WorkflowInvalid(
                "NO_COMMON_RESOURCETYPE",
                "The OutputPort has no resource type in common with every InputPort it is connected to.",
                {"outputports": [port], "connections": connections},
            )


def job_graph(workflow_jobs, connections):
    """Edges ``upstream job pk -> {downstream job pks}`` from a workflow's connections."""
    graph = {wfj.pk: set() for wfj in workflow_jobs}
    for connection in connections:
        graph[connection.output_port.workflow_job_id].add(connection.input_port.workflow_job_id)
    return graph


def topological_order(graph):
    """Job pks upstream-first; ValueError when the graph has a cycle (Kahn's algorithm)."""
    indegree = Counter({node: 0 for node in graph})
    for targets in graph.values():
        indegree.update(targets)
    ready = [node for node in graph if indegree[node] == 0]
    order = []
    while ready:
        node = ready.pop()
        order.append(node)
        for target in graph[node]:
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    if len(order) != len(graph):
        raise ValueError("the workflow has a cycle")
    return order


def _weakly_connected(graph):
    neighbours = defaultdict(set)
    for source, targets in graph.items():
        for target in targets:
            neighbours[source].add(target)
            neighbours[target].add(source)
    start = next(iter(graph))
    seen, stack = {start}, [start]
    while stack:
        for other in neighbours[stack.pop()] - seen:
            seen.add(other)
            stack.append(other)
    return len(seen) == len(graph)


def _check_graph(workflow, workflow_jobs):
    if not workflow_jobs:
        raise WorkflowInvalid("WF_EMPTY", "The Workflow has no WorkflowJobs.")
    connections = Connection.objects.filter(input_port__workflow_job__workflow=workflow).select_related(
        "input_port", "output_port"
    )
    graph = job_graph(workflow_jobs, connections)
    try:
        topological_order(graph)
    except ValueError:
        raise WorkflowInvalid("WF_HAS_CYCLES", "The Workflow has cycles.") from None
    if not _weakly_connected(graph):
        raise WorkflowInvalid("WF_NOT_CONNECTED", "The WorkflowJobs are not all connected.")


@transaction.atomic
def validate_workflow(workflow):
    """Check ``workflow``; raise WorkflowInvalid, or mark it valid and reset ``extern``."""
    workflow_jobs = list(workflow.workflow_jobs.select_related("job"))
    for wfj in workflow_jobs:
        _check_workflow_job(wfj)
    _check_ports(workflow)
    _check_graph(workflow, workflow_jobs)
    InputPort.objects.filter(workflow_job__workflow=workflow).update(extern=False)
    InputPort.objects.filter(workflow_job__workflow=workflow, connections__isnull=True).update(extern=True)
    OutputPort.objects.filter(workflow_job__workflow=workflow).update(extern=False)
    OutputPort.objects.filter(workflow_job__workflow=workflow, connections__isnull=True).update(extern=True)
    workflow.valid = True
    workflow.save(update_fields=["valid", "updated"])
    return workflow
