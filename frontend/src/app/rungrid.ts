// How the run page's RunJobs follow the project's event stream, kept apart from React so it can be
// tested: each event rewrites one RunJob (the same objects otherwise, so unchanged grid rows stay
// still), and an event about a RunJob not yet known asks for the list to be reloaded.
import { hex, type Json } from "./api";

/** Rodan's status of an interactive RunJob that waits for its page to be submitted. */
export const WAITING_FOR_INPUT = 2;

/** RunJobs of one run, by the hex of their uuid. */
export type RunJobs = Record<string, Json>;

/** The hex uuid at the end of a URL or the uuid itself ("" for nothing). */
export function idOf(value: unknown): string {
  return hex(String(value ?? "").replace(/\/$/, "").split("/").pop() ?? "");
}

/** Whether a stream event concerns the run `runId` (events that name no run are taken as concerning it). */
export function concernsRun(event: Json, runId: string): boolean {
  return !event.workflow_run || idOf(event.workflow_run) === hex(runId);
}

/**
 * The RunJobs after a `runjob` event of this run: `unknown` when the event names a RunJob not in
 * `current` (a redo, the run's expansion), whose list is then to be reloaded.
 */
export function applyRunJobEvent(current: RunJobs, event: Json): { runJobs: RunJobs; unknown: boolean } {
  const key = idOf(event.uuid);
  const known = current[key];
  if (!known) return { runJobs: current, unknown: true };
  if (known.status === event.status && (event.error_summary ?? known.error_summary) === known.error_summary) {
    return { runJobs: current, unknown: false };
  }
  return {
    runJobs: { ...current, [key]: { ...known, status: event.status, error_summary: event.error_summary ?? known.error_summary } },
    unknown: false,
  };
}

/** The interactive RunJob `key` is no longer waiting for input (submitted, or moved on by someone else). */
export function leftInput(runJob: Json | undefined): boolean {
  return !!runJob && runJob.status !== WAITING_FOR_INPUT;
}
