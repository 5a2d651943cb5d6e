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

/** The RunJob as the event leaves it, or null when the event changes nothing. */
function changed(known: Json, event: Json): Json | null {
  const summary = event.error_summary ?? known.error_summary;
  if (known.status === event.status && summary === known.error_summary) return null;
  return { ...known, status: event.status, error_summary: summary };
}

/**
 * The RunJobs after `runjob` events of this run, applied in order. `unknown` when one names a
 * RunJob not in `current` (a redo, the run's expansion), whose list is then to be reloaded. A busy
 * run sends hundreds a second, so the page applies a frame's events at once: the RunJobs are
 * copied at most once, and unchanged RunJobs stay the same objects (their grid rows stay still).
 */
export function applyRunJobEvents(current: RunJobs, events: Json[]): { runJobs: RunJobs; unknown: boolean } {
  let next = current;
  let unknown = false;
  for (const event of events) {
    const key = idOf(event.uuid);
    const known = next[key];
    if (!known) {
      unknown = true;
      continue;
    }
    const after = changed(known, event);
    if (!after) continue;
    if (next === current) next = { ...current };
    next[key] = after;
  }
  return { runJobs: next, unknown };
}

/** The interactive RunJob `key` is no longer waiting for input (submitted, or moved on by someone else). */
export function leftInput(runJob: Json | undefined): boolean {
  return !!runJob && runJob.status !== WAITING_FOR_INPUT;
}
