// The saved-work client with fake timers and a stubbed fetch: debounce, retry while offline, refusal.
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { WorkSaver, type SaveState } from "./savedwork";

/** A page whose changes are strings, sent as `{entries: [...]}`. */
class ListSaver extends WorkSaver<string[]> {
  pending: string[] = [];
  get unsaved() {
    return this.pending.length > 0;
  }
  add(entry: string) {
    this.pending.push(entry);
    return this.scheduleSave();
  }
  protected takeChanges() {
    const entries = this.pending;
    this.pending = [];
    return { entries };
  }
  protected giveBack(body: { entries?: string[] }) {
    this.pending = [...(body.entries ?? []), ...this.pending];
  }
  protected dropChanges() {
    this.pending = [];
  }
}

const URL = "/api/interactive/j/t/work/";
let fetchMock: ReturnType<typeof vi.fn>;
let states: SaveState["kind"][];

function reply(status: number, body: object) {
  return Promise.resolve(new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } }));
}

function sent(call: number) {
  const [url, init] = fetchMock.mock.calls[call];
  return { url, method: init?.method, body: init?.body ? JSON.parse(init.body) : null };
}

beforeEach(() => {
  vi.useFakeTimers();
  const store = new Map<string, string>();
  vi.stubGlobal("window", globalThis);
  vi.stubGlobal("sessionStorage", { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => store.set(k, v) });
  fetchMock = vi.fn();
  vi.stubGlobal("fetch", fetchMock);
  states = [];
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

function saver() {
  return new ListSaver(URL, (state) => states.push(state.kind));
}

it("keeps one editor id per tab and URL", () => {
  expect(saver().editor).toBe(saver().editor);
});

it("loads the saved version", async () => {
  fetchMock.mockReturnValueOnce(reply(200, { version: 7, saved: "t", work: ["x"] }));
  const s = saver();
  expect((await s.load()).work).toEqual(["x"]);
  expect(s.version).toBe(7);
  expect(states).toEqual(["saved"]);
});

it("sends changes made close together as one save, after the delay, with the version they follow", async () => {
  fetchMock.mockImplementation(() => reply(200, { version: 1, saved: "now" }));
  const s = saver();
  s.add("a");
  await vi.advanceTimersByTimeAsync(1500);
  s.add("b");
  await vi.advanceTimersByTimeAsync(1500);
  expect(fetchMock).not.toHaveBeenCalled();
  await vi.advanceTimersByTimeAsync(600);
  expect(fetchMock).toHaveBeenCalledTimes(1);
  const put = sent(0);
  expect(put.url).toBe(URL);
  expect(put.method).toBe("PUT");
  expect(put.body).toEqual({ editor: s.editor, version: 0, entries: ["a", "b"] });
  expect(s.version).toBe(1);
  expect(s.state).toEqual({ kind: "saved", at: "now" });
  expect(states).toEqual(["pending", "pending", "saving", "saved"]);
});

it("keeps changes through a network failure and sends them again a few seconds later", async () => {
  fetchMock.mockImplementationOnce(() => Promise.reject(new TypeError("Failed to fetch")));
  fetchMock.mockImplementation(() => reply(200, { version: 2, saved: "later" }));
  const s = saver();
  s.add("a");
  await vi.advanceTimersByTimeAsync(2000);
  expect(s.state.kind).toBe("offline");
  expect(s.unsaved).toBe(true);
  s.pending.push("b"); // made while offline
  await vi.advanceTimersByTimeAsync(5000);
  expect(fetchMock).toHaveBeenCalledTimes(2);
  expect(sent(1).body.entries).toEqual(["a", "b"]);
  expect(s.unsaved).toBe(false);
  expect(s.state.kind).toBe("saved");
});

it("stops saving when refused, says why, and offers to take over only from another tab", async () => {
  fetchMock.mockImplementationOnce(() => reply(409, { message: "The work is open in another tab." }));
  const s = saver();
  s.add("a");
  await vi.advanceTimersByTimeAsync(2000);
  expect(s.state).toEqual({ kind: "blocked", message: "The work is open in another tab.", canTakeOver: true });
  expect(s.unsaved).toBe(true); // nothing lost
  expect(s.add("b")).toBe(false);
  await vi.advanceTimersByTimeAsync(10000);
  expect(fetchMock).toHaveBeenCalledTimes(1);
});

it("cannot take over work saved newer elsewhere", async () => {
  fetchMock.mockImplementationOnce(() => reply(409, { message: "Newer work was saved since version 0." }));
  const s = saver();
  s.add("a");
  await vi.advanceTimersByTimeAsync(2000);
  expect(s.state).toMatchObject({ kind: "blocked", canTakeOver: false });
});

it("describes a refusal without a JSON body by its HTTP status", async () => {
  fetchMock.mockImplementationOnce(() => Promise.resolve(new Response("<html>", { status: 502, statusText: "Bad Gateway" })));
  const s = saver();
  s.add("a");
  await vi.advanceTimersByTimeAsync(2000);
  expect(s.state).toMatchObject({ kind: "blocked", message: "The server answered 502 Bad Gateway." });
});

it("claims the lock, renews it while idle, and saves nothing after stop()", async () => {
  fetchMock.mockImplementation(() => reply(200, { version: 0, saved: null }));
  const s = saver();
  expect(await s.claim()).toBe(true);
  expect(sent(0).body).toEqual({ editor: s.editor, version: 0, take_over: false });
  await vi.advanceTimersByTimeAsync(20000);
  expect(fetchMock).toHaveBeenCalledTimes(2);
  expect(sent(1).body).toEqual({ editor: s.editor, version: 0 });
  s.add("a");
  s.stop();
  await vi.advanceTimersByTimeAsync(2000);
  expect(fetchMock).toHaveBeenCalledTimes(2);
  expect(s.unsaved).toBe(false);
});

it("a refused claim leaves the page blocked", async () => {
  fetchMock.mockImplementation(() => reply(409, { message: "Someone in another tab holds the work." }));
  const s = saver();
  expect(await s.claim()).toBe(false);
  expect(s.state).toMatchObject({ kind: "blocked", canTakeOver: true });
});
