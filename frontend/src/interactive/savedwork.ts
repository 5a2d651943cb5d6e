// The client of an interactive page's saved work (rodan.interactive_work,
// `<working URL>work/`), shared by Pixel's and Neon's pages: a few seconds after
// each change the page's unsaved changes are sent, with the version they follow,
// under this tab's edit lock, which is renewed while the page is open. A refusal
// (another tab, newer work saved elsewhere) stops saving and is shown as a
// sentence. What a save sends is the page's own: a subclass says how its
// changes become a request body and how a failed body is taken back.

export interface SavedWork<W> {
  version: number;
  saved: string | null;
  work: W | null;
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

export abstract class WorkSaver<W> {
  /** This tab's editor id: kept across reloads of the tab (sessionStorage is per tab), new in another tab. */
  readonly editor: string;
  version = 0;
  state: SaveState = { kind: "saved", at: null };
  private savedAt: string | null = null;
  private timer: number | undefined;
  private stopped = false;
  private inFlight: Promise<void> | null = null;
  private renewer: number | undefined;

  constructor(
    private url: string,
    private onState: (state: SaveState) => void,
  ) {
    const key = `rodan-editor:${url}`;
    this.editor = sessionStorage.getItem(key) ?? crypto.randomUUID();
    sessionStorage.setItem(key, this.editor);
  }

  /** Whether there are changes not yet saved. */
  abstract get unsaved(): boolean;
  /** The request body fields that save the unsaved changes, which count as saved from now on. */
  protected abstract takeChanges(): object;
  /** A save of ``body`` failed: its changes are unsaved again. */
  protected abstract giveBack(body: object): void;
  /** Forget the unsaved changes (the work was submitted). */
  protected abstract dropChanges(): void;

  private set(state: SaveState) {
    this.state = state;
    this.onState(state);
  }

  async load(): Promise<SavedWork<W>> {
    const response = await fetch(this.url, { headers: { Accept: "application/json" }, cache: "no-store" });
    if (!response.ok) throw new Error(await messageOf(response));
    const saved = (await response.json()) as SavedWork<W>;
    this.version = saved.version;
    this.savedAt = saved.saved;
    this.set({ kind: "saved", at: saved.saved });
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
    this.set({ kind: "blocked", message, canTakeOver: response.status === 409 && message.includes("another tab") });
  }

  /** Take (or, with `takeOver`, seize) the edit lock; false when another tab holds it. */
  async claim(takeOver = false): Promise<boolean> {
    const response = await this.put({ take_over: takeOver });
    if (!response.ok) {
      await this.refused(response);
      return false;
    }
    this.stopped = false;
    this.set(this.unsaved ? { kind: "pending" } : { kind: "saved", at: this.savedAt });
    this.renewer ??= window.setInterval(() => {
      if (!this.stopped && !this.unsaved) void this.put({}).then((r) => (r.ok ? undefined : this.refused(r)));
    }, RENEW_MS);
    return true;
  }

  /** A change was made: save it a little later. False once saving has stopped (the change is not to be kept). */
  protected scheduleSave(): boolean {
    if (this.stopped) return false;
    this.set({ kind: "pending" });
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.flush(), DELAY_MS);
    return true;
  }

  /** Save now if anything changed (waits for a save already under way). */
  async flush(): Promise<void> {
    if (this.inFlight) await this.inFlight;
    if (!this.unsaved || this.stopped) return;
    this.inFlight = this.send();
    try {
      await this.inFlight;
    } finally {
      this.inFlight = null;
    }
  }

  private async send() {
    window.clearTimeout(this.timer);
    const body = this.takeChanges();
    this.set({ kind: "saving" });
    let response: Response;
    try {
      response = await this.put(body);
    } catch {
      this.giveBack(body);
      this.set({ kind: "offline", message: "Not saved yet: the server could not be reached. Trying again." });
      this.timer = window.setTimeout(() => void this.flush(), RETRY_MS);
      return;
    }
    if (!response.ok) {
      this.giveBack(body);
      await this.refused(response);
      return;
    }
    const saved = (await response.json()) as { version: number; saved: string };
    this.version = saved.version;
    this.savedAt = saved.saved;
    this.set(this.unsaved ? { kind: "pending" } : { kind: "saved", at: saved.saved });
  }

  /** Stop saving (the work was submitted, and the server forgot it). */
  stop() {
    this.stopped = true;
    this.dropChanges();
    window.clearTimeout(this.timer);
  }
}
