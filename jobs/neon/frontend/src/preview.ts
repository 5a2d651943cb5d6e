// Drawing a move of neume components at once, before verovio answers. verovio
// places an nc's glyph at its zone's left edge and at the height of its pitch
// on its staff, one drawing unit a diatonic step (the zone's height is not
// used), so on an unrotated staff a move is the glyph's translate shifted by
// the zone's dx and by whole units. The unit is read off the glyphs verovio
// drew on that staff. The next rendering still replaces the drawing; the page
// counts the edit as drawn at once only when that rendering changes nothing.

const TRANSLATE = /^translate\((-?\d+), (-?\d+)\)(.*)$/;

interface Placed {
  use: Element;
  x: number;
  y: number;
  rest: string;
}

/** An nc group as verovio draws it: one <use> at an integer translate; null for anything else. */
function placed(group: Element): Placed | null {
  if (group.children.length !== 1) return null;
  const use = group.children[0];
  const match = TRANSLATE.exec(use.getAttribute("transform") ?? "");
  return match ? { use, x: Number(match[1]), y: Number(match[2]), rest: match[3] } : null;
}

/**
 * The drawn height of one diatonic step on a staff group, when every nc drawn on it agrees with
 * one (y + step × pitch the same for all: no clef change on the staff); null otherwise. The ncs
 * being moved are skipped: their pitches have already changed, their drawing not yet.
 */
function stepOf(staffGroup: Element, pitchOf: (id: string) => number | null, skip: Set<string>): number | null {
  const points: { d: number; y: number }[] = [];
  for (const group of Array.from(staffGroup.querySelectorAll("g.nc"))) {
    if (skip.has(group.id)) continue;
    const at = placed(group);
    const d = pitchOf(group.id);
    if (!at || d === null) return null;
    points.push({ d, y: at.y });
  }
  const other = points.find((p) => p.d !== points[0]?.d);
  if (!other) return null;
  const step = (points[0].y - other.y) / (other.d - points[0].d);
  if (!Number.isInteger(step) || step <= 0) return null;
  const level = points[0].y + step * points[0].d;
  return points.every((p) => p.y + step * p.d === level) ? step : null;
}

export interface MovedNc {
  id: string;
  /** The id of the staff it is drawn on (verovio's staff group has the MEI staff's id). */
  staff: string;
  /** Whether that staff's zone is turned (then its height depends on x: no preview). */
  rotated: boolean;
}

/**
 * Shift the drawn glyphs of `ncs` by `steps` diatonic steps and `dx` page pixels, as verovio will
 * draw them; true when done, false (nothing changed) when any of them cannot be predicted.
 */
export function previewMove(svg: Element, ncs: MovedNc[], steps: number, dx: number, pitchOf: (id: string) => number | null): boolean {
  const byId = (id: string) => svg.querySelector(`[id="${CSS.escape(id)}"]`);
  const units = new Map<string, number | null>();
  const moving = new Set(ncs.map((nc) => nc.id));
  const planned: { at: Placed; x: number; y: number }[] = [];
  for (const nc of ncs) {
    if (nc.rotated) return false;
    const group = byId(nc.id);
    const at = group && placed(group);
    if (!at) return false;
    if (steps && !units.has(nc.staff)) {
      const staffGroup = byId(nc.staff);
      units.set(nc.staff, staffGroup ? stepOf(staffGroup, pitchOf, moving) : null);
    }
    const step = steps ? units.get(nc.staff) : 0;
    if (step === null || step === undefined) return false;
    planned.push({ at, x: at.x + dx, y: at.y - steps * step });
  }
  for (const { at, x, y } of planned) at.use.setAttribute("transform", `translate(${x}, ${y})${at.rest}`);
  return planned.length > 0;
}

/**
 * Take the drawn groups of the removed `ids` off the page, each with the groups around it whose
 * elements the document no longer has (`exists`: an emptied neume or syllable goes too); false
 * (nothing changed) when any is not drawn. A removed clef would redraw what follows: not here.
 */
export function previewRemoval(svg: Element, ids: string[], exists: (id: string) => boolean): boolean {
  const groups: Element[] = [];
  for (const id of ids) {
    let group = svg.querySelector(`[id="${CSS.escape(id)}"]`);
    if (!group || group.localName !== "g" || group.matches(".clef, .staff") || group.querySelector("g.clef")) return false;
    while (group.parentElement?.localName === "g" && group.parentElement.id && !exists(group.parentElement.id)) group = group.parentElement;
    groups.push(group);
  }
  for (const group of groups) {
    // verovio indents each element on its own line: its indentation goes with it
    const before = group.previousSibling;
    if (before?.nodeType === Node.TEXT_NODE && !before.textContent!.trim()) before.remove();
    group.remove();
  }
  return groups.length > 0;
}

/** Write a syllable's new text into its drawn text span; false when it has none drawn (verovio will make it). */
export function previewText(svg: Element, sylId: string, text: string): boolean {
  const group = sylId ? svg.querySelector(`[id="${CSS.escape(sylId)}"]`) : null;
  const spans = group ? group.querySelectorAll("text > tspan > tspan") : [];
  if (!text || spans.length !== 1) return false;
  spans[0].textContent = text;
  return true;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export interface NewNc {
  id: string;
  x: number;
  /** Its diatonic pitch. */
  pitch: number;
}

/**
 * Draw a new syllable of plain components (no @tilt, @ligated or the like) on a drawn staff as
 * verovio would: groups syllable > neume > nc, each nc a punctum's glyph (as drawn on that staff)
 * at its zone's left edge and its pitch's height, before the group of `before` (the element that
 * follows it in the layer; null: at the end); false (nothing changed) when that cannot be told.
 */
export function previewInsertion(svg: Element, staffId: string, layerId: string, before: string | null, syllable: string, neume: string, ncs: NewNc[], pitchOf: (id: string) => number | null, plainPunctum: (id: string) => boolean): boolean {
  const byId = (id: string) => svg.querySelector(`[id="${CSS.escape(id)}"]`);
  const staffGroup = byId(staffId);
  const layer = byId(layerId);
  const next = before === null ? null : byId(before);
  if (!staffGroup || !layer || (before !== null && next?.parentElement !== layer)) return false;
  const step = stepOf(staffGroup, pitchOf, new Set());
  const model = Array.from(staffGroup.querySelectorAll("g.nc")).find((g) => plainPunctum(g.id));
  const at = model && placed(model);
  const known = at && pitchOf(model.id);
  if (step === null || !at || known === null || known === undefined) return false;
  const level = at.y + step * known;
  const indent = /\n *$/.exec(layer.firstChild?.textContent ?? "")?.[0];
  if (!indent || layer.firstChild?.nodeType !== Node.TEXT_NODE) return false;
  const group = (id: string, kind: string, depth: number, children: Node[]) => {
    const g = document.createElementNS(SVG_NS, "g");
    g.setAttribute("id", id);
    g.setAttribute("class", kind);
    for (const child of children) g.append(`${indent}${"   ".repeat(depth + 1)}`, child);
    g.append(`${indent}${"   ".repeat(depth)}`);
    return g;
  };
  const drawnNcs = ncs.map((nc) => {
    const use = at.use.cloneNode(false) as Element;
    use.setAttribute("transform", `translate(${nc.x}, ${level - step * nc.pitch})${at.rest}`);
    return group(nc.id, "nc", 2, [use]);
  });
  const drawn = group(syllable, "syllable", 0, [group(neume, "neume", 1, drawnNcs)]);
  // on its own line, indented like its siblings (each element follows its line's indentation)
  const lineBreak = document.createTextNode(indent);
  if (next) {
    layer.insertBefore(lineBreak, next); // the next element's indentation: the new one takes the old
    layer.insertBefore(drawn, lineBreak);
  } else {
    layer.insertBefore(drawn, layer.lastChild); // before the layer's closing line
    layer.insertBefore(lineBreak, drawn);
  }
  return true;
}
