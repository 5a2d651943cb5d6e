// Neon's saved work is the whole MEI document (`{"mei": ...}`), replaced at each
// save. Locking, timing and refusals are the shared client's
// (frontend/src/interactive/savedwork.ts).
import { WorkSaver } from "@interactive/savedwork";

export type { SaveState } from "@interactive/savedwork";

export class Saver extends WorkSaver<{ mei?: string }> {
  private dirty = false;

  constructor(url: string, private current: () => string, onState: ConstructorParameters<typeof WorkSaver>[1]) {
    super(url, onState);
  }

  get unsaved() {
    return this.dirty;
  }

  /** A change was made: save it a little later. */
  changed() {
    if (this.scheduleSave()) this.dirty = true;
  }

  protected takeChanges() {
    this.dirty = false;
    return { work: { mei: this.current() } };
  }

  protected giveBack() {
    this.dirty = true;
  }

  protected dropChanges() {
    this.dirty = false;
  }
}
