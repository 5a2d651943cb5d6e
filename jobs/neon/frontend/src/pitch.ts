// Pitches and the staff they sit on: one rule for moving a glyph, inserting
// one at a point, and finding ncs off their line. A staff's lines are taken
// from verovio's rendering (its <path>s), which follows the staff's zone and
// rotation; verovio reads a C clef as c4 and an F clef as f3.

export const STEPS = "cdefgab";
const CLEF_PITCH: Record<string, [string, number]> = { C: ["c", 4], F: ["f", 3] };

export interface Line {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** A rendered staff: its lines from top to bottom. */
export class StaffGeometry {
  constructor(readonly id: string, readonly lines: Line[]) {}

  /** y of line `n` counted from the bottom (1 = bottom line) at x; lines beyond the staff are extrapolated. */
  lineY(n: number, x: number): number {
    const ys = this.lines.map((l) => (l.x2 === l.x1 ? l.y1 : l.y1 + ((l.y2 - l.y1) * (x - l.x1)) / (l.x2 - l.x1)));
    const bottom = ys[ys.length - 1];
    return bottom - (n - 1) * this.space(x);
  }

  /** Distance between two lines at x. */
  space(x: number): number {
    if (this.lines.length < 2) return 20;
    const ys = this.lines.map((l) => (l.x2 === l.x1 ? l.y1 : l.y1 + ((l.y2 - l.y1) * (x - l.x1)) / (l.x2 - l.x1)));
    return (ys[ys.length - 1] - ys[0]) / (ys.length - 1);
  }

  get left() {
    return Math.min(...this.lines.map((l) => l.x1));
  }

  get right() {
    return Math.max(...this.lines.map((l) => l.x2));
  }
}

/** Diatonic number of a pitch (c0 = 0). */
export const diatonic = (pname: string, oct: number) => oct * 7 + STEPS.indexOf(pname);

export const pitchOf = (value: number): { pname: string; oct: number } => ({
  pname: STEPS[((value % 7) + 7) % 7],
  oct: Math.floor(value / 7),
});

/** Diatonic number on the clef's line. */
export function clefValue(shape: string, _line: number): number {
  const [pname, oct] = CLEF_PITCH[shape] ?? CLEF_PITCH.C;
  return diatonic(pname, oct);
}

/** Where (y) a pitch sits on `staff` at x under the clef (`shape` on `line`). */
export function yOfPitch(staff: StaffGeometry, shape: string, line: number, value: number, x: number): number {
  return staff.lineY(line, x) - ((value - clefValue(shape, line)) * staff.space(x)) / 2;
}

/** The pitch nearest to y on `staff` at x under the clef. */
export function pitchAt(staff: StaffGeometry, shape: string, line: number, y: number, x: number): number {
  return clefValue(shape, line) + Math.round(((staff.lineY(line, x) - y) * 2) / staff.space(x));
}
