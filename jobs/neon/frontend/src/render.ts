// The page's side of the verovio worker: render one MEI text, get its SVG.
// Only the latest request matters; older answers are dropped.

interface Answer {
  id: number;
  svg?: string;
  error?: string;
}

export class Renderer {
  private worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
  private next = 0;
  private waiting = new Map<number, { resolve: (svg: string) => void; reject: (error: Error) => void }>();

  constructor() {
    this.worker.onmessage = (event: MessageEvent<Answer>) => {
      const pending = this.waiting.get(event.data.id);
      this.waiting.delete(event.data.id);
      if (!pending) return;
      if (event.data.svg !== undefined) pending.resolve(event.data.svg);
      else pending.reject(new Error(event.data.error ?? "verovio gave no answer."));
    };
    this.worker.onerror = (event) => {
      for (const pending of this.waiting.values()) pending.reject(new Error(`The renderer failed: ${event.message}`));
      this.waiting.clear();
    };
  }

  render(mei: string): Promise<string> {
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, mei });
    });
  }
}
