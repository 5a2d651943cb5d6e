// Saving the page's MEI on the server (rodan.interactive_work, `<working URL>work/`)
// as the whole document `{"mei": ...}`, a few seconds after each change, with the
// version it was based on, under this tab's edit lock (renewed while the page is
// open). Pixel's client appends a log of edits instead; a page of MEI is one
// document, replaced at each save. A refusal (another tab, newer work saved
// elsewhere) stops saving and is shown as a sentence.

export interface SavedWork {
  version: number;
  saved: string | null;
  work: { mei?: string } | null;
}

export type SaveState =
  | { kind: "saved"; at: string | null }
  | { kind: "pending" }
  | { kind: "saving" }
  | { kind: "offline"; message: string }
  | { kind: "blocked"; message: string; canTakeOver: boolean };

const DELAY_MS = 2000;
const RENEW_MS = 20000;
const RETRY_MS = 5000;

async function messageOf(response: Response): Promise<string> {
  try {
    const body = await response.json();
    return body.message ?? body.detail ?? `The server answered ${response.status}.`;
  } catch {
    return `The server answered ${response.status} ${response.statusText}.`;
  }
}

export class Saver {
  /** This tab's editor id: kept across reloads of the tab (sessionStorage), new in another tab. */
  readonly editor: string;
  private version = 0;
  private savedAt: string | null = null;
  private timer: number | undefined;
  private dirty = false;
  private stopped = false;
  private inFlight: Promise<void> | null = null;
  private renewer: number | undefined;

  constructor(private url: string, private current: () => string, private onState: (state: SaveState) => void) {
    const key = `rodan-editor:${url}`;
    this.editor = sessionStorage.getItem(key) ?? crypto.randomUUID();
    sessionStorage.setItem(key, this.editor);
  }

  async load(): Promise<SavedWork> {
    const response = await fetch(this.url, { headers: { Accept: "application/json" }, cache: "no-store" });
    if (!response.ok) throw new Error(await messageOf(response));
    const saved = (await response.json()) as SavedWork;
    this.version = saved.version;
    this.savedAt = saved.saved;
    this.onState({ kind: "saved", at: saved.saved });
    return saved;
  }

  private put(body: object): Promise<Response> {
    return fetch(this.url, {
      method: "PUT",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ editor: this.editor, version: this.version, ...body }),
    });
  }

  private async refused(response: Response) {
    const message = await messageOf(response);
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.onState({ kind: "blocked", message, canTakeOver: response.status === 409 && message.includes("another tab") });
  }

  /** Take (or, with `takeOver`, seize) the edit lock; false when another tab holds it. */
  async claim(takeOver = false): Promise<boolean> {
    const response = await this.put({ take_over: takeOver });
    if (!response.ok) {
      await this.refused(response);
      return false;
    }
    this.stopped = false;
    this.onState(this.dirty ? { kind: "pending" } : { kind: "saved", at: this.savedAt });
    this.renewer ??= window.setInterval(() => {
      if (!this.stopped && !this.dirty) void this.put({}).then((r) => (r.ok ? undefined : this.refused(r)));
    }, RENEW_MS);
    return true;
  }

  /** A change was made: save it a little later. */
  changed() {
    if (this.stopped) return;
    this.dirty = true;
    this.onState({ kind: "pending" });
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.flush(), DELAY_MS);
  }

  get unsaved() {
    return this.dirty;
  }

  /** Save now if anything changed (waits for a save already under way). */
  async flush(): Promise<void> {
    if (this.inFlight) await this.inFlight;
    if (!this.dirty || this.stopped) return;
    this.inFlight = this.send();
    try {
      await this.inFlight;
    } finally {
      this.inFlight = null;
    }
  }

  private async send() {
    window.clearTimeout(this.timer);
    this.dirty = false;
    this.onState({ kind: "saving" });
    let response: Response;
    try {
      response = await this.put({ work: { mei: this.current() } });
    } catch {
      this.dirty = true;
      this.onState({ kind: "offline", message: "Not saved yet: the server could not be reached. Trying again." });
      this.timer = window.setTimeout(() => void this.flush(), RETRY_MS);
      return;
    }
    if (!response.ok) {
      this.dirty = true;
      await this.refused(response);
      return;
    }
    const body = (await response.json()) as { version: number; saved: string };
    this.version = body.version;
    this.savedAt = body.saved;
    this.onState(this.dirty ? { kind: "pending" } : { kind: "saved", at: body.saved });
  }

  /** Stop saving (the work was submitted, and the server forgot it). */
  stop() {
    this.stopped = true;
    this.dirty = false;
    window.clearTimeout(this.timer);
  }
}
