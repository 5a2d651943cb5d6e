// Runs: pick resources per input port, start, and watch a per-page × per-job grid that the event
// stream keeps current (polling only while it is down); cancel, retry, redo, interactive jobs, results.
import { memo, useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { API, all, del, formatDate, get, getBlob, hex, patch, post, query, statusName, type Json, type Page } from "./api";
import { jobs as loadJobs, resourceTypes, type ResourceType } from "./catalogue";
import { useProjectEvents } from "./events";
import { Pager } from "./projects";
import { DownloadButton, openViewer } from "./resources";
import { Link, navigate } from "./router";
import { applyRunJobEvents, concernsRun, idOf } from "./rungrid";
import { interactivePath } from "./interactive";
import { takeNotice } from "./notice";
import { ErrorText, Progress, saveBlob, StatusBadge, useAction } from "./ui";

export function Runs({ project }: { project: Json }) {
  const [page, setPage] = useState(1);
  const [data, setData] = useState<Page<Json> | null>(null);
  const load = useAction();
  const refresh = useCallback(
    () => load.run(async () => setData(await get(API + "workflowruns/" + query({ project: project.uuid, ordering: "-created", page })))),
    [project.uuid, page],
  );
  useEffect(() => {
    refresh();
  }, [refresh]);
  useProjectEvents(project.uuid, (kind, event) => {
    if (kind !== "workflowrun") return;
    setData((current) =>
      current && {
        ...current,
        results: current.results.map((run) => (hex(run.uuid) === hex(String(event.uuid)) ? { ...run, status: event.status } : run)),
      },
    );
  }, refresh);
  return (
    <div className="stack">
      <NewRun project={project} />
      <h2>Runs</h2>
      {load.busy && !data && <Progress label="Loading runs…" />}
      <ErrorText error={load.error} />
      {data && data.count === 0 && <p>No runs yet.</p>}
      {data && data.results.length > 0 && (
        <table className="table" id="table-runs">
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Status</th>
              <th scope="col">By</th>
              <th scope="col">Started</th>
            </tr>
          </thead>
          <tbody>
            {data.results.map((run) => (
              <tr key={run.uuid}>
                <td>
                  <Link to={`/runs/${run.uuid}`}>{run.name || "Run"}</Link>
                </td>
                <td>
                  <StatusBadge status={run.status} label={statusName(run.status)} />
                </td>
                <td>{run.creator}</td>
                <td>{formatDate(run.created)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data && <Pager page={page} total={data.total_pages} onPage={setPage} />}
    </div>
  );
}

/** Start a run: a valid workflow, then resources for each of its unconnected input ports. */
export function NewRun({ project, workflowUrl }: { project: Json; workflowUrl?: string }) {
  const [workflows, setWorkflows] = useState<Json[]>([]);
  const [chosen, setChosen] = useState(workflowUrl ?? "");
  const [workflow, setWorkflow] = useState<Json | null>(null);
  const [portTypes, setPortTypes] = useState<Record<string, Json>>({});
  const [types, setTypes] = useState<ResourceType[]>([]);
  const [resources, setResources] = useState<Json[] | null>(null);
  const [picked, setPicked] = useState<Record<string, string[]>>({});
  const load = useAction();
  const start = useAction();

  useEffect(() => {
    load.run(async () => {
      const [list, jobList, typeList] = await Promise.all([
        all<Json>(API + "workflows/" + query({ project: project.uuid, valid: "True" })),
        loadJobs(),
        resourceTypes(),
      ]);
      setWorkflows(list);
      setTypes(typeList);
      setPortTypes(Object.fromEntries(jobList.flatMap((job) => job.input_port_types).map((t: Json) => [t.url, t])));
      setResources(await get<Json[]>(API + "resources/" + query({ project: project.uuid, no_page: "true", ordering: "name" })));
    });
  }, [project.uuid]);
  useEffect(() => {
    setWorkflow(null);
    setPicked({});
    if (chosen) load.run(async () => setWorkflow(await get(chosen)));
  }, [chosen]);

  const ports: Json[] = workflow?.workflow_input_ports ?? [];
  const candidates = (port: Json) => {
    const accepted: string[] = portTypes[port.input_port_type]?.resource_types ?? [];
    return (resources ?? []).filter((r) => r.resource_file && accepted.includes(r.resource_type));
  };
  const toggle = (port: string, resource: string) =>
    setPicked((current) => {
      const list = current[port] ?? [];
      return { ...current, [port]: list.includes(resource) ? list.filter((r) => r !== resource) : [...list, resource] };
    });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    start.run(async () => {
      const assignments: Record<string, string[]> = {};
      for (const port of ports) {
        const chosenResources = picked[port.url] ?? [];
        if (!chosenResources.length) throw new Error(`Choose at least one resource for the input “${port.label}”.`);
        if (portTypes[port.input_port_type]?.is_list) {
          const list = await post<Json>(API + "resourcelists/", { project: project.url, name: port.label, resources: chosenResources });
          assignments[port.url] = [list.url];
        } else assignments[port.url] = chosenResources;
      }
      const run = await post<Json>(API + "workflowruns/", {
        workflow: workflow!.url,
        resource_assignments: assignments,
        name: workflow!.name,
        description: `Run of Workflow "${workflow!.name}"`,
      });
      navigate(`/runs/${run.uuid}`);
    });
  };

  return (
    <form className="card form" onSubmit={submit} aria-label="Start a run">
      <h2>Start a run</h2>
      {!workflowUrl && (
        <label>
          Workflow
          <select value={chosen} onChange={(e) => setChosen(e.target.value)}>
            <option value="">Choose a validated workflow…</option>
            {workflows.map((w) => (
              <option key={w.uuid} value={w.url}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
      )}
      {!workflowUrl && workflows.length === 0 && !load.busy && <p className="muted">No validated workflow yet: build one in Workflows and validate it.</p>}
      {load.busy && <Progress label="Loading…" />}
      <ErrorText error={load.error} />
      {workflow &&
        ports.map((port) => {
          const options = candidates(port);
          const accepted = (portTypes[port.input_port_type]?.resource_types ?? []).map((url: string) => types.find((t) => t.url === url)?.description ?? url);
          return (
            <fieldset key={port.url} className="port-picker">
              <legend>
                {port.label} <span className="muted">({accepted.join(", ")})</span>
              </legend>
              {resources === null && <Progress label="Loading the project's resources…" />}
              {resources !== null && options.length === 0 && <p className="muted">No resource of this project has a type this input accepts: upload one, or change a resource's type.</p>}
              {options.length > 1 && (
                <div className="row">
                  <button type="button" className="small" onClick={() => setPicked({ ...picked, [port.url]: options.map((r) => r.url) })}>
                    Select all
                  </button>
                  <button type="button" className="small" onClick={() => setPicked({ ...picked, [port.url]: [] })}>
                    Select none
                  </button>
                </div>
              )}
              <div className="choices">
                {options.map((resource) => (
                  <label key={resource.uuid} className="check">
                    <input type="checkbox" checked={(picked[port.url] ?? []).includes(resource.url)} onChange={() => toggle(port.url, resource.url)} />
                    {resource.name}
                  </label>
                ))}
              </div>
              <p className="muted">{(picked[port.url] ?? []).length} chosen. Several pages make one chain of jobs per page.</p>
            </fieldset>
          );
        })}
      <ErrorText error={start.error} />
      <button type="submit" className="primary" disabled={!workflow || start.busy}>
        {start.busy ? "Starting…" : "Start run"}
      </button>
    </form>
  );
}

const ACTIVE = new Set([0, 1, 2]);
/** Pages of a long list asked for at once, after the first (which says how many there are). */
const PARALLEL_PAGES = 4;

/**
 * Every item of a paginated list: the first page, then the others a few at a time, in order.
 * `onPage` gets each page as it arrives, so a long list is shown while the rest loads.
 */
async function allPages<T>(url: string, onPage: (items: T[]) => void): Promise<T[]> {
  const first = await get<Page<T>>(url);
  onPage(first.results);
  const pages: T[][] = [first.results];
  const numbers = Array.from({ length: Math.max(0, first.total_pages - 1) }, (_, index) => index + 2);
  const fetchOne = async () => {
    for (let n = numbers.shift(); n !== undefined; n = numbers.shift()) {
      pages[n - 1] = (await get<Page<T>>(`${url}${url.includes("?") ? "&" : "?"}page=${n}`)).results;
      onPage(pages[n - 1]);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_PAGES }, fetchOne));
  return pages.flat();
}

interface GridRowProps {
  label: string;
  cells: Record<string, Json>;
  columns: { key: string; name: string }[];
  selected: string | null;
  onSelect: (key: string | null) => void;
}

/** One page's row of the run grid; skipped by React unless one of its RunJobs (or the selection in it) changed. */
const GridRow = memo(
  function GridRow({ label, cells, columns, selected, onSelect }: GridRowProps) {
    return (
      <tr>
        <th scope="row">{label}</th>
        {columns.map((column) => {
          const rj = cells[column.key];
          if (!rj) return <td key={column.key} />;
          const key = hex(rj.uuid);
          return (
            <td key={column.key}>
              <button
                className={`cell status-${rj.status}`}
                aria-pressed={selected === key}
                aria-label={`${column.name} on ${label}: ${statusName(rj.status)}`}
                onClick={() => onSelect(selected === key ? null : key)}
                data-status={rj.status}
              >
                {statusName(rj.status)}
              </button>
              {rj.status === -1 && rj.error_summary && <div className="cell-error">{rj.error_summary}</div>}
            </td>
          );
        })}
      </tr>
    );
  },
  (before, after) => {
    if (before.label !== after.label || before.columns !== after.columns || before.onSelect !== after.onSelect) return false;
    const holds = (props: GridRowProps) => Object.values(props.cells).some((rj) => hex(rj.uuid) === props.selected);
    if (before.selected !== after.selected && (holds(before) || holds(after))) return false;
    const keys = Object.keys(after.cells);
    return keys.length === Object.keys(before.cells).length && keys.every((k) => before.cells[k] === after.cells[k]);
  },
);

export function RunPage({ id }: { id: string }) {
  const [run, setRun] = useState<Json | null>(null);
  const [workflow, setWorkflow] = useState<Json | null>(null);
  const [runJobs, setRunJobs] = useState<Record<string, Json>>({});
  const [pages, setPages] = useState<Record<string, string>>({});
  const [selected, setSelected] = useState<string | null>(null);
  const [results, setResults] = useState<Json[] | null>(null);
  const [types, setTypes] = useState<ResourceType[]>([]);
  const [packageInfo, setPackageInfo] = useState<Json | null>(null);
  const load = useAction();
  const action = useAction();
  const zip = useAction();
  const [notice] = useState(takeNotice);
  const projectUuid = run ? run.project.replace(/\/$/, "").split("/").pop()! : null;

  // Each page joins the grid as it arrives (the server takes seconds for thousands of RunJobs); the
  // complete list then drops the RunJobs that no longer exist (a redo's).
  const loadRunJobs = useCallback(async () => {
    const byKey = (list: Json[]) => Object.fromEntries(list.map((rj) => [hex(rj.uuid), rj]));
    const list = await allPages<Json>(API + "runjobs/" + query({ workflow_run: id, page_size: 100 }), (page) =>
      setRunJobs((current) => ({ ...current, ...byKey(page) })),
    );
    const kept = new Set(list.map((rj) => hex(rj.uuid)));
    setRunJobs((current) => Object.fromEntries(Object.entries(current).filter(([key]) => kept.has(key))));
  }, [id]);
  const loadResults = useCallback(async () => {
    setResults(await get<Json[]>(API + "resources/" + query({ result_of_workflow_run: id, no_page: "true", ordering: "name" })));
  }, [id]);
  const refresh = useCallback(
    () =>
      load.run(async () => {
        const current = await get<Json>(`${API}workflowrun/${id}/`);
        setRun(current);
        await loadRunJobs();
        const packages = await get<Page<Json>>(API + "resultspackages/" + query({ workflow_run: id }));
        if (packages.results.length) setPackageInfo(packages.results[0]);
        if (current.status === 4) await loadResults();
      }),
    [id, loadRunJobs, loadResults],
  );
  useEffect(() => {
    refresh();
    resourceTypes().then(setTypes, () => {});
  }, [refresh]);
  useEffect(() => {
    if (!run) return;
    get<Json>(run.workflow).then(setWorkflow, () => {});
    get<Json[]>(API + "resources/" + query({ project: projectUuid, no_page: "true" })).then(
      (list) => setPages(Object.fromEntries(list.map((r) => [hex(r.uuid), r.name]))),
      () => {},
    );
  }, [run?.url]);

  // Live: each event rewrites one cell; a RunJob we have not seen yet (a redo, the expansion) reloads the list.
  // Events are applied once per frame: a busy run sends hundreds a second.
  const reloadTimer = useRef<number>();
  const queued = useRef<Json[]>([]);
  const frame = useRef<number | null>(null);
  const applyQueued = useCallback(() => {
    frame.current = null;
    const events = queued.current;
    queued.current = [];
    setRunJobs((current) => {
      const { runJobs: next, unknown } = applyRunJobEvents(current, events);
      if (unknown) {
        window.clearTimeout(reloadTimer.current);
        reloadTimer.current = window.setTimeout(() => loadRunJobs().catch(() => {}), 300);
      }
      return next;
    });
  }, [loadRunJobs]);
  useEffect(() => () => {
    if (frame.current !== null) cancelAnimationFrame(frame.current);
  }, []);
  const streamOpen = useProjectEvents(
    projectUuid,
    (kind, event) => {
      if (kind === "runjob") {
        if (!concernsRun(event, id)) return;
        queued.current.push(event);
        frame.current ??= requestAnimationFrame(applyQueued);
      } else if (kind === "workflowrun" && hex(String(event.uuid)) === hex(id)) {
        setRun((current) => current && { ...current, status: event.status });
        if (event.status === 4) loadResults().catch(() => {});
      } else if (kind === "resultspackage" && idOf(event.workflow_run) === hex(id)) {
        setPackageInfo((current) => ({ ...(current ?? {}), ...event }));
        // The event carries no download link: the package's own representation does.
        if (event.status === 4 && event.url) get<Json>(event.url).then(setPackageInfo, () => {});
      }
    },
    () => refresh(),
  );

  // A selected job's details (error details, interactive link) come from its own representation.
  const [detail, setDetail] = useState<Json | null>(null);
  const selectedStatus = selected ? runJobs[selected]?.status : undefined;
  useEffect(() => {
    setDetail(null);
    if (selected && runJobs[selected]) get<Json>(runJobs[selected].url).then(setDetail, () => {});
  }, [selected, selectedStatus]);

  // Columns change only when a job appears, not on every status: a string keeps the memo (and the rows) still.
  const jobColumns = useMemo(() => {
    const names = new Map<string, string>();
    for (const rj of Object.values(runJobs)) names.set(hex(rj.workflow_job_uuid), rj.job_name);
    return JSON.stringify([...names.entries()].sort());
  }, [runJobs]);
  const columns = useMemo(() => {
    const seen = new Map<string, string>(JSON.parse(jobColumns));
    const order: string[] = (workflow?.workflow_jobs ?? []).map((wj: Json) => hex(wj.uuid));
    const names: Record<string, string> = Object.fromEntries((workflow?.workflow_jobs ?? []).map((wj: Json) => [hex(wj.uuid), wj.name || wj.job_name]));
    const keys = [...order.filter((k) => seen.has(k)), ...[...seen.keys()].filter((k) => !order.includes(k))];
    return keys.map((key) => ({ key, name: names[key] ?? seen.get(key) ?? key }));
  }, [workflow, jobColumns]);
  const rows = useMemo(() => {
    const cells: Record<string, Record<string, Json>> = {};
    for (const rj of Object.values(runJobs)) {
      const row = rj.resource_uuid ? hex(rj.resource_uuid) : "";
      (cells[row] ??= {})[hex(rj.workflow_job_uuid)] = rj; // same object while unchanged: rows re-render only when theirs change
    }
    return Object.entries(cells).sort(([a], [b]) => (pages[a] ?? a).localeCompare(pages[b] ?? b));
  }, [runJobs, pages]);
  const counts = useMemo(() => {
    const tally: Record<string, number> = {};
    for (const rj of Object.values(runJobs)) tally[statusName(rj.status)] = (tally[statusName(rj.status)] ?? 0) + 1;
    return tally;
  }, [runJobs]);

  if (!run) {
    return (
      <main className="page">
        {load.busy && <Progress label="Loading the run…" />}
        <ErrorText error={load.error} />
      </main>
    );
  }
  const setStatus = (status: number) => action.run(async () => {
    await patch(run.url, { status });
    await refresh();
  });
  const redo = (rj: Json) => action.run(async () => {
    await patch(run.url, { last_redone_runjob_tree: rj.url });
    await refresh();
  });
  const makePackage = () => action.run(async () => setPackageInfo(await post(API + "resultspackages/", { workflow_run: run.url, packaging_mode: 0 })));
  const removeRun = () => action.run(async () => {
    await del(run.url);
    navigate(`/projects/${projectUuid}/runs`);
  });
  const selectedJob = selected ? runJobs[selected] : null;
  const zipUrl = results && results.length ? API + "resources/archive/?" + results.map((r) => `resource_uuid=${hex(r.uuid)}`).join("&") : null;
  const total = Object.keys(runJobs).length;

  return (
    <main className="page">
      <p className="crumbs">
        <Link to="/">Projects</Link> / <Link to={`/projects/${projectUuid}/runs`}>Runs</Link> /
      </p>
      <h1>{run.name || "Run"}</h1>
      <div className="row run-head">
        <StatusBadge status={run.status} label={statusName(run.status)} />
        <span className="muted" role="status" aria-live="polite" id="run-summary">
          {Object.entries(counts).map(([label, count]) => `${count} ${label.toLowerCase()}`).join(", ") || "Preparing the jobs…"}
          {total ? ` of ${total}` : ""}
        </span>
        <span className="muted">{streamOpen ? "Live" : "Reconnecting… (refreshing every 5 s)"}</span>
      </div>
      <div className="row">
        {[1, 11, -1].includes(run.status) && (
          <button onClick={() => setStatus(29)} disabled={action.busy}>
            Cancel run
          </button>
        )}
        {[9, -1].includes(run.status) && (
          <button onClick={() => setStatus(31)} disabled={action.busy}>
            Retry failed and cancelled jobs
          </button>
        )}
        <button className="danger" onClick={removeRun} disabled={action.busy || ACTIVE.has(run.status)}>
          Delete run
        </button>
      </div>
      {notice && (
        <p className="notice" role="status" id="run-notice">
          {notice}
        </p>
      )}
      <ErrorText error={action.error} />
      <div className="grid-wrap">
        <table className="run-grid" aria-label="Jobs per page">
          <thead>
            <tr>
              <th scope="col">Page</th>
              {columns.map((column) => (
                <th key={column.key} scope="col">
                  {column.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map(([row, cells]) => (
              <GridRow key={row} label={row ? pages[row] ?? row.slice(0, 8) : "All pages"} cells={cells} columns={columns} selected={selected} onSelect={setSelected} />
            ))}
          </tbody>
        </table>
      </div>
      {selectedJob && (
        <section className="card" aria-label="Selected job">
          <h2>
            {selectedJob.job_name} <StatusBadge status={selectedJob.status} label={statusName(selectedJob.status)} />
          </h2>
          {selectedJob.status === -1 && (
            <>
              <p className="error">{selectedJob.error_summary || "This job failed."}</p>
              {detail?.error_details && (
                <details>
                  <summary>Technical details</summary>
                  <pre>{detail.error_details}</pre>
                </details>
              )}
            </>
          )}
          <div className="row">
            {selectedJob.status === 2 && detail?.interactive_acquire && (
              <Link className="button primary" to={interactivePath(id, detail.uuid)}>
                Open this job's page
              </Link>
            )}
            {[4, -1, 2, 1].includes(selectedJob.status) && (
              <button onClick={() => redo(selectedJob)} disabled={action.busy}>
                Redo from this job
              </button>
            )}
          </div>
        </section>
      )}
      <section className="card" aria-label="Results">
        <h2>Results</h2>
        {run.status !== 4 && <p className="muted">Results appear here when the run has finished.</p>}
        {results && results.length === 0 && <p>This run made no end results.</p>}
        {results && results.length > 0 && (
          <>
            <div className="row">
              {zipUrl && (
                <button onClick={() => zip.run(async () => saveBlob(await getBlob(zipUrl), `${run.name || "Results"}.zip`))} disabled={zip.busy}>
                  {zip.busy ? "Preparing the zip…" : "Download all as zip"}
                </button>
              )}
              {(!packageInfo || [-1, 8, 9].includes(packageInfo.status)) && (
                <button onClick={makePackage} disabled={action.busy}>
                  Make a results package
                </button>
              )}
              {packageInfo && [0, 1].includes(packageInfo.status) && (
                <Progress label={`Making the results package… ${packageInfo.percent_completed ?? 0}%`} />
              )}
              {packageInfo?.status === 4 && packageInfo.package_url && (
                <a className="button" href={packageInfo.package_url} download>
                  Download results package
                </a>
              )}
              {packageInfo?.status === -1 && <p className="error">The results package failed: {packageInfo.error_summary}</p>}
            </div>
            <ErrorText error={zip.error} />
            <ul className="results">
              {results.map((resource) => (
                <li key={resource.uuid}>
                  <span>{resource.name}</span>
                  {resource.resource_file && <DownloadButton resource={resource} types={types} />}
                  {resource.viewer_url && resource.resource_file && (
                    <button className="small" onClick={() => action.run(() => openViewer(resource))}>
                      View
                    </button>
                  )}
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
    </main>
  );
}

