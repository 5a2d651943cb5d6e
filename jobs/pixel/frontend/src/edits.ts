// The user's work as compact operations in page pixels (the job's
// operations.py says what the server accepts), with undo and redo. Nothing
// here holds a bitmap: memory grows with the number of edits, not with the
// page's size.

export type LayerId = "region" | number;
export type Tool = "brush" | "rect" | "poly";

export interface Op {
  layer: LayerId;
  tool: Tool;
  points: number[];
  erase?: boolean;
  size?: number;
}

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The page area an operation touches (brush half-width included). */
export function boxOf(op: Op): Box {
  const pad = op.tool === "brush" ? (op.size ?? 1) / 2 + 1 : 1;
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < op.points.length; i += 2) {
    x0 = Math.min(x0, op.points[i]);
    x1 = Math.max(x1, op.points[i]);
    y0 = Math.min(y0, op.points[i + 1]);
    y1 = Math.max(y1, op.points[i + 1]);
  }
  return { x0: x0 - pad, y0: y0 - pad, x1: x1 + pad, y1: y1 + pad };
}

export class EditList {
  ops: Op[] = [];
  undone: Op[] = [];
  private boxes = new WeakMap<Op, Box>();
  private listeners: (() => void)[] = [];

  onChange(listener: () => void) {
    this.listeners.push(listener);
  }

  private changed() {
    for (const listener of this.listeners) listener();
  }

  box(op: Op): Box {
    let box = this.boxes.get(op);
    if (!box) {
      box = boxOf(op);
      this.boxes.set(op, box);
    }
    return box;
  }

  add(op: Op) {
    this.ops.push(op);
    this.undone = [];
    this.changed();
  }

  undo(): boolean {
    const op = this.ops.pop();
    if (!op) return false;
    this.undone.push(op);
    this.changed();
    return true;
  }

  redo(): boolean {
    const op = this.undone.pop();
    if (!op) return false;
    this.ops.push(op);
    this.changed();
    return true;
  }

  /** Put back saved work (not a change: nothing needs saving). */
  restore(ops: Op[], undone: Op[]) {
    this.ops = ops;
    this.undone = undone;
  }

  /** Whether some part of the page is selected: a region painted by some edit. */
  hasRegion(): boolean {
    return this.ops.some((op) => op.layer === "region" && !op.erase);
  }

  highestLayer(): number {
    return this.ops.reduce((top, op) => (typeof op.layer === "number" ? Math.max(top, op.layer) : top), 0);
  }
}
