// The user's work as compact operations in page pixels (the job's
// operations.py says what the server accepts), with undo and redo. Nothing
// here holds a bitmap: memory grows with the number of edits, not with the
// page's size.

export type LayerId = "region" | number;
export type Tool = "brush" | "rect" | "poly" | "fill" | "paste";

/** A stroke, shape, fill (seed and tolerance: the region is recomputed from the page) or paste. */
export interface Op {
  layer: LayerId;
  tool: Tool;
  points?: number[];
  erase?: boolean;
  size?: number;
  /** fill: the seed pixel and how far (in luma) a pixel may be from it. */
  x?: number;
  y?: number;
  tolerance?: number;
  /** paste: from_layer's pixels in rect [x0, y0, x1, y1] after the first `at` edits, moved by dx, dy. */
  from_layer?: LayerId;
  rect?: number[];
  dx?: number;
  dy?: number;
  at?: number;
}

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The page area an operation touches (brush half-width included). */
export function boxOf(op: Op): Box {
  if (op.tool === "fill") return { x0: -Infinity, y0: -Infinity, x1: Infinity, y1: Infinity }; // known once computed
  if (op.tool === "paste") {
    const [x0, y0, x1, y1] = op.rect!;
    return { x0: x0 + op.dx!, y0: y0 + op.dy!, x1: x1 + op.dx!, y1: y1 + op.dy! };
  }
  const points = op.points!;
  const pad = op.tool === "brush" ? (op.size ?? 1) / 2 + 1 : 1;
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < points.length; i += 2) {
    x0 = Math.min(x0, points[i]);
    x1 = Math.max(x1, points[i]);
    y0 = Math.min(y0, points[i + 1]);
    y1 = Math.max(y1, points[i + 1]);
  }
  return { x0: x0 - pad, y0: y0 - pad, x1: x1 + pad, y1: y1 + pad };
}

/** One change to the edit list, as saved in the work's log. */
export type Change = { a: "add"; op: Op } | { a: "undo" } | { a: "redo" };

export class EditList {
  ops: Op[] = [];
  undone: Op[] = [];
  private boxes = new WeakMap<Op, Box>();
  /** Bumped each time an edit of the layer is added, undone or redone: what a drawing of the layer depends on. */
  private versions = new Map<LayerId, number>();
  private listeners: ((change: Change) => void)[] = [];

  onChange(listener: (change: Change) => void) {
    this.listeners.push(listener);
  }

  private changed(change: Change) {
    for (const listener of this.listeners) listener(change);
  }

  box(op: Op): Box {
    let box = this.boxes.get(op);
    if (!box) {
      box = boxOf(op);
      this.boxes.set(op, box);
    }
    return box;
  }

  /** A number that changes whenever the layer's edits change (a paste's source edits never change under it). */
  versionOf(layer: LayerId): number {
    return this.versions.get(layer) ?? 0;
  }

  /** Apply a change; listeners hear it unless it is being replayed from saved work. */
  apply(change: Change, replaying = false): boolean {
    let op: Op | undefined;
    if (change.a === "add") {
      op = change.op;
      this.ops.push(op);
      this.undone = [];
    } else {
      const [from, to] = change.a === "undo" ? [this.ops, this.undone] : [this.undone, this.ops];
      op = from.pop();
      if (!op) return false;
      to.push(op);
    }
    this.versions.set(op.layer, this.versionOf(op.layer) + 1);
    if (!replaying) this.changed(change);
    return true;
  }

  add(op: Op) {
    return this.apply({ a: "add", op });
  }

  undo(): boolean {
    return this.apply({ a: "undo" });
  }

  redo(): boolean {
    return this.apply({ a: "redo" });
  }

  /** Whether some part of the page is selected: a region painted by some edit. */
  hasRegion(): boolean {
    return this.ops.some((op) => op.layer === "region" && !op.erase);
  }

  highestLayer(): number {
    return this.ops.reduce((top, op) => (typeof op.layer === "number" ? Math.max(top, op.layer) : top), 0);
  }
}
