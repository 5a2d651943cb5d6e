// Monitoring for staff (GET /api/monitoring/, rodan/monitoring.py): queues and their depth, workers and what
// they run, RunJobs in flight, the reaper's last passes. Refreshed every few seconds while the page is open.
import { useCallback, useEffect, useState } from "react";
import { API, describe, formatDate, get, type Json } from "./api";
import { Link } from "./router";
import { ErrorText, Progress } from "./ui";

const REFRESH_MS = 5000;

const PHASES: Record<string, string> = {
  scheduled: "Scheduled",
  queued: "Queued (sent, not yet taken)",
  running: "Running",
  waiting_for_input: "Waiting for input",
};

const ACTIONS: Record<string, string> = {
  redispatched: "jobs dispatched again",
  expired_working_users: "interactive jobs freed",
  resumed_after_disk_full: "runs resumed after a full disk",
  scheduled: "jobs scheduled",
  expired_packages: "results packages expired",
  pruned_events: "old events pruned",
  mailed: "e-mails sent",
};

export function Monitoring() {
  const [data, setData] = useState<Json | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [updated, setUpdated] = useState<Date | null>(null);
  const [paused, setPaused] = useState(false);

  const refresh = useCallback(async () => {
    try {
      setData(await get(API + "monitoring/"));
      setError(null);
      setUpdated(new Date());
    } catch (exc) {
      setError(`The monitoring data could not be loaded: ${describe(exc)}`);
    }
  }, []);
  useEffect(() => {
    refresh();
    if (paused) return;
    const timer = window.setInterval(refresh, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [refresh, paused]);

  return (
    <main className="page">
      <h1>Monitoring</h1>
      <div className="row">
        <button onClick={refresh}>Refresh now</button>
        <button onClick={() => setPaused(!paused)} aria-pressed={paused}>
          {paused ? "Resume automatic refresh" : "Pause automatic refresh"}
        </button>
        <span className="muted" role="status">
          {updated ? `Updated ${updated.toLocaleTimeString()}${paused ? " (paused)" : `, every ${REFRESH_MS / 1000} seconds`}.` : ""}
        </span>
      </div>
      <ErrorText error={error} />
      {!data && !error && <Progress label="Loading the monitoring data…" />}
      {data && <Overview data={data} />}
    </main>
  );
}

function Overview({ data }: { data: Json }) {
  const counts = data.run_jobs.counts as Record<string, number>;
  return (
    <div className="stack">
      <section aria-labelledby="monitoring-queues">
        <h2 id="monitoring-queues">Queues</h2>
        <p className="muted">Broker: {data.broker === "embedded" ? "embedded (files in the data folder)" : "RabbitMQ"}.</p>
        <table className="table" id="table-queues">
          <thead>
            <tr>
              <th scope="col">Queue</th>
              <th scope="col">Messages waiting</th>
            </tr>
          </thead>
          <tbody>
            {data.queues.map((queue: Json) => (
              <tr key={queue.name}>
                <th scope="row">{queue.name}</th>
                <td>{queue.depth === "unknown" ? "Unknown: the broker cannot say" : queue.depth}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section aria-labelledby="monitoring-workers">
        <h2 id="monitoring-workers">Workers running jobs</h2>
        {data.workers.length === 0 && <p>No worker is running a job at the moment.</p>}
        {data.workers.length > 0 && (
          <table className="table" id="table-workers">
            <thead>
              <tr>
                <th scope="col">Worker process</th>
                <th scope="col">Last heartbeat</th>
                <th scope="col">State</th>
                <th scope="col">Running</th>
              </tr>
            </thead>
            <tbody>
              {data.workers.map((worker: Json) => (
                <tr key={worker.name}>
                  <th scope="row">{worker.name}</th>
                  <td>{formatDate(worker.last_heartbeat)}</td>
                  <td>{worker.responding ? "Answering" : "Silent: the reaper will take its jobs back"}</td>
                  <td>
                    <ul className="uploads">
                      {worker.run_jobs.map((runJob: Json) => (
                        <li key={runJob.uuid}>
                          <Link to={runJob.page}>{runJob.job_name}</Link>{" "}
                          <span className="muted">since {formatDate(runJob.started_at)}</span>
                        </li>
                      ))}
                    </ul>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="monitoring-runjobs">
        <h2 id="monitoring-runjobs">Jobs in flight</h2>
        <p id="runjob-counts">
          {Object.entries(PHASES)
            .map(([key, label]) => `${label}: ${counts[key] ?? 0}`)
            .join(" · ")}
        </p>
        {data.run_jobs.oldest.length > 0 && (
          <table className="table" id="table-runjobs">
            <caption className="muted">The oldest jobs not yet finished</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">State</th>
                <th scope="col">Worker</th>
                <th scope="col">Created</th>
                <th scope="col">Attempts</th>
              </tr>
            </thead>
            <tbody>
              {data.run_jobs.oldest.map((runJob: Json) => (
                <tr key={runJob.uuid}>
                  <td>
                    <Link to={runJob.page}>{runJob.job_name}</Link>
                  </td>
                  <td>{PHASES[runJob.phase] ?? runJob.phase}</td>
                  <td>{runJob.worker || "—"}</td>
                  <td>{formatDate(runJob.created)}</td>
                  <td>{runJob.attempts}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="monitoring-reaper">
        <h2 id="monitoring-reaper">The reaper's last passes</h2>
        {data.reaper.length === 0 && <p>The reaper has not had to do anything yet.</p>}
        {data.reaper.length > 0 && (
          <table className="table" id="table-reaper">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What it did</th>
              </tr>
            </thead>
            <tbody>
              {data.reaper.map((pass: Json, index: number) => (
                <tr key={`${pass.at}-${index}`}>
                  <td>{formatDate(pass.at)}</td>
                  <td>
                    {Object.entries(pass.actions as Record<string, number>)
                      .map(([kind, count]) => `${count} ${ACTIONS[kind] ?? kind}`)
                      .join(", ")}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
