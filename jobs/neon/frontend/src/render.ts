// The page's side of the verovio worker: render one MEI text, get its SVG and
// how long verovio took. The page's HTML starts the worker (window.neonWorker)
// before this script has even loaded; without it, the Renderer starts one.

/** Milliseconds verovio spent: compiling and starting (once), reading the MEI, drawing the SVG; when the worker began and answered (epoch ms). */
export interface WorkerTimes {
  evaluatedAt: number;
  postedAt: number;
  startup: number;
  load: number;
  draw: number;
}

interface Answer {
  id: number;
  svg?: string;
  times?: WorkerTimes;
  error?: string;
}

export class Renderer {
  private early = window as { neonWorker?: Worker; neonWorkerFailed?: string };
  // an early worker that already failed (its script not found) is replaced by one this bundle names
  private worker: Worker = this.early.neonWorker && !this.early.neonWorkerFailed
    ? this.early.neonWorker
    : new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
  /** Why the worker failed, once it has. */
  private failed: string | undefined;
  private next = 0;
  private waiting = new Map<number, { resolve: (answer: { svg: string; times: WorkerTimes }) => void; reject: (error: Error) => void }>();

  constructor() {
    this.worker.onmessage = (event: MessageEvent<Answer>) => {
      const pending = this.waiting.get(event.data.id);
      this.waiting.delete(event.data.id);
      if (!pending) return;
      if (event.data.svg !== undefined) pending.resolve({ svg: event.data.svg, times: event.data.times! });
      else pending.reject(new Error(event.data.error ?? "verovio gave no answer."));
    };
    this.worker.onerror = (event) => {
      this.failed = event.message || "its script could not be loaded";
      for (const pending of this.waiting.values()) pending.reject(new Error(`The renderer failed: ${event.message}`));
      this.waiting.clear();
    };
  }

  render(mei: string): Promise<{ svg: string; times: WorkerTimes }> {
    const id = ++this.next;
    if (this.failed) return Promise.reject(new Error(`The renderer failed: ${this.failed}`));
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, mei });
    });
  }
}
