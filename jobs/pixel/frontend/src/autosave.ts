// Pixel's saved work is a log of changes: each save appends the entries made
// since the last one (`{"append": [...]}`). Locking, timing and refusals are the
// shared client's (frontend/src/interactive/savedwork.ts).
import { WorkSaver } from "@interactive/savedwork";

export type { SaveState } from "@interactive/savedwork";

export class Autosave<T> extends WorkSaver<{ log?: T[] }> {
  private pending: T[] = [];

  get unsaved() {
    return this.pending.length > 0;
  }

  /** A change was made: save it a little later. */
  record(entry: T) {
    if (this.scheduleSave()) this.pending.push(entry);
  }

  protected takeChanges() {
    return { append: this.pending.splice(0) };
  }

  protected giveBack(body: { append: T[] }) {
    this.pending.unshift(...body.append);
  }

  protected dropChanges() {
    this.pending = [];
  }
}
