// The web application at /: who is signed in, the top bar, and the routes.
import { lazy, StrictMode, Suspense, useCallback, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { API, get, getToken, isUuid, post, query, setToken, setUnauthorizedHandler, type Json, type Page } from "./api";
import { ForgotPassword, MailedLink, Preferences, Register, SignIn } from "./auth";
import { InteractivePage } from "./interactive";
import { ProjectList, ProjectSettings } from "./projects";
import { Resources } from "./resources";
import { Monitoring } from "./monitoring";
import { Link, match, navigate, usePath } from "./router";
import { RunPage, Runs } from "./runs";
import { ErrorText, Progress, useAction } from "./ui";

// The graph editor and the settings forms (React Flow, rjsf, AJV) are most of the code: loaded when first needed.
const Workflows = lazy(() => import("./workflows").then((module) => ({ default: module.Workflows })));
const WorkflowEditor = lazy(() => import("./workflows").then((module) => ({ default: module.WorkflowEditor })));
import "./app.css";

function App() {
  const [user, setUser] = useState<Json | null>(null);
  const [checking, setChecking] = useState(!!getToken());
  const path = usePath();
  const hash = location.hash.match(/^#(activate|password-reset)\/([^/]+)\/([^/]+)/);

  const signOut = useCallback(async () => {
    try {
      await post(API + "auth/reset-token/");
    } catch {
      /* the token is forgotten here whatever the server says */
    }
    setToken(null);
    setUser(null);
    navigate("/");
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setToken(null);
      setUser(null);
    });
    if (!getToken()) return;
    get(API + "auth/me/")
      .then(setUser, () => setToken(null))
      .finally(() => setChecking(false));
  }, []);

  if (hash) return <MailedLink kind={hash[1]} uid={hash[2]} token={hash[3]} />;
  if (checking) return <Progress label="Loading Rodan…" />;
  if (!user) {
    if (path === "/register") return <Register />;
    if (path === "/forgot-password") return <ForgotPassword />;
    return <SignIn onSignedIn={setUser} />;
  }
  return (
    <>
      <a className="skip" href="#content">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          Rodan
        </Link>
        <nav aria-label="Main">
          <Link to="/">Projects</Link>
          <Link to="/preferences">Preferences</Link>
          {user.is_staff && <Link to="/monitoring">Monitoring</Link>}
        </nav>
        <span className="who">{user.username}</span>
        <button onClick={signOut}>Sign out</button>
      </header>
      <div id="content">
        <Suspense fallback={<Progress label="Loading…" />}>
          <Routes path={path} user={user} />
        </Suspense>
      </div>
    </>
  );
}

function Routes({ path, user }: { path: string; user: Json }) {
  let params;
  if ((params = match("/projects/:id/:tab", path))) return <ProjectPage id={params.id} tab={params.tab} />;
  if ((params = match("/projects/:id", path))) return <ProjectPage id={params.id} tab="resources" />;
  if ((params = match("/workflows/:id", path))) return <WorkflowEditor id={params.id} />;
  if ((params = match("/runs/:run/interactive/:runjob", path))) return <InteractivePage runId={params.run} runJobId={params.runjob} />;
  if ((params = match("/runs/:id", path))) return <RunPage id={params.id} />;
  if (path === "/preferences") return <Preferences user={user} />;
  if (path === "/monitoring") {
    if (user.is_staff) return <Monitoring />;
    return (
      <main className="page">
        <h1>Monitoring</h1>
        <p className="error" role="alert">
          Only staff users can see the monitoring page. <Link to="/">Go to your projects</Link>.
        </p>
      </main>
    );
  }
  if (path === "/" || path === "/register" || path === "/forgot-password") return <ProjectList />;
  return (
    <main className="page">
      <h1>Page not found</h1>
      <p>
        There is no page at this address. <Link to="/">Go to your projects</Link>.
      </p>
    </main>
  );
}

const TABS: [string, string][] = [
  ["resources", "Resources"],
  ["workflows", "Workflows"],
  ["runs", "Runs"],
  ["settings", "Settings and members"],
];

function ProjectPage({ id, tab }: { id: string; tab: string }) {
  const [project, setProject] = useState<Json | null>(null);
  const load = useAction();
  // The list's representation, not the item's: the item lists every resource of the project (seconds for thousands).
  const refresh = useCallback(
    () =>
      load.run(async () => {
        const missing = "This project no longer exists, or you cannot see it.";
        if (!isUuid(id)) throw new Error(missing);
        const found = await get<Page<Json>>(API + "projects/" + query({ uuid: id }));
        if (!found.results.length) throw new Error(missing);
        setProject(found.results[0]);
      }),
    [id],
  );
  useEffect(() => {
    refresh();
  }, [refresh]);
  // The resources and runs tabs need only the project's id and URL: they load beside the project.
  const early = tab === "resources" || tab === "runs";
  if (!project && (!early || load.error)) {
    return (
      <main className="page">
        {load.busy && <Progress label="Loading the project…" />}
        <ErrorText error={load.error} />
      </main>
    );
  }
  const full = project ? { ...project, uuid: project.uuid ?? id } : { uuid: id, url: `${location.origin}${API}project/${id}/` };
  return (
    <main className="page">
      <p className="crumbs">
        <Link to="/">Projects</Link> /
      </p>
      <h1>{project ? project.name : "Project"}</h1>
      <nav className="tabs" aria-label="Project">
        {TABS.map(([key, label]) => (
          <Link key={key} to={`/projects/${id}/${key}`} aria-current={tab === key ? "page" : undefined}>
            {label}
          </Link>
        ))}
      </nav>
      {tab === "resources" && <Resources project={full} />}
      {tab === "workflows" && project && <Workflows project={full} />}
      {tab === "runs" && <Runs project={full} />}
      {tab === "settings" && project && <ProjectSettings project={full} onChange={refresh} />}
    </main>
  );
}

createRoot(document.getElementById("app")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
