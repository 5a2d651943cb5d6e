// An interactive job (Pixel, Neon, a form) opened inside the application: the job is acquired
// (`interactive_acquire` gives the working URL) and its page shown in a frame under the app's
// header. When the RunJob leaves "waiting for input" (the event stream says so, or a poll while
// it is down), the user is taken back to the run with a sentence saying what happened.
import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { API, get, hex, local, post, statusName, type Json } from "./api";
import { useProjectEvents } from "./events";
import { leaveNotice } from "./notice";
import { Link, navigate } from "./router";
import { idOf, leftInput, WAITING_FOR_INPUT } from "./rungrid";
import { ErrorText, Progress, useAction } from "./ui";

/** The in-app page of a RunJob; ids as the API writes them (the API's item routes take hyphenated uuids). */
export function interactivePath(runId: string, runJobId: string): string {
  return `/runs/${runId}/interactive/${runJobId}`;
}

/** What the run page says once the job's page is done with. */
function outcome(runJob: Json): string {
  const name = `“${runJob.job_name}”`;
  if (runJob.status === -1) return `${name} failed after its input was submitted: see the job in the grid.`;
  if (runJob.status === 9) return `${name} was cancelled while its page was open.`;
  return `Your input to ${name} was submitted; the run goes on (${statusName(runJob.status).toLowerCase()}).`;
}

export function InteractivePage({ runId, runJobId }: { runId: string; runJobId: string }) {
  const [runJob, setRunJob] = useState<Json | null>(null);
  const [projectUuid, setProjectUuid] = useState<string | null>(null);
  const [workingUrl, setWorkingUrl] = useState<string | null>(null);
  const open = useAction();
  const frame = useRef<HTMLIFrameElement>(null);
  const [frameTop, setFrameTop] = useState(0);
  const runPath = `/runs/${runId}`;

  const finish = (current: Json) => {
    leaveNotice(outcome(current));
    navigate(runPath);
  };

  useEffect(() => {
    open.run(async () => {
      const current = await get<Json>(`${API}runjob/${runJobId}/`);
      setRunJob(current);
      const run = await get<Json>(current.workflow_run);
      setProjectUuid(idOf(run.project));
      if (current.status !== WAITING_FOR_INPUT) {
        throw new Error(`“${current.job_name}” is not waiting for input (it is ${statusName(current.status).toLowerCase()}), so it has no page to open.`);
      }
      const acquired = await post<Json>(current.interactive_acquire ?? `${API}interactive/${runJobId}/acquire/`);
      setWorkingUrl(local(acquired.working_url));
    });
  }, [runJobId]);

  // Back to the run as soon as the job is no longer waiting (submitted here, in another tab, or cancelled).
  const check = () =>
    get<Json>(`${API}runjob/${runJobId}/`).then(
      (current) => leftInput(current) && finish(current),
      () => {},
    );
  useProjectEvents(
    workingUrl ? projectUuid : null,
    (kind, event) => {
      if (kind !== "runjob" || idOf(event.uuid) !== hex(runJobId)) return;
      if (event.status !== WAITING_FOR_INPUT) finish({ ...runJob, ...event });
    },
    check,
  );

  // The frame takes the rest of the window's height below the header and the links.
  useLayoutEffect(() => {
    const measure = () => setFrameTop(frame.current ? frame.current.getBoundingClientRect().top + window.scrollY : 0);
    measure();
    window.addEventListener("resize", measure);
    return () => window.removeEventListener("resize", measure);
  }, [workingUrl]);

  const title = runJob ? `${runJob.job_name}: input for the run` : "Interactive job";
  return (
    <main className="page interactive-page" style={{ maxWidth: "none", paddingBottom: 0 }}>
      <p className="crumbs">
        <Link to="/">Projects</Link> / <Link to={runPath}>Run</Link> /
      </p>
      <div className="row" style={{ alignItems: "baseline", flexWrap: "wrap" }}>
        <h1 style={{ margin: 0 }}>{runJob ? runJob.job_name : "Interactive job"}</h1>
        <Link to={runPath} className="button">
          Back to the run
        </Link>
        {workingUrl && (
          <a href={workingUrl} target="_blank" rel="noopener">
            Open in a new tab
          </a>
        )}
      </div>
      {open.busy && <Progress label="Opening the job's page…" />}
      <ErrorText error={open.error} />
      {workingUrl && (
        <iframe
          ref={frame}
          src={workingUrl}
          title={title}
          style={{ display: "block", width: "100%", border: "1px solid #c4ccd8", marginTop: "0.5rem", height: `calc(100vh - ${Math.round(frameTop) + 8}px)`, minHeight: 400 }}
        />
      )}
    </main>
  );
}
