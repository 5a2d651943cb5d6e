// Workflows: the project's list (create, import, the workflow library, delete) and the graph editor
// (rodan-compat §2.7-2.8, §5): jobs from the catalogue, typed ports, settings forms from each job's
// JSON Schema, validation errors shown on the job or port they concern, export, and groups of jobs
// (WorkflowJobGroup: made from the jobs selected, renamed, ungrouped, or imported from another workflow).
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import {
  applyEdgeChanges,
  applyNodeChanges,
  Background,
  Controls,
  Handle,
  Position,
  ReactFlow,
  type Connection,
  type Edge,
  type Node,
  type NodeProps,
  type OnConnectStartParams,
  type ReactFlowInstance,
  ViewportPortal,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import Form from "@rjsf/core";
import validator from "@rjsf/validator-ajv8";
import type { RJSFSchema } from "@rjsf/utils";
import { API, ApiError, all, del, describe, formatDate, get, patch, post, query, type Json } from "./api";
import { jobs as loadJobs, resourceTypes, type ResourceType } from "./catalogue";
import { connectionRefusal, type PortInfo } from "./ports";
import { Link, navigate } from "./router";
import { NewRun } from "./runs";
import { ErrorText, Progress, saveBlob, useAction } from "./ui";

// The workflow library (workflows/ at the top of the repository), built into the app.
const LIBRARY = Object.values(import.meta.glob("../../../workflows/*.json", { eager: true, import: "default" })) as Json[];

export function Workflows({ project }: { project: Json }) {
  const [list, setList] = useState<Json[] | null>(null);
  const [name, setName] = useState("");
  const load = useAction();
  const create = useAction();
  const [rowErrors, setRowErrors] = useState<Record<string, string>>({});
  const refresh = useCallback(
    () => load.run(async () => setList(await all(API + "workflows/" + query({ project: project.uuid, ordering: "-created" })))),
    [project.uuid],
  );
  useEffect(() => {
    refresh();
  }, [refresh]);
  const open = (workflow: Json) => navigate(`/workflows/${workflow.uuid}`);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.run(async () => open(await post(API + "workflows/", { project: project.url, name: name.trim() })));
  };
  const importDocument = (serialized: Json) =>
    create.run(async () => open(await post(API + "workflows/", { project: project.url, serialized })));
  const importFile = async (file: File | undefined) => {
    if (!file) return;
    let document: Json;
    try {
      document = JSON.parse(await file.text());
    } catch {
      create.setError(`“${file.name}” is not a workflow file: it is not JSON.`);
      return;
    }
    importDocument(document);
  };
  const remove = async (workflow: Json) => {
    try {
      await del(workflow.url);
      refresh();
    } catch (error) {
      setRowErrors({ ...rowErrors, [workflow.uuid]: describe(error) });
    }
  };
  return (
    <div className="stack">
      <div className="card form">
        <h2>New workflow</h2>
        <form className="inline-form" onSubmit={submit}>
          <label>
            Name
            <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <button type="submit" className="primary" disabled={create.busy}>
            Create and edit
          </button>
        </form>
        <label>
          Import a Rodan workflow file (.json)
          <input type="file" accept=".json,application/json" onChange={(e) => { importFile(e.target.files?.[0]); e.target.value = ""; }} />
        </label>
        <div>
          <p>Or start from the workflow library:</p>
          <ul className="library">
            {LIBRARY.map((document) => (
              <li key={document.name}>
                <button onClick={() => importDocument(document)} disabled={create.busy}>
                  {document.name}
                </button>{" "}
                <span className="muted">{document.description}</span>
              </li>
            ))}
          </ul>
        </div>
        {create.busy && <Progress label="Creating the workflow…" />}
        <ErrorText error={create.error} />
      </div>
      <h2>Workflows</h2>
      {load.busy && !list && <Progress label="Loading workflows…" />}
      <ErrorText error={load.error} />
      {list && list.length === 0 && <p>No workflows yet.</p>}
      {list && list.length > 0 && (
        <table className="table" id="table-workflows">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Valid</th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {list.map((workflow) => (
              <tr key={workflow.uuid}>
                <td>
                  <Link to={`/workflows/${workflow.uuid}`}>{workflow.name}</Link>
                </td>
                <td>{workflow.valid ? "Valid" : "Not validated"}</td>
                <td>{formatDate(workflow.created)}</td>
                <td>
                  <button className="small" onClick={() => remove(workflow)} aria-label={`Delete workflow ${workflow.name}`}>
                    Delete
                  </button>
                  <ErrorText error={rowErrors[workflow.uuid] ?? null} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** Validation error codes as sentences (rodan-compat §2.7). */
const ERROR_SENTENCES: Record<string, string> = {
  WFJ_NO_OP: "This job has no output port, so it would make nothing.",
  WFJ_TOO_FEW_IP: "This job needs more input ports of a type.",
  WFJ_TOO_MANY_IP: "This job has too many input ports of a type.",
  WFJ_TOO_FEW_OP: "This job needs more output ports of a type.",
  WFJ_TOO_MANY_OP: "This job has too many output ports of a type.",
  WFJ_INVALID_SETTINGS: "This job's settings are not valid.",
  IP_TYPE_MISMATCH: "This input port belongs to another job's type.",
  IP_TOO_MANY_CONNECTIONS: "This input port has more than one connection.",
  OP_TYPE_MISMATCH: "This output port belongs to another job's type.",
  RESOURCETYPE_LIST_CONFLICT: "This connection joins a list port to a single-resource port.",
  NO_COMMON_RESOURCETYPE: "These ports share no resource type.",
  WF_EMPTY: "The workflow has no jobs yet: add one from the catalogue.",
  WF_HAS_CYCLES: "The workflow goes round in a cycle.",
  WF_NOT_CONNECTED: "Some jobs are not connected to the rest of the workflow.",
};

interface Problem {
  code: string;
  sentence: string;
  jobs: Set<string>;
  ports: Set<string>;
}

type JobNodeData = {
  wj: Json;
  group?: string;
  ports: PortInfo[];
  problem?: string;
  portProblems: Record<string, string>;
  highlight: Record<string, "ok" | "no">;
};

function JobNode({ data, selected }: NodeProps<Node<JobNodeData>>) {
  const inputs = data.ports.filter((p) => p.direction === "in");
  const outputs = data.ports.filter((p) => p.direction === "out");
  const rows = Math.max(inputs.length, outputs.length, 1);
  return (
    <div className={`job-node${selected ? " selected" : ""}${data.problem ? " has-error" : ""}`} style={{ minHeight: 48 + rows * 24 }}>
      <div className="job-node-title">{data.wj.name || data.wj.job_name}</div>
      {data.group && <div className="muted job-node-group">In group “{data.group}”</div>}
      {data.problem && <div className="job-node-error">{data.problem}</div>}
      {inputs.map((port, index) => (
        <Handle
          key={port.url}
          id={port.url}
          type="target"
          position={Position.Left}
          style={{ top: 44 + index * 24 }}
          className={`port ${data.highlight[port.url] ?? ""} ${data.portProblems[port.url] ? "port-error" : ""}`}
          title={`${port.label}${data.portProblems[port.url] ? ": " + data.portProblems[port.url] : ""}`}
        >
          <span className="port-label port-label-in">{port.label}</span>
        </Handle>
      ))}
      {outputs.map((port, index) => (
        <Handle
          key={port.url}
          id={port.url}
          type="source"
          position={Position.Right}
          style={{ top: 44 + index * 24 }}
          className={`port ${data.highlight[port.url] ?? ""} ${data.portProblems[port.url] ? "port-error" : ""}`}
          title={`${port.label}${data.portProblems[port.url] ? ": " + data.portProblems[port.url] : ""}`}
        >
          <span className="port-label port-label-out">{port.label}</span>
        </Handle>
      ))}
    </div>
  );
}

const NODE_TYPES = { job: JobNode };

/** Rodan's client stores positions as fractions of its canvas; larger values are our pixels. */
function position(appearance: Json | null | undefined, index: number): { x: number; y: number } {
  const x = Number(appearance?.x ?? 0.5);
  const y = Number(appearance?.y ?? 0.5);
  if (Math.abs(x) <= 1 && Math.abs(y) <= 1) return { x: x * 1100, y: y * 500 + (index % 3) * 10 };
  return { x, y };
}

/** The last part of an API URL (its UUID): hyperlinks to one object compare equal whatever host built them. */
function tail(url: string | null | undefined): string {
  return (url ?? "").replace(/\/$/, "").split("/").pop() ?? "";
}

export function WorkflowEditor({ id }: { id: string }) {
  const [workflow, setWorkflow] = useState<Json | null>(null);
  const [catalogue, setCatalogue] = useState<Json[]>([]);
  const [types, setTypes] = useState<ResourceType[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [canvasSelection, setCanvasSelection] = useState<string[]>([]);
  const [groups, setGroups] = useState<Json[]>([]);
  const [connecting, setConnecting] = useState<OnConnectStartParams | null>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [validMessage, setValidMessage] = useState("");
  const load = useAction();
  const action = useAction();

  const reload = useCallback(async () => {
    const [current, groupList] = await Promise.all([
      get<Json>(`${API}workflow/${id}/`),
      all<Json>(API + "workflowjobgroups/" + query({ workflow: id, ordering: "created" })),
    ]);
    setWorkflow(current);
    setGroups(groupList);
    return current;
  }, [id]);
  useEffect(() => {
    load.run(async () => {
      const [jobList, typeList] = await Promise.all([loadJobs(), resourceTypes()]);
      setCatalogue(jobList);
      setTypes(typeList);
      const current = await reload();
      // Opening validates, as Rodan's client does: the errors show at once (a 409 is normal).
      if (current.workflow_jobs.length && !current.valid) await validate(current, true);
    });
  }, [id]);

  const portTypes = useMemo(() => {
    const map: Record<string, Json> = {};
    for (const job of catalogue) {
      for (const t of job.input_port_types) map[t.url] = { ...t, direction: "in" };
      for (const t of job.output_port_types) map[t.url] = { ...t, direction: "out" };
    }
    return map;
  }, [catalogue]);
  const jobByUrl = useMemo(() => Object.fromEntries(catalogue.map((job) => [job.url, job])), [catalogue]);

  const ports = useMemo(() => {
    const map: Record<string, PortInfo> = {};
    for (const wj of workflow?.workflow_jobs ?? []) {
      for (const p of wj.input_ports)
        map[p.url] = { url: p.url, label: p.label || portTypes[p.input_port_type]?.name, type: portTypes[p.input_port_type] ?? {}, direction: "in", job: wj.url, jobName: wj.name || wj.job_name, connected: p.connections.length > 0 };
      for (const p of wj.output_ports)
        map[p.url] = { url: p.url, label: p.label || portTypes[p.output_port_type]?.name, type: portTypes[p.output_port_type] ?? {}, direction: "out", job: wj.url, jobName: wj.name || wj.job_name, connected: p.connections.length > 0 };
    }
    return map;
  }, [workflow, portTypes]);

  /** Whether an output port may feed an input port; a sentence saying why not otherwise. */
  const refusal = useCallback(
    (outputUrl: string, inputUrl: string): string | null => connectionRefusal(ports[outputUrl], ports[inputUrl], types),
    [ports, types],
  );

  const highlight = useMemo(() => {
    const marks: Record<string, "ok" | "no"> = {};
    if (!connecting?.handleId) return marks;
    const from = connecting.handleId;
    for (const port of Object.values(ports)) {
      if (port.url === from || port.direction === ports[from]?.direction) continue;
      const problem = port.direction === "in" ? refusal(from, port.url) : refusal(port.url, from);
      marks[port.url] = problem ? "no" : "ok";
    }
    return marks;
  }, [connecting, ports, refusal]);

  const jobProblems = useMemo(() => {
    const byJob: Record<string, string[]> = {};
    const byPort: Record<string, string[]> = {};
    for (const problem of problems) {
      problem.jobs.forEach((url) => (byJob[url] ??= []).push(problem.sentence));
      problem.ports.forEach((url) => (byPort[url] ??= []).push(problem.sentence));
    }
    return { byJob, byPort };
  }, [problems]);

  const groupNames = useMemo(() => Object.fromEntries(groups.map((group) => [tail(group.url), group.name || "Unnamed group"])), [groups]);
  const derivedNodes: Node<JobNodeData>[] = useMemo(
    () =>
      (workflow?.workflow_jobs ?? []).map((wj: Json, index: number) => {
        const jobPorts = Object.values(ports).filter((p) => p.job === wj.url);
        const portProblems = Object.fromEntries(jobPorts.filter((p) => jobProblems.byPort[p.url]).map((p) => [p.url, jobProblems.byPort[p.url].join(" ")]));
        const portSentences = Object.entries(portProblems).map(([url, text]) => `${ports[url].label}: ${text}`);
        const own = [...(jobProblems.byJob[wj.url] ?? []), ...portSentences];
        return {
          id: wj.url,
          type: "job",
          position: position(wj.appearance, index),
          selected: selected === wj.url,
          ariaLabel: `Job ${wj.name || wj.job_name}`,
          // Rodan's rule: a grouped job keeps its place and ports; only its settings change until it is ungrouped.
          draggable: !wj.group,
          deletable: !wj.group,
          data: { wj, group: wj.group ? groupNames[tail(wj.group)] : undefined, ports: jobPorts, problem: own.length ? own.join(" ") : undefined, portProblems, highlight },
        };
      }),
    [workflow, ports, selected, jobProblems, highlight, groupNames],
  );
  const derivedEdges: Edge[] = useMemo(
    () =>
      (workflow?.workflow_connections ?? []).map((c: Json) => ({
        id: c.url,
        source: ports[c.output_port]?.job ?? "",
        sourceHandle: c.output_port,
        target: ports[c.input_port]?.job ?? "",
        targetHandle: c.input_port,
        ariaLabel: `Connection from ${ports[c.output_port]?.label} to ${ports[c.input_port]?.label}`,
      })),
    [workflow, ports],
  );
  // A job added or removed: show the whole graph again.
  const flow = useRef<ReactFlowInstance<Node<JobNodeData>, Edge> | null>(null);
  const jobCount = workflow?.workflow_jobs.length ?? 0;
  useEffect(() => {
    const timer = window.setTimeout(() => flow.current?.fitView({ maxZoom: 1, padding: 0.15 }), 50);
    return () => window.clearTimeout(timer);
  }, [jobCount]);
  // React Flow owns what it measures, drags and selects; our data is merged in whenever it changes.
  const [nodes, setNodes] = useState<Node<JobNodeData>[]>([]);
  const [edges, setEdges] = useState<Edge[]>([]);
  // Selection stays React Flow's (several jobs may be selected, to group them), except that a job just added
  // becomes the only one selected.
  useEffect(() => {
    setNodes((previous) => {
      const added = derivedNodes.some((node) => node.selected && !previous.some((p) => p.id === node.id));
      return derivedNodes.map((node) => {
        const old = previous.find((p) => p.id === node.id);
        return old ? { ...node, position: old.position, measured: old.measured, selected: added ? false : old.selected } : node;
      });
    });
  }, [derivedNodes]);
  const closePanel = () => {
    setSelected(null);
    setNodes((current) => current.map((node) => ({ ...node, selected: false })));
  };
  useEffect(() => {
    setEdges((previous) => derivedEdges.map((edge) => ({ ...edge, selected: previous.find((p) => p.id === edge.id)?.selected })));
  }, [derivedEdges]);
  // Each group drawn as a labelled outline around its jobs, in the graph's coordinates.
  const outlines = useMemo(
    () =>
      groups.flatMap((group) => {
        const members = nodes.filter((node) => tail(node.data.wj.group) === tail(group.url));
        if (!members.length) return [];
        const left = Math.min(...members.map((n) => n.position.x));
        const top = Math.min(...members.map((n) => n.position.y));
        const right = Math.max(...members.map((n) => n.position.x + (n.measured?.width ?? 240)));
        const bottom = Math.max(...members.map((n) => n.position.y + (n.measured?.height ?? 100)));
        return [{ url: group.url, name: group.name || "Unnamed group", x: left - 18, y: top - 34, width: right - left + 36, height: bottom - top + 52 }];
      }),
    [groups, nodes],
  );

  async function validate(current: Json | null = workflow, quiet = false) {
    if (!current) return;
    setValidMessage("");
    try {
      const valid = await patch<Json>(current.url, { valid: true });
      setWorkflow(valid);
      setProblems([]);
      setValidMessage("The workflow is valid: you can run it.");
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        const body = error.body ?? {};
        const objects = body.associated_objects ?? {};
        const code = String(body.error_code ?? "");
        const details: string[] = body.details ?? [];
        setProblems([
          {
            code,
            sentence: [ERROR_SENTENCES[code], ...details].filter(Boolean).join(" "),
            jobs: new Set(objects.workflowjobs ?? []),
            ports: new Set([...(objects.inputports ?? []), ...(objects.outputports ?? [])]),
          },
        ]);
        await reload();
      } else if (!quiet) action.setError(describe(error));
    }
  }

  const mutate = (change: () => Promise<unknown>) =>
    action.run(async () => {
      setProblems([]);
      setValidMessage("");
      try {
        await change();
      } finally {
        await reload();
      }
    });

  const addJob = (job: Json) =>
    mutate(async () => {
      const count = workflow!.workflow_jobs.length;
      const wj = await post<Json>(API + "workflowjobs/", {
        job: job.url,
        workflow: workflow!.url,
        appearance: { x: 80 + (count % 4) * 320, y: 80 + Math.floor(count / 4) * 220 },
      });
      for (const t of job.input_port_types) for (let i = 0; i < t.minimum; i++) await post(API + "inputports/", { input_port_type: t.url, workflow_job: wj.url, label: null });
      // `minimum` ports of each type, as Rodan's client makes; a job whose outputs are all optional gets its first.
      const outputs = job.output_port_types.flatMap((t: Json) => Array(t.minimum).fill(t));
      if (!outputs.length && job.output_port_types.length) outputs.push(job.output_port_types[0]);
      for (const t of outputs) await post(API + "outputports/", { output_port_type: t.url, workflow_job: wj.url, label: null });
      setSelected(wj.url);
    });

  const onConnect = (connection: Connection) => {
    const problem = refusal(connection.sourceHandle ?? "", connection.targetHandle ?? "");
    if (problem) {
      action.setError(`This connection is refused: ${problem}`);
      return;
    }
    mutate(() => post(API + "connections/", { output_port: connection.sourceHandle, input_port: connection.targetHandle }));
  };

  if (!workflow) {
    return (
      <main className="page">
        {load.busy && <Progress label="Loading the workflow…" />}
        <ErrorText error={load.error} />
      </main>
    );
  }
  const project = workflow.project;
  const projectUuid = project.replace(/\/$/, "").split("/").pop();
  const selectedJob = workflow.workflow_jobs.find((wj: Json) => wj.url === selected) ?? null;
  const general = problems.filter((p) => p.jobs.size === 0 && p.ports.size === 0);

  const exportWorkflow = () =>
    action.run(async () => {
      const document = await get<Json>(`${workflow.url}?export=1`);
      saveBlob(new Blob([JSON.stringify(document, null, 2)], { type: "application/json" }), `${workflow.name}.json`);
    });

  return (
    <main className="page editor-page">
      <p className="crumbs">
        <Link to="/">Projects</Link> / <Link to={`/projects/${projectUuid}/workflows`}>Workflows</Link> /
      </p>
      <WorkflowTitle workflow={workflow} onSaved={setWorkflow} />
      <div className="row">
        <button className="primary" onClick={() => action.run(() => validate())} disabled={action.busy}>
          Validate
        </button>
        <button onClick={exportWorkflow}>Export workflow file</button>
        <span className={workflow.valid ? "ok-text" : "muted"} role="status">
          {validMessage || (workflow.valid ? "Valid" : "Not validated yet")}
        </span>
        {action.busy && <span className="spinner" aria-label="Saving" />}
      </div>
      <ErrorText error={action.error} />
      {general.map((p) => (
        <p key={p.code} className="error" role="alert">
          {p.sentence}
        </p>
      ))}
      <div className="editor">
        <Catalogue jobs={catalogue} onAdd={addJob} disabled={action.busy} />
        <div className="canvas" aria-label="Workflow graph">
          <ReactFlow
            nodes={nodes}
            edges={edges}
            nodeTypes={NODE_TYPES}
            fitView
            fitViewOptions={{ maxZoom: 1, padding: 0.15 }}
            onInit={(instance) => (flow.current = instance)}
            onNodeClick={(_, node) => setSelected(node.id)}
            onPaneClick={() => setSelected(null)}
            onSelectionChange={({ nodes: chosen }) => setCanvasSelection(chosen.map((node) => node.id))}
            onNodesChange={(changes) => {
              setNodes((current) => applyNodeChanges(changes, current));
              for (const change of changes) if (change.type === "select" && change.selected) setSelected(change.id);
            }}
            onEdgesChange={(changes) => setEdges((current) => applyEdgeChanges(changes, current))}
            onNodeDragStop={(_, node) => {
              patch(node.id, { appearance: { x: Math.round(node.position.x), y: Math.round(node.position.y) } }).catch((error) => action.setError(describe(error)));
            }}
            onNodesDelete={(deleted) => mutate(async () => { for (const node of deleted) await del(node.id); })}
            onEdgesDelete={(deleted) => mutate(async () => { for (const edge of deleted) await del(edge.id); })}
            onConnectStart={(_, params) => setConnecting(params)}
            onConnectEnd={(_, state) => {
              setConnecting(null);
              // Dropped on a port that refuses it: say why, where the user is looking.
              if (state.fromHandle?.id && state.toHandle?.id && !state.isValid) {
                const [from, to] = state.fromHandle.type === "source" ? [state.fromHandle.id, state.toHandle.id] : [state.toHandle.id, state.fromHandle.id];
                const problem = refusal(from, to);
                if (problem) action.setError(`This connection is refused: ${problem}`);
              }
            }}
            isValidConnection={(c) => !refusal(c.sourceHandle ?? "", c.targetHandle ?? "")}
            onConnect={onConnect}
            deleteKeyCode={["Delete", "Backspace"]}
            multiSelectionKeyCode={["Control", "Meta"]}
          >
            <Background />
            <Controls />
            <ViewportPortal>
              {outlines.map((outline) => (
                <div
                  key={outline.url}
                  className="group-outline"
                  aria-hidden="true"
                  style={{
                    position: "absolute",
                    transform: `translate(${outline.x}px, ${outline.y}px)`,
                    width: outline.width,
                    height: outline.height,
                    border: "2px dashed #3d5a99",
                    borderRadius: 12,
                    pointerEvents: "none",
                  }}
                >
                  <span style={{ position: "absolute", top: 4, left: 10, fontSize: 13, fontWeight: 700, color: "#1f3466", background: "#fff", padding: "0 4px" }}>
                    {outline.name}
                  </span>
                </div>
              ))}
            </ViewportPortal>
          </ReactFlow>
        </div>
        {selectedJob && (
          <JobPanel
            key={selectedJob.url}
            wj={selectedJob}
            job={jobByUrl[selectedJob.job]}
            portTypes={portTypes}
            problems={[...(jobProblems.byJob[selectedJob.url] ?? [])]}
            groupName={selectedJob.group ? groupNames[tail(selectedJob.group)] : undefined}
            ports={ports}
            refusal={refusal}
            connections={workflow.workflow_connections}
            mutate={mutate}
            busy={action.busy}
            onClose={closePanel}
          />
        )}
        {!selectedJob && (
          <aside className="job-panel" aria-label="How to edit">
            <h2>Editing</h2>
            <p className="muted">
              Add jobs from the catalogue. Select a job to see its ports and settings. Connect an output port (right side
              of a job) to an input port (left side) by dragging, or from the selected job's ports; while you drag, the
              ports that accept the connection turn green. Delete removes the selected job or connection.
            </p>
          </aside>
        )}
      </div>
      <Groups
        workflow={workflow}
        groups={groups}
        projectUuid={projectUuid}
        canvasSelection={canvasSelection}
        onChanged={async () => {
          setProblems([]);
          setValidMessage("");
          await reload();
        }}
      />
      {workflow.valid && (
        <NewRunFor project={{ url: project, uuid: projectUuid }} workflow={workflow} />
      )}
    </main>
  );
}

function NewRunFor({ project, workflow }: { project: Json; workflow: Json }) {
  return <NewRun key={workflow.updated} project={project} workflowUrl={workflow.url} />;
}

function WorkflowTitle({ workflow, onSaved }: { workflow: Json; onSaved: (w: Json) => void }) {
  const [name, setName] = useState(workflow.name);
  const save = useAction();
  useEffect(() => setName(workflow.name), [workflow.name]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.run(async () => {
      await patch(workflow.url, { name: name.trim() });
      onSaved(await get(workflow.url));
    });
  };
  return (
    <form className="title-form" onSubmit={submit}>
      <label>
        <span className="visually-hidden">Workflow name</span>
        <input className="title-input" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} onBlur={(e) => e.target.value !== workflow.name && submit(e as unknown as FormEvent)} />
      </label>
      <ErrorText error={save.error} />
    </form>
  );
}

function Catalogue({ jobs, onAdd, disabled }: { jobs: Json[]; onAdd: (job: Json) => void; disabled: boolean }) {
  const [search, setSearch] = useState("");
  const [category, setCategory] = useState("");
  const categories = useMemo(() => [...new Set(jobs.map((job) => job.category))].sort(), [jobs]);
  const shown = jobs.filter(
    (job) => (!category || job.category === category) && (!search || `${job.name} ${job.description}`.toLowerCase().includes(search.toLowerCase())),
  );
  return (
    <aside className="catalogue" aria-label="Job catalogue">
      <h2>Add a job</h2>
      <label>
        Search jobs
        <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
      </label>
      <label>
        Category
        <select value={category} onChange={(e) => setCategory(e.target.value)}>
          <option value="">All categories</option>
          {categories.map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
      </label>
      <ul>
        {shown.map((job) => (
          <li key={job.uuid}>
            <button className="job-choice" onClick={() => onAdd(job)} disabled={disabled} title={job.description} aria-label={`Add ${job.name}`}>
              <strong>{job.name}</strong>
              <span className="muted">{job.category}{job.interactive ? " · interactive" : ""}</span>
            </button>
          </li>
        ))}
        {shown.length === 0 && <li className="muted">No job matches.</li>}
      </ul>
    </aside>
  );
}

function JobPanel(props: {
  wj: Json;
  job: Json | undefined;
  portTypes: Record<string, Json>;
  problems: string[];
  groupName?: string;
  ports: Record<string, PortInfo>;
  refusal: (outputUrl: string, inputUrl: string) => string | null;
  connections: Json[];
  mutate: (change: () => Promise<unknown>) => Promise<unknown>;
  busy: boolean;
  onClose: () => void;
}) {
  const { wj, job, portTypes, mutate, busy } = props;
  const schema = useMemo(() => {
    const { job_queue: _queue, ...rest } = (job?.settings ?? {}) as Json;
    return { type: "object", ...rest } as RJSFSchema;
  }, [job]);
  const hasSettings = Object.keys((schema as Json).properties ?? {}).length > 0;
  const [settingsSaved, setSettingsSaved] = useState(false);
  const [settingsError, setSettingsError] = useState("");
  // Controlled: rjsf resets an uncontrolled form to its formData prop whenever the panel re-renders.
  const [formData, setFormData] = useState<Json>(wj.job_settings ?? {});
  const formRef = useRef(null);
  const portCount = (typeUrl: string, direction: "in" | "out") =>
    (direction === "in" ? wj.input_ports : wj.output_ports).filter((p: Json) => (direction === "in" ? p.input_port_type : p.output_port_type) === typeUrl).length;
  const addPort = (t: Json) =>
    mutate(() =>
      t.direction === "in"
        ? post(API + "inputports/", { input_port_type: t.url, workflow_job: wj.url, label: null })
        : post(API + "outputports/", { output_port_type: t.url, workflow_job: wj.url, label: null }),
    );
  const allTypes = [...(job?.input_port_types ?? []).map((t: Json) => ({ ...t, direction: "in" })), ...(job?.output_port_types ?? []).map((t: Json) => ({ ...t, direction: "out" }))];
  return (
    <aside className="job-panel" aria-label={`Job ${wj.name}`}>
      <div className="row">
        <h2>{wj.name || wj.job_name}</h2>
        <button className="small" onClick={props.onClose} aria-label="Close the job panel">
          Close
        </button>
      </div>
      {job?.description && <p className="muted job-description">{job.description}</p>}
      {props.problems.map((text) => (
        <p className="error" key={text} role="alert">
          {text}
        </p>
      ))}
      {props.groupName && (
        <p className="muted">
          This job is in the group “{props.groupName}”: only its settings can change until the group is ungrouped (below the
          graph).
        </p>
      )}
      <h3>Ports</h3>
      <ul className="ports">
        {[...wj.input_ports.map((p: Json) => ({ ...p, direction: "in" })), ...wj.output_ports.map((p: Json) => ({ ...p, direction: "out" }))].map((p: Json) => {
          const label = p.label || portTypes[p.input_port_type ?? p.output_port_type]?.name;
          const links = props.connections.filter((c) => c.input_port === p.url || c.output_port === p.url);
          // Connecting without a mouse: an input port lists the outputs of other jobs that it accepts.
          const sources = p.direction === "in" && !links.length ? Object.values(props.ports).filter((o) => o.direction === "out" && !props.refusal(o.url, p.url)) : [];
          return (
            <li key={p.url}>
              <div className="row">
                <span>
                  {p.direction === "in" ? "In" : "Out"}: {label}
                </span>
                <button className="small" disabled={busy} onClick={() => mutate(() => del(p.url))} aria-label={`Remove port ${label}`}>
                  Remove
                </button>
              </div>
              {links.map((c) => {
                const other = props.ports[p.direction === "in" ? c.output_port : c.input_port];
                return (
                  <div key={c.url} className="row connection">
                    <span className="muted">
                      {p.direction === "in" ? "from" : "to"} {other?.jobName}: {other?.label}
                    </span>
                    <button className="small" disabled={busy} onClick={() => mutate(() => del(c.url))} aria-label={`Disconnect ${label} ${p.direction === "in" ? "from" : "to"} ${other?.jobName}: ${other?.label}`}>
                      Disconnect
                    </button>
                  </div>
                );
              })}
              {sources.length > 0 && (
                <label className="connect-from">
                  <span className="visually-hidden">Connect {label} from</span>
                  <select
                    value=""
                    disabled={busy}
                    onChange={(e) => e.target.value && mutate(() => post(API + "connections/", { output_port: e.target.value, input_port: p.url }))}
                  >
                    <option value="">Connect from…</option>
                    {sources.map((o) => (
                      <option key={o.url} value={o.url}>
                        {o.jobName}: {o.label}
                      </option>
                    ))}
                  </select>
                </label>
              )}
            </li>
          );
        })}
      </ul>
      {allTypes
        .filter((t: Json) => t.maximum === 0 || portCount(t.url, t.direction) < t.maximum)
        .map((t: Json) => (
          <button key={t.url} className="small" disabled={busy} onClick={() => addPort(t)}>
            Add {t.direction === "in" ? "input" : "output"} “{t.name}”
          </button>
        ))}
      <h3>Settings</h3>
      {!hasSettings && <p className="muted">This job has no settings.</p>}
      {hasSettings && (
        <Form
          ref={formRef}
          schema={schema}
          formData={formData}
          validator={validator}
          showErrorList={false}
          noHtml5Validate
          onChange={(event) => { setFormData(event.formData); setSettingsSaved(false); setSettingsError(""); }}
          onError={() => setSettingsError("Not saved: correct the settings marked above.")}
          onSubmit={({ formData }) => mutate(async () => {
            await patch(wj.url, { job_settings: formData });
            setSettingsSaved(true);
          })}
        >
          <button type="submit" disabled={busy}>
            Save settings
          </button>
          {settingsSaved && <span role="status"> Saved.</span>}
          <ErrorText error={settingsError || null} />
        </Form>
      )}
      <h3>Remove</h3>
      <button className="danger small" disabled={busy} onClick={() => mutate(async () => { await del(wj.url); props.onClose(); })}>
        Remove this job
      </button>
    </aside>
  );
}

/** The workflow's groups: make one from the chosen jobs, rename, ungroup, or import another workflow as one. */
function Groups(props: { workflow: Json; groups: Json[]; projectUuid: string; canvasSelection: string[]; onChanged: () => Promise<unknown> }) {
  const { workflow, groups, onChanged } = props;
  const jobs: Json[] = workflow.workflow_jobs;
  const ungrouped = jobs.filter((wj) => !wj.group);
  const [chosen, setChosen] = useState<string[]>([]);
  const [name, setName] = useState("");
  const create = useAction();
  // Jobs selected in the graph (Ctrl and click, or a Shift-drag box) are ticked here too.
  const selection = props.canvasSelection.filter((url) => ungrouped.some((wj) => wj.url === url)).join(" ");
  useEffect(() => {
    if (selection) setChosen(selection.split(" "));
  }, [selection]);
  const toggle = (url: string, on: boolean) => setChosen((current) => (on ? [...current, url] : current.filter((u) => u !== url)));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const members = chosen.filter((url) => ungrouped.some((wj) => wj.url === url));
    if (!members.length) {
      create.setError("Tick the jobs to group first: at least one job that is not in a group yet.");
      return;
    }
    create.run(async () => {
      await post(API + "workflowjobgroups/", { name: name.trim(), workflow_jobs: members });
      setName("");
      setChosen([]);
      await onChanged();
    });
  };

  const [others, setOthers] = useState<Json[]>([]);
  const [origin, setOrigin] = useState("");
  const importing = useAction();
  useEffect(() => {
    all<Json>(API + "workflows/" + query({ project: props.projectUuid, ordering: "name" })).then(
      (list) => setOthers(list.filter((w) => tail(w.url) !== tail(workflow.url))),
      (error) => importing.setError(`The project's other workflows could not be listed: ${describe(error)}`),
    );
  }, [props.projectUuid, workflow.url]);
  const importGroup = (event: FormEvent) => {
    event.preventDefault();
    if (!origin) {
      importing.setError("Choose the workflow to import first.");
      return;
    }
    importing.run(async () => {
      await post(API + "workflowjobgroups/", { workflow: workflow.url, origin });
      setOrigin("");
      await onChanged();
    });
  };

  return (
    <section className="card" aria-labelledby="groups-heading">
      <h2 id="groups-heading">Groups</h2>
      {groups.length === 0 && <p className="muted">No groups yet.</p>}
      {groups.length > 0 && (
        <ul className="members" id="group-list">
          {groups.map((group) => (
            <GroupRow key={group.url} group={group} jobs={jobs} onChanged={onChanged} />
          ))}
        </ul>
      )}
      <form className="stack" onSubmit={submit} aria-labelledby="group-new-heading">
        <h3 id="group-new-heading">Group jobs</h3>
        {ungrouped.length === 0 && <p className="muted">Every job is already in a group.</p>}
        {ungrouped.length > 0 && (
          <fieldset>
            <legend>Jobs to group (or select them in the graph: Ctrl and click, or Shift and drag a box)</legend>
            {ungrouped.map((wj) => (
              <label key={wj.url} className="check">
                <input type="checkbox" checked={chosen.includes(wj.url)} onChange={(e) => toggle(wj.url, e.target.checked)} />
                {wj.name || wj.job_name}
              </label>
            ))}
          </fieldset>
        )}
        <div className="inline-form">
          <label>
            Group name
            <input maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <button type="submit" disabled={create.busy || ungrouped.length === 0}>
            Group the ticked jobs
          </button>
        </div>
        {create.busy && <Progress label="Grouping…" />}
        <ErrorText error={create.error} />
      </form>
      <form className="inline-form" onSubmit={importGroup}>
        <label>
          Import another workflow as a group
          <select value={origin} onChange={(e) => setOrigin(e.target.value)}>
            <option value="">Choose a workflow…</option>
            {others.map((w) => (
              <option key={w.url} value={w.url}>
                {w.name}
                {w.valid ? "" : " (not validated)"}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={importing.busy}>
          Import as a group
        </button>
        {importing.busy && <Progress label="Importing…" />}
      </form>
      <ErrorText error={importing.error} />
    </section>
  );
}

function GroupRow({ group, jobs, onChanged }: { group: Json; jobs: Json[]; onChanged: () => Promise<unknown> }) {
  const [name, setName] = useState(group.name);
  const action = useAction();
  const [saved, setSaved] = useState(false);
  useEffect(() => setName(group.name), [group.name]);
  const members = jobs.filter((wj) => tail(wj.group) === tail(group.url));
  const label = group.name || "Unnamed group";
  const rename = (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    action.run(async () => {
      await patch(group.url, { name: name.trim() });
      await onChanged();
      setSaved(true);
    });
  };
  return (
    <li className="card">
      <form className="inline-form" onSubmit={rename}>
        <label>
          Name of group “{label}”
          <input maxLength={100} value={name} onChange={(e) => { setName(e.target.value); setSaved(false); }} />
        </label>
        <button type="submit" disabled={action.busy}>
          Rename
        </button>
        <button type="button" className="danger" disabled={action.busy} onClick={() => action.run(async () => { await del(group.url); await onChanged(); })}>
          Ungroup “{label}”
        </button>
        {saved && <span role="status">Renamed.</span>}
      </form>
      <p className="muted">
        {members.length} {members.length === 1 ? "job" : "jobs"}: {members.map((wj) => wj.name || wj.job_name).join(", ")}
        {group.origin ? " (imported from another workflow)" : ""}
      </p>
      <ErrorText error={action.error} />
    </li>
  );
}
