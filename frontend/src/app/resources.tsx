// A project's resources: drag-and-drop upload with per-file progress and errors, the type shown and
// changeable, filter/sort/paginate, the deep-zoom viewer, download, delete (rodan-compat §2.5).
import { useCallback, useEffect, useRef, useState, type DragEvent } from "react";
import { API, del, describe, get, patch, post, query, statusName, upload, formatDate, type Json, type Page } from "./api";
import { resourceTypes, type ResourceType } from "./catalogue";
import { useProjectEvents } from "./events";
import { Pager } from "./projects";
import { ErrorText, Progress, saveBlob, useAction } from "./ui";

interface Upload {
  id: number;
  name: string;
  progress: number;
  state: "waiting" | "sending" | "stored" | "failed";
  error?: string;
}

let uploadCounter = 0;

/** Open a resource in the deep-zoom viewer: acquire its working URL, then open that in a new tab. */
export async function openViewer(resource: Json): Promise<void> {
  const tab = window.open("about:blank", "_blank");
  try {
    const acquired = await post<Json>(resource.viewer_url);
    if (tab) tab.location.href = acquired.working_url;
    else window.location.href = acquired.working_url;
  } catch (error) {
    tab?.close();
    throw error;
  }
}

export function downloadName(resource: Json, types: ResourceType[]): string {
  const type = types.find((t) => t.url === resource.resource_type);
  return type?.extension ? `${resource.name}.${type.extension}` : resource.name;
}

/**
 * Save a resource's file as `<name>.<ext>`, as Rodan's client does. The file is fetched first: the
 * server names it `original_file` in its headers, which would override a link's `download` name.
 */
export function DownloadButton({ resource, types }: { resource: Json; types: ResourceType[] }) {
  const { busy, error, run } = useAction();
  const save = () =>
    run(async () => {
      const reply = await fetch(resource.resource_file);
      if (!reply.ok) throw new Error(`The file of “${resource.name}” could not be downloaded (HTTP ${reply.status}).`);
      saveBlob(await reply.blob(), downloadName(resource, types));
    });
  return (
    <>
      <button className="small" onClick={save} disabled={busy} aria-label={`Download ${resource.name}`}>
        {busy ? "Downloading…" : "Download"}
      </button>
      <ErrorText error={error} />
    </>
  );
}

/** A resource's labels as comma-separated text, saved on Enter or when the field is left (`label_names` replaces them). */
function LabelsCell({ resource, onSaved }: { resource: Json; onSaved: () => void }) {
  const current = (resource.labels ?? []).map((label: Json) => label.name).join(", ");
  const [text, setText] = useState(current);
  const { busy, error, run } = useAction();
  useEffect(() => setText(current), [current]);
  const save = () => {
    if (text.trim() === current) return;
    run(async () => {
      await patch(resource.url, { label_names: text.split(",").map((name: string) => name.trim()).filter(Boolean).join(",") });
      onSaved();
    });
  };
  return (
    <>
      <input
        className="labels-input"
        aria-label={`Labels of ${resource.name}`}
        placeholder="add labels, comma-separated"
        value={text}
        disabled={busy}
        onChange={(e) => setText(e.target.value)}
        onBlur={save}
        onKeyDown={(e) => e.key === "Enter" && save()}
      />
      <ErrorText error={error} />
    </>
  );
}

/** The small thumbnail of an image resource (Rodan's `small_thumb`), fetched only when scrolled into view. */
function Thumbnail({ resource }: { resource: Json }) {
  const [failed, setFailed] = useState(false);
  useEffect(() => setFailed(false), [resource.small_thumb]);
  if (!resource.small_thumb) return null;
  if (failed) return <span className="muted">No preview</span>;
  return (
    <img
      className="thumb"
      src={resource.small_thumb}
      alt={`Thumbnail of ${resource.name}`}
      loading="lazy"
      decoding="async"
      style={{ maxWidth: 80, maxHeight: 80, display: "block" }}
      onError={() => setFailed(true)}
    />
  );
}

export function Resources({ project }: { project: Json }) {
  const [types, setTypes] = useState<ResourceType[]>([]);
  const [data, setData] = useState<Page<Json> | null>(null);
  const [page, setPage] = useState(1);
  const [search, setSearch] = useState("");
  const [typeFilter, setTypeFilter] = useState("");
  const [labelFilter, setLabelFilter] = useState("");
  const [labels, setLabels] = useState<Json[]>([]);
  const [ordering, setOrdering] = useState("-created");
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [dragging, setDragging] = useState(false);
  const [rowErrors, setRowErrors] = useState<Record<string, string>>({});
  const [confirmDelete, setConfirmDelete] = useState<string | null>(null);
  const load = useAction();
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    resourceTypes().then(setTypes, (error) => load.setError(describe(error)));
  }, []);
  const refresh = useCallback(
    () =>
      load.run(async () => {
        setData(
          await get(
            API + "resources/" + query({ project: project.uuid, page, name__icontains: search, resource_type: typeFilter, labels: labelFilter, ordering }),
          ),
        );
        setLabels(await get<Json[]>(API + "labels/?disable_pagination=true"));
      }),
    [project.uuid, page, search, typeFilter, labelFilter, ordering],
  );
  useEffect(() => {
    refresh();
  }, [refresh]);

  // Identification finishes after the upload: the stream says when (a poll while it is down).
  const pending = data?.results.some((r) => r.processing_status === 0 || r.processing_status === 1) ?? false;
  const refreshTimer = useRef<number>();
  useProjectEvents(
    project.uuid,
    (kind) => {
      if (kind !== "resource") return;
      window.clearTimeout(refreshTimer.current);
      refreshTimer.current = window.setTimeout(refresh, 300);
    },
    pending ? refresh : undefined,
  );

  const setRowError = (uuid: string, message: string | null) =>
    setRowErrors((errors) => {
      const next = { ...errors };
      if (message) next[uuid] = message;
      else delete next[uuid];
      return next;
    });

  const startUploads = async (files: File[]) => {
    if (!files.length) return;
    const entries = files.map((file) => ({ id: ++uploadCounter, name: file.name, progress: 0, state: "waiting" as const }));
    setUploads((current) => [...entries, ...current.filter((u) => u.state !== "stored")]);
    const update = (id: number, change: Partial<Upload>) =>
      setUploads((current) => current.map((u) => (u.id === id ? { ...u, ...change } : u)));
    // Two at a time: each file gets its own request, so one refused file never takes the others with it.
    const queue = files.map((file, index) => ({ file, id: entries[index].id }));
    const worker = async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        const { file, id } = item;
        update(id, { state: "sending" });
        try {
          await upload(project.url, file, (progress) => update(id, { progress }));
          update(id, { state: "stored", progress: 1 });
        } catch (error) {
          update(id, { state: "failed", error: describe(error) });
        }
      }
    };
    await Promise.all([worker(), worker()]);
    refresh();
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    startUploads(Array.from(event.dataTransfer.files));
  };

  const changeType = async (resource: Json, typeUrl: string) => {
    setRowError(resource.uuid, null);
    try {
      await patch(resource.url, { resource_type: typeUrl });
      refresh();
    } catch (error) {
      setRowError(resource.uuid, describe(error));
    }
  };

  const remove = async (resource: Json) => {
    setConfirmDelete(null);
    setRowError(resource.uuid, null);
    try {
      await del(resource.url);
      refresh();
    } catch (error: any) {
      const inUse = error?.status === 409;
      setRowError(
        resource.uuid,
        inUse
          ? `“${resource.name}” is used by a run of this project, so it cannot be deleted. Delete the runs that use it first.`
          : describe(error),
      );
    }
  };

  const view = async (resource: Json) => {
    setRowError(resource.uuid, null);
    try {
      await openViewer(resource);
    } catch (error) {
      setRowError(resource.uuid, describe(error));
    }
  };

  return (
    <div className="stack">
      <div
        className={`dropzone${dragging ? " dragging" : ""}`}
        onDragEnter={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>Drop page images or other files here to upload them, or</p>
        <button className="primary" onClick={() => fileInput.current?.click()}>
          Choose files…
        </button>
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          aria-label="Files to upload"
          data-testid="upload-input"
          onChange={(e) => {
            startUploads(Array.from(e.target.files ?? []));
            e.target.value = "";
          }}
        />
      </div>
      {uploads.length > 0 && (
        <ul className="uploads" aria-label="Uploads">
          {uploads.map((u) => (
            <li key={u.id} className={`upload upload-${u.state}`}>
              <span className="upload-name">{u.name}</span>
              {u.state === "failed" ? (
                <span className="error" role="alert">
                  Not uploaded: {u.error}
                </span>
              ) : (
                <>
                  <progress max={1} value={u.progress} aria-label={`Upload of ${u.name}`} />
                  <span>{u.state === "stored" ? "Uploaded" : u.state === "waiting" ? "Waiting" : `${Math.round(u.progress * 100)}%`}</span>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      <div className="filters">
        <label>
          Name contains
          <input type="search" value={search} onChange={(e) => { setSearch(e.target.value); setPage(1); }} />
        </label>
        <label>
          Type
          <select value={typeFilter} onChange={(e) => { setTypeFilter(e.target.value); setPage(1); }}>
            <option value="">Any type</option>
            {types.map((t) => (
              <option key={t.uuid} value={t.uuid}>
                {t.description}
              </option>
            ))}
          </select>
        </label>
        <label>
          Label
          <select value={labelFilter} onChange={(e) => { setLabelFilter(e.target.value); setPage(1); }}>
            <option value="">Any label</option>
            {labels.map((label) => (
              <option key={label.uuid} value={label.uuid}>
                {label.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Sort by
          <select value={ordering} onChange={(e) => setOrdering(e.target.value)}>
            <option value="-created">Newest first</option>
            <option value="created">Oldest first</option>
            <option value="name">Name A–Z</option>
            <option value="-name">Name Z–A</option>
          </select>
        </label>
      </div>
      {load.busy && !data && <Progress label="Loading resources…" />}
      <ErrorText error={load.error} />
      {data && data.count === 0 && <p>No resources match. Upload page images above.</p>}
      {data && data.results.length > 0 && (
        <table className="table" id="table-resources">
          <thead>
            <tr>
              <th scope="col">Preview</th>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Labels</th>
              <th scope="col">State</th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {data.results.map((resource) => (
              <tr key={resource.uuid} data-resource={resource.name}>
                <td className="thumb-cell">
                  <Thumbnail resource={resource} />
                </td>
                <td>{resource.name}</td>
                <td>
                  <select
                    aria-label={`Type of ${resource.name}`}
                    value={resource.resource_type}
                    onChange={(e) => changeType(resource, e.target.value)}
                  >
                    {types.map((t) => (
                      <option key={t.uuid} value={t.url}>
                        {t.description} ({t.mimetype})
                      </option>
                    ))}
                  </select>
                </td>
                <td>
                  <LabelsCell resource={resource} onSaved={refresh} />
                </td>
                <td>
                  {resource.processing_status === -1 ? (
                    <span className="error">Failed: {resource.error_summary || "the file could not be identified."}</span>
                  ) : resource.processing_status === null && !resource.resource_file ? (
                    "Not made yet"
                  ) : resource.processing_status === null ? (
                    "Ready"
                  ) : (
                    `${statusName(resource.processing_status)}…`
                  )}
                </td>
                <td>{formatDate(resource.created)}</td>
                <td className="actions">
                  {resource.viewer_url && resource.resource_file && (
                    <button className="small" onClick={() => view(resource)} aria-label={`View ${resource.name}`}>
                      View
                    </button>
                  )}
                  {resource.resource_file && <DownloadButton resource={resource} types={types} />}
                  {confirmDelete === resource.uuid ? (
                    <>
                      <button className="small danger" onClick={() => remove(resource)}>
                        Confirm delete
                      </button>
                      <button className="small" onClick={() => setConfirmDelete(null)}>
                        Keep
                      </button>
                    </>
                  ) : (
                    <button className="small" onClick={() => setConfirmDelete(resource.uuid)} aria-label={`Delete ${resource.name}`}>
                      Delete
                    </button>
                  )}
                  {rowErrors[resource.uuid] && (
                    <p className="error" role="alert">
                      {rowErrors[resource.uuid]}
                    </p>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data && <Pager page={page} total={data.total_pages} onPage={setPage} />}
      {data && <p className="muted">{data.count} resources</p>}
    </div>
  );
}
