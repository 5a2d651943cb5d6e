// Projects: list, create, rename, delete; members (admins, workers) by username (rodan-compat §2.3).
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { API, del, formatDate, get, patch, post, put, query, type Json, type Page } from "./api";
import { Link, navigate } from "./router";
import { ErrorText, Progress, useAction } from "./ui";

export function ProjectList() {
  const [page, setPage] = useState(1);
  const [search, setSearch] = useState("");
  const [data, setData] = useState<Page<Json> | null>(null);
  const [name, setName] = useState("");
  const load = useAction();
  const create = useAction();
  const refresh = useCallback(
    () => load.run(async () => setData(await get(API + "projects/" + query({ page, name__icontains: search })))),
    [page, search],
  );
  useEffect(() => {
    refresh();
  }, [refresh]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.run(async () => {
      const project = await post<Json>(API + "projects/", { name: name.trim() });
      setName("");
      navigate(`/projects/${project.uuid}/resources`);
    });
  };
  return (
    <main className="page">
      <h1>Projects</h1>
      <form className="inline-form" onSubmit={submit}>
        <label>
          New project name
          <input required maxLength={255} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit" className="primary" disabled={create.busy}>
          Create project
        </button>
        <ErrorText error={create.error} />
      </form>
      <label className="search">
        Search projects
        <input type="search" value={search} onChange={(e) => { setSearch(e.target.value); setPage(1); }} />
      </label>
      {load.busy && !data && <Progress label="Loading projects…" />}
      <ErrorText error={load.error} />
      {data && data.results.length === 0 && <p>No projects yet. Create one above to upload pages and build workflows.</p>}
      {data && data.results.length > 0 && (
        <table className="table" id="table-projects">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Creator</th>
              <th scope="col">Resources</th>
              <th scope="col">Workflows</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {data.results.map((project) => (
              <tr key={project.uuid}>
                <td>
                  <Link to={`/projects/${project.uuid}/resources`}>{project.name}</Link>
                </td>
                <td>{project.creator}</td>
                <td>{project.resource_count}</td>
                <td>{project.workflow_count}</td>
                <td>{formatDate(project.created)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data && <Pager page={page} total={data.total_pages} onPage={setPage} />}
    </main>
  );
}

export function Pager({ page, total, onPage }: { page: number; total: number; onPage: (page: number) => void }) {
  if (total <= 1) return null;
  return (
    <nav className="pager" aria-label="Pages">
      <button disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Previous
      </button>
      <span>
        Page {page} of {total}
      </span>
      <button disabled={page >= total} onClick={() => onPage(page + 1)}>
        Next
      </button>
    </nav>
  );
}

/** Project settings: rename, members, delete. */
export function ProjectSettings({ project, onChange }: { project: Json; onChange: () => void }) {
  const [name, setName] = useState(project.name);
  const [description, setDescription] = useState(project.description ?? "");
  const rename = useAction();
  const remove = useAction();
  const [saved, setSaved] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    rename.run(async () => {
      await patch(project.url, { name: name.trim(), description });
      setSaved(true);
      onChange();
    });
  };
  const destroy = () =>
    remove.run(async () => {
      await del(project.url);
      navigate("/");
    });
  return (
    <div className="stack">
      <form className="card form" onSubmit={submit}>
        <h2>Name and description</h2>
        <label>
          Name
          <input required maxLength={255} value={name} onChange={(e) => { setName(e.target.value); setSaved(false); }} />
        </label>
        <label>
          Description
          <textarea value={description} onChange={(e) => { setDescription(e.target.value); setSaved(false); }} />
        </label>
        <ErrorText error={rename.error} />
        {saved && <p role="status">Saved.</p>}
        <button type="submit" disabled={rename.busy}>
          Save
        </button>
      </form>
      <Members project={project} role="admins" title="Administrators" />
      <Members project={project} role="workers" title="Workers" />
      <section className="card form danger-zone">
        <h2>Delete this project</h2>
        <p>Deleting removes its resources, workflows, runs and results for good.</p>
        {!confirming ? (
          <button className="danger" onClick={() => setConfirming(true)}>
            Delete project…
          </button>
        ) : (
          <div className="row">
            <button className="danger" onClick={destroy} disabled={remove.busy}>
              {remove.busy ? "Deleting…" : `Yes, delete “${project.name}”`}
            </button>
            <button onClick={() => setConfirming(false)}>Keep it</button>
          </div>
        )}
        <ErrorText error={remove.error} />
      </section>
    </div>
  );
}

function Members({ project, role, title }: { project: Json; role: "admins" | "workers"; title: string }) {
  const url = project[`${role}_url`] ?? `${project.url}${role}/`;
  const [members, setMembers] = useState<string[]>([]);
  const [username, setUsername] = useState("");
  const action = useAction();
  useEffect(() => {
    action.run(async () => setMembers(await get(url)));
  }, [url]);
  const save = (next: string[]) => action.run(async () => setMembers(await put(url, next)));
  const add = (event: FormEvent) => {
    event.preventDefault();
    const name = username.trim();
    if (!name) return;
    save([...members.filter((m) => m !== name), name]).then(() => setUsername(""));
  };
  return (
    <section className="card form">
      <h2>{title}</h2>
      <ul className="members" aria-label={title}>
        {members.map((member) => (
          <li key={member}>
            {member}
            {!(role === "admins" && member === project.creator) && (
              <button className="small" onClick={() => save(members.filter((m) => m !== member))} aria-label={`Remove ${member} from ${title.toLowerCase()}`}>
                Remove
              </button>
            )}
          </li>
        ))}
        {members.length === 0 && <li>None yet.</li>}
      </ul>
      <form className="inline-form" onSubmit={add}>
        <label>
          Add by username
          <input value={username} onChange={(e) => setUsername(e.target.value)} />
        </label>
        <button type="submit" disabled={action.busy}>
          Add
        </button>
      </form>
      <ErrorText error={action.error} />
    </section>
  );
}
