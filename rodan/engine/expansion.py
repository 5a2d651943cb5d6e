"""Turning a workflow and its resource assignments into a run (rodan-compat.md §5.2).

Each input port left unconnected gets a list of resources (or resource
lists). Ports given N > 1 items make the run a batch: every job downstream of
such a port runs once per item ("chain"), the others once for all chains. The
RunJobs, their Inputs and Outputs, and empty placeholder Resources for every
output are created here, in one transaction; scheduling starts after commit.
Rows are built in memory and inserted with one ``bulk_create`` per model
(primary keys are UUIDs made in Python, and foreign keys are checked at
commit), so a 150-RunJob batch costs a handful of queries instead of over a
thousand while the workers wait.
"""

from collections import defaultdict

from django.db import transaction

from rodan.engine.validation import job_graph, topological_order
from rodan.models import (
    Connection,
    Input,
    InputPort,
    Output,
    Resource,
    ResourceList,
    ResourceType,
    RunJob,
    WorkflowRun,
)
from rodan.models.status import RunStatus
from rodan.naming import step_name
from rodan.resource_types import MIMETYPES, OCTET_STREAM


class AssignmentError(Exception):
    """Resource assignments that cannot start a run; ``detail`` has Rodan's error shape."""

    def __init__(self, detail):
        super().__init__(str(detail))
        self.detail = detail


def _item_type(item):
    if isinstance(item, ResourceList):
        resource_type = item.resource_type
        return resource_type.mimetype if resource_type else OCTET_STREAM
    return item.resource_type.mimetype


def _item_ready(item):
    if isinstance(item, ResourceList):
        members = item.ordered_resources()
        return bool(members) and all(member.is_ready for member in members)
    return item.is_ready


def check_runnable(workflow):
    """Raise ValueError unless ``workflow`` may run: only a validated workflow does."""
    if not workflow.valid:
        raise ValueError("Workflow must be valid before you can run it.")


def check_assignments(workflow, assignments, key=str):
    """Raise AssignmentError unless ``assignments`` ({InputPort: [items]}) can start a run.

    ``key`` names objects in error messages (the API passes their URLs).
    """
    if not isinstance(assignments, dict):
        raise AssignmentError(["This field must be a JSON object"])
    unsatisfied = {
        port.pk: port
        for port in InputPort.objects.filter(workflow_job__workflow=workflow, connections__isnull=True).select_related(
            "input_port_type"
        )
    }
    lengths = {}
    for port, items in assignments.items():
        if port.pk not in unsatisfied:
            raise AssignmentError({key(port): ["Assigned InputPort must be unsatisfied"]})
        if not isinstance(items, (list, tuple)):
            raise AssignmentError({key(port): ["A list of resources or resource lists is expected"]})
        if not items:
            raise AssignmentError(["It is not allowed to assign an empty collection"])
        accepted = set(port.input_port_type.resource_types.values_list("mimetype", flat=True))
        for index, item in enumerate(items):
            wants_list = port.input_port_type.is_list
            if wants_list != isinstance(item, ResourceList):
                kind = "resource lists" if wants_list else "resources"
                raise AssignmentError({key(port): {index: [f"This InputPort takes {kind}"]}})
            if item.project_id != workflow.project_id:
                raise AssignmentError({key(port): {index: ["The resource is not in the workflow's project"]}})
            if not _item_ready(item):
                raise AssignmentError({key(port): {index: ["The resource file is not ready"]}})
            if _item_type(item) not in accepted:
                raise AssignmentError(
                    {key(port): {index: [f"The resource type {_item_type(item)} does not match the InputPort"]}}
                )
        if len(items) > 1:
            lengths[port] = len(items)
    if len(set(lengths.values())) > 1:
        first, *others = lengths
        other = next(p for p in others if lengths[p] != lengths[first])
        raise AssignmentError({key(other): [f"The number of assigned resources is not even with that of {key(first)}"]})
    missing = [port for pk, port in unsatisfied.items() if pk not in {p.pk for p in assignments}]
    if missing:
        raise AssignmentError([f"There are still unsatisfied InputPorts: {', '.join(key(p) for p in missing)}"])


def _downstream(graph, starts):
    seen, stack = set(starts), list(starts)
    while stack:
        for target in graph[stack.pop()] - seen:
            seen.add(target)
            stack.append(target)
    return seen


class _Expansion:
    """The bookkeeping of one run's expansion."""

    def __init__(self, run, workflow, assignments):
        self.run = run
        self.assignments = {port.pk: items for port, items in assignments.items()}
        self.types = {t.mimetype: t for t in ResourceType.objects.all()}
        self.workflow_jobs = {
            wfj.pk: wfj
            for wfj in workflow.workflow_jobs.select_related("job").prefetch_related(
                "input_ports__input_port_type__resource_types", "output_ports__output_port_type__resource_types"
            )
        }
        connections = list(
            Connection.objects.filter(input_port__workflow_job__workflow=workflow).select_related(
                "input_port__input_port_type", "output_port"
            )
        )
        self.graph = job_graph(self.workflow_jobs.values(), connections)
        self.source_of = {c.input_port_id: c.output_port for c in connections}
        self.consumers = defaultdict(list)
        for c in connections:
            self.consumers[c.output_port_id].append(c.input_port.input_port_type)
        batch_ports = [pk for pk, items in self.assignments.items() if len(items) > 1]
        self.chains = max((len(items) for items in self.assignments.values()), default=1)
        batch_jobs = {InputPort.objects.get(pk=pk).workflow_job_id for pk in batch_ports}
        self.per_chain = _downstream(self.graph, batch_jobs)
        # The item naming each chain: the first batch port's i-th item.
        self.chain_items = self.assignments[batch_ports[0]] if batch_ports else [None]
        self.produced = {}  # (workflow job pk, chain or None) -> {output port pk: Resource|ResourceList}
        self.rows = {model: [] for model in (RunJob, Resource, ResourceList, Output, Input)}  # in insertion order
        self._mimetypes = {}

    def mimetypes(self, port_type):
        """The mimetypes a port type takes, read once per type for the whole run."""
        key = (type(port_type), port_type.pk)
        if key not in self._mimetypes:
            self._mimetypes[key] = set(port_type.resource_types.values_list("mimetype", flat=True))
        return self._mimetypes[key]

    def output_type(self, port, input_types):
        """The port's types narrowed by every connected input; the RunJob's own input type preferred."""
        candidates = set(self.mimetypes(port.output_port_type))
        for consumer in self.consumers[port.pk]:
            candidates &= self.mimetypes(consumer)
        ordered = [m for m in MIMETYPES if m in candidates] or sorted(candidates)
        for mimetype in input_types:
            if mimetype in candidates:
                return mimetype
        return ordered[0]

    def expand(self):
        for wfj_pk in topological_order(self.graph):
            wfj = self.workflow_jobs[wfj_pk]
            chains = range(self.chains) if wfj_pk in self.per_chain else [None]
            for chain in chains:
                self.create_run_job(wfj, chain)
        for model, rows in self.rows.items():
            model.objects.bulk_create(rows)

    def create_run_job(self, wfj, chain):
        item = self.chain_items[chain] if chain is not None else None
        run_job = self.add(
            RunJob,
            workflow_run=self.run,
            workflow_job=wfj,
            workflow_job_uuid=wfj.uuid.hex,
            resource_uuid=item.uuid.hex if item is not None else None,
            job=wfj.job,
            job_name=wfj.job.name,
            job_settings=dict(wfj.job_settings or {}),
        )
        input_types = []
        for port in wfj.input_ports.all():
            if port.pk in self.assignments:
                items = self.assignments[port.pk]
                bound = items[chain] if len(items) > 1 else items[0]
            else:
                source = self.source_of[port.pk]
                source_chain = chain if source.workflow_job_id in self.per_chain else None
                bound = self.produced[(source.workflow_job_id, source_chain)][source.pk]
            input_types.append(_item_type(bound) if not isinstance(bound, ResourceList) else self._list_type(bound))
            self.add(
                Input,
                run_job=run_job,
                input_port=port,
                input_port_type=port.input_port_type,
                input_port_type_name=port.input_port_type.name,
                resource=bound if isinstance(bound, Resource) else None,
                resource_list=bound if isinstance(bound, ResourceList) else None,
            )
        produced = {}
        for port in wfj.output_ports.all():
            mimetype = self.output_type(port, input_types)
            produced[port.pk] = self.create_output(run_job, wfj, port, mimetype, item)
        self.produced[(wfj.pk, chain)] = produced

    def add(self, model, **fields):
        """A row of ``model`` to insert with the others when the expansion is complete."""
        row = model(**fields)
        self.rows[model].append(row)
        return row

    def _list_type(self, resource_list):
        resource_type = resource_list.resource_type
        return resource_type.mimetype if resource_type else OCTET_STREAM

    def create_output(self, run_job, wfj, port, mimetype, item):
        port_type = port.output_port_type
        name = item.name if item is not None else step_name(wfj.job.name, port_type.name)
        output = self.add(
            Output, run_job=run_job, output_port=port, output_port_type=port_type, output_port_type_name=port_type.name
        )
        if port_type.is_list:
            placeholder = self.add(
                ResourceList, name=name, project=self.run.project, declared_type=self.types[mimetype], origin=output
            )
            output.resource_list = placeholder
        else:
            placeholder = self.add(
                Resource, name=name, project=self.run.project, resource_type=self.types[mimetype], origin=output
            )
            output.resource = placeholder
        return placeholder


def create_run(workflow, assignments, creator=None, name="", description=None, key=str):
    """Check the assignments, create the run and its RunJobs, and start scheduling.

    ``assignments`` maps InputPort objects to lists of Resources or
    ResourceLists. Raises AssignmentError, or ValueError for an invalid workflow.
    """
    from rodan.engine import lifecycle

    check_runnable(workflow)
    check_assignments(workflow, assignments, key=key)
    with transaction.atomic():
        run = WorkflowRun.objects.create(
            project=workflow.project,
            workflow=workflow,
            creator=creator,
            name=(name or workflow.name)[:100],
            description=description,
            status=RunStatus.REQUEST_PROCESSING,
        )
        _Expansion(run, workflow, assignments).expand()
        origin = [item.uuid.hex for items in assignments.values() for item in items if isinstance(item, Resource)]
        run.origin_resources = origin or None
        run.save(update_fields=["origin_resources"])
        lifecycle.start_run(run)
    return run
