// The page's side of the verovio worker: render one MEI text, get its SVG and
// how long verovio took. The worker starts (and compiles verovio) when this
// module is first used, so the page creates the Renderer before anything else.

/** Milliseconds verovio spent: compiling and starting (once), reading the MEI, drawing the SVG. */
export interface WorkerTimes {
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
  private worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
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
      for (const pending of this.waiting.values()) pending.reject(new Error(`The renderer failed: ${event.message}`));
      this.waiting.clear();
    };
  }

  render(mei: string): Promise<{ svg: string; times: WorkerTimes }> {
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, mei });
    });
  }
}
