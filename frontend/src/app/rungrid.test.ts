import { expect, it } from "vitest";
import { applyRunJobEvents, concernsRun, idOf, leftInput } from "./rungrid";

const applyRunJobEvent = (current: Record<string, any>, event: Record<string, any>) => applyRunJobEvents(current, [event]);

const a = { uuid: "aaaa-1", status: 0, error_summary: "" };
const b = { uuid: "bbbb-2", status: 1, error_summary: "" };
const current = { aaaa1: a, bbbb2: b };

it("rewrites only the RunJob the event names, keeping the others' objects", () => {
  const { runJobs, unknown } = applyRunJobEvent(current, { uuid: "aaaa-1", status: 4 });
  expect(unknown).toBe(false);
  expect(runJobs.aaaa1.status).toBe(4);
  expect(runJobs.bbbb2).toBe(b);
  expect(current.aaaa1.status).toBe(0);
});

it("keeps the error summary unless the event brings one", () => {
  const failed = applyRunJobEvent(current, { uuid: "bbbb2", status: -1, error_summary: "Boom." }).runJobs;
  expect(failed.bbbb2.error_summary).toBe("Boom.");
  expect(applyRunJobEvent(failed, { uuid: "bbbb2", status: 11 }).runJobs.bbbb2.error_summary).toBe("Boom.");
});

it("returns the same object when nothing changed, so React does not re-render", () => {
  expect(applyRunJobEvent(current, { uuid: "aaaa1", status: 0 }).runJobs).toBe(current);
});

it("asks for a reload when the RunJob is not known yet", () => {
  const result = applyRunJobEvent(current, { uuid: "cccc3", status: 0 });
  expect(result.unknown).toBe(true);
  expect(result.runJobs).toBe(current);
});

it("tells events of this run from another run's", () => {
  expect(concernsRun({ workflow_run: "http://h/api/workflowrun/1234-5/" }, "12345")).toBe(true);
  expect(concernsRun({ workflow_run: "http://h/api/workflowrun/9999/" }, "12345")).toBe(false);
  expect(concernsRun({}, "12345")).toBe(true);
});

it("reads ids from URLs and hyphenated uuids", () => {
  expect(idOf("http://h/api/runjob/ab-cd/")).toBe("abcd");
  expect(idOf("ab-cd")).toBe("abcd");
  expect(idOf(undefined)).toBe("");
});

it("says an interactive job has left 'waiting for input' only once its status moved", () => {
  expect(leftInput({ status: 2 })).toBe(false);
  expect(leftInput({ status: 0 })).toBe(true);
  expect(leftInput({ status: 4 })).toBe(true);
  expect(leftInput(undefined)).toBe(false);
});

it("applies a frame's events in order with one copy, the last status winning", () => {
  const events = [
    { uuid: "aaaa1", status: 1 },
    { uuid: "bbbb2", status: -1, error_summary: "Boom." },
    { uuid: "aaaa1", status: 4 },
    { uuid: "dddd4", status: 0 },
  ];
  const { runJobs, unknown } = applyRunJobEvents(current, events);
  expect(runJobs.aaaa1.status).toBe(4);
  expect(runJobs.bbbb2).toMatchObject({ status: -1, error_summary: "Boom." });
  expect(unknown).toBe(true);
  expect(current.aaaa1.status).toBe(0);
  expect(applyRunJobEvents(current, []).runJobs).toBe(current);
});
