// The page's MEI document in the line-by-line form the server gave, edited in
// place: every edit changes elements and their zones here, then verovio
// renders the text again. Ids of new elements are random; removed glyphs take
// their zones with them, and a neume or syllable left empty goes too.
import { diatonic, pitchAt, pitchOf, type StaffGeometry, yOfPitch } from "./pitch";

export const MEI_NS = "http://www.music-encoding.org/ns/mei";
const XML_NS = "http://www.w3.org/XML/1998/namespace";

export type InsertKind =
  | "punctum" | "virga" | "inclinatum" | "liquescent" | "pes" | "clivis" | "scandicus" | "climacus" | "torculus"
  | "porrectus" | "custos" | "clefC" | "clefF" | "flat" | "natural" | "divLine";

/** Steps of each inserted grouping from its first nc, and the tilt or curve of its ncs. */
const GROUPINGS: Partial<Record<InsertKind, { steps: number[]; attrs?: Record<string, string> }>> = {
  punctum: { steps: [0] },
  virga: { steps: [0], attrs: { tilt: "n" } },
  inclinatum: { steps: [0], attrs: { tilt: "se" } },
  liquescent: { steps: [0], attrs: { curve: "a" } },
  pes: { steps: [0, 1] },
  clivis: { steps: [0, -1] },
  scandicus: { steps: [0, 1, 2] },
  climacus: { steps: [0, -1, -2] },
  torculus: { steps: [0, 1, 0] },
  porrectus: { steps: [0, -1, 0] },
};

export const idOf = (element: Element) => element.getAttributeNS(XML_NS, "id") ?? element.getAttribute("xml:id") ?? "";
/** How far a staff may be turned, in degrees either way (the server's bound, jobs/neon/checks.py). */
export const MAX_ROTATION = 45;
/** @type of the revisionDesc change that records the page as verified. */
export const VERIFIED = "neon-verified";
const newId = (kind: string) => `m-${kind}-${crypto.randomUUID()}`;

export class MeiDoc {
  readonly xml: XMLDocument;
  /** Elements by id, built when first needed; an entry that no longer holds rebuilds it (edits need not say). */
  private index: Map<string, Element> | null = null;

  constructor(text: string) {
    this.xml = new DOMParser().parseFromString(text, "application/xml");
    const error = this.xml.getElementsByTagName("parsererror")[0];
    if (error) throw new Error(`The MEI could not be read: ${error.textContent?.trim()}`);
  }

  text(): string {
    return new XMLSerializer().serializeToString(this.xml);
  }

  all(name: string, within: Element | XMLDocument = this.xml): Element[] {
    return Array.from(within.getElementsByTagNameNS(MEI_NS, name));
  }

  byId(id: string): Element | null {
    const known = this.index?.get(id);
    if (known?.isConnected && idOf(known) === id) return known;
    this.index = new Map();
    for (const element of Array.from(this.xml.getElementsByTagName("*"))) {
      const ident = idOf(element);
      if (ident && !this.index.has(ident)) this.index.set(ident, element);
    }
    return this.index.get(id) ?? null;
  }

  private make(name: string, attrs: Record<string, string> = {}, kind = name): Element {
    const element = this.xml.createElementNS(MEI_NS, name);
    element.setAttributeNS(XML_NS, "xml:id", newId(kind));
    for (const [key, value] of Object.entries(attrs)) element.setAttribute(key, value);
    return element;
  }

  zoneOf(element: Element): Element | null {
    const facs = element.getAttribute("facs");
    return facs ? this.byId(facs.replace(/^#/, "")) : null;
  }

  box(element: Element): { ulx: number; uly: number; lrx: number; lry: number } | null {
    const zone = this.zoneOf(element);
    if (!zone) return null;
    const [ulx, uly, lrx, lry] = ["ulx", "uly", "lrx", "lry"].map((k) => Number(zone.getAttribute(k)));
    return { ulx, uly, lrx, lry };
  }

  private newZone(ulx: number, uly: number, lrx: number, lry: number): string {
    const surface = this.all("surface")[0];
    const zone = this.make("zone", {
      ulx: String(Math.round(ulx)), uly: String(Math.round(uly)), lrx: String(Math.round(lrx)), lry: String(Math.round(lry)),
    });
    surface.append(zone);
    return `#${idOf(zone)}`;
  }

  /** The staves (systems) of the page, each the line form's <staff> with an id and zone. */
  staves(): Element[] {
    return this.all("staff").filter((staff) => staff.getAttribute("facs"));
  }

  staffOf(element: Element): Element | null {
    let node: Element | null = element;
    while (node && !(node.localName === "staff" && node.namespaceURI === MEI_NS)) node = node.parentElement;
    return node;
  }

  /** The clef in force at `element`: the last clef before it in document order (shape, line). */
  clefAt(element: Element): { shape: string; line: number } {
    let found = { shape: "C", line: 3 };
    for (const clef of this.all("clef")) {
      if (clef.compareDocumentPosition(element) & Node.DOCUMENT_POSITION_FOLLOWING) {
        found = { shape: clef.getAttribute("shape") ?? "C", line: Number(clef.getAttribute("line") ?? 3) };
      }
    }
    return found;
  }

  /** Each nc of the page with its staff and the clef in force there, in one pass in document order. */
  *ncsWithClef(): Generator<{ nc: Element; staff: Element; clef: { shape: string; line: number } }> {
    let clef = { shape: "C", line: 3 };
    for (const staff of this.staves()) {
      for (const element of Array.from(staff.getElementsByTagNameNS(MEI_NS, "*"))) {
        if (element.localName === "clef") clef = { shape: element.getAttribute("shape") ?? "C", line: Number(element.getAttribute("line") ?? 3) };
        else if (element.localName === "nc") yield { nc: element, staff, clef };
      }
    }
  }

  /** The glyphs carrying a pitch under `element` (itself when it is one). */
  pitched(element: Element): Element[] {
    if (["nc", "custos"].includes(element.localName)) return [element];
    return [...this.all("nc", element), ...this.all("custos", element)];
  }

  /** The glyphs with a zone under `element` (itself included). */
  glyphs(element: Element): Element[] {
    const inside = Array.from(element.getElementsByTagName("*")).filter((e) => e.getAttribute("facs"));
    return element.getAttribute("facs") ? [element, ...inside] : inside;
  }

  // -- edits --------------------------------------------------------------------------

  /** Move `elements` by `steps` diatonic steps: pitches change, zones move by half a staff space each. */
  moveSteps(elements: Element[], steps: number, geometry: (staff: Element) => StaffGeometry | null) {
    const moved = new Set<Element>();
    for (const element of elements) {
      for (const glyph of element.localName === "staff" ? [] : this.glyphs(element)) {
        if (moved.has(glyph)) continue;
        moved.add(glyph);
        const staff = this.staffOf(glyph);
        const shape = staff ? geometry(staff) : null;
        const box = this.box(glyph);
        if (!box) continue;
        const half = (shape ? shape.space((box.ulx + box.lrx) / 2) : 20) / 2;
        let dy = -steps * half;
        if (glyph.localName === "clef") {
          const line = Number(glyph.getAttribute("line") ?? 3) + Math.trunc(steps / 2);
          if (line < 1 || line > 5 || Math.trunc(steps / 2) === 0) continue;
          glyph.setAttribute("line", String(line));
          dy = -Math.trunc(steps / 2) * half * 2;
        } else if (glyph.localName === "syl") {
          continue;
        }
        if (glyph.hasAttribute("pname")) {
          const value = diatonic(glyph.getAttribute("pname")!, Number(glyph.getAttribute("oct"))) + steps;
          const { pname, oct } = pitchOf(value);
          glyph.setAttribute("pname", pname);
          glyph.setAttribute("oct", String(oct));
        }
        this.shiftZone(glyph, 0, dy);
      }
    }
  }

  /** Change the octave of the pitched glyphs under `elements` by `by`; zones stay (what is drawn moves). */
  shiftOctave(elements: Element[], by: number) {
    for (const glyph of new Set(elements.flatMap((e) => this.pitched(e)))) {
      glyph.setAttribute("oct", String(Number(glyph.getAttribute("oct")) + by));
    }
  }

  /** Turn C clefs among `clefs` into F clefs and F into C. */
  swapClefShape(clefs: Element[]) {
    for (const clef of clefs) clef.setAttribute("shape", clef.getAttribute("shape") === "F" ? "C" : "F");
  }

  /** Move the zones of `elements` sideways by `dx` image pixels. */
  moveX(elements: Element[], dx: number) {
    for (const element of elements) for (const glyph of this.glyphs(element)) this.shiftZone(glyph, dx, 0);
  }

  private shiftZone(glyph: Element, dx: number, dy: number) {
    const zone = this.zoneOf(glyph);
    if (!zone) return;
    for (const [key, delta] of [["ulx", dx], ["lrx", dx], ["uly", dy], ["lry", dy]] as const) {
      zone.setAttribute(key, String(Math.round(Number(zone.getAttribute(key)) + delta)));
    }
  }

  /** Remove `elements` with their zones; empty neumes and syllables go too. */
  remove(elements: Element[]) {
    for (const element of elements) {
      if (!element.isConnected) continue;
      for (const glyph of this.glyphs(element)) {
        const zone = this.zoneOf(glyph);
        const shared = zone && this.all("*").some((e) => e !== glyph && !element.contains(e) && e.getAttribute("facs") === `#${idOf(zone)}`);
        if (zone && !shared) zone.remove();
      }
      const parent = element.parentElement;
      element.remove();
      this.prune(parent);
    }
  }

  private prune(element: Element | null) {
    while (element && ["neume", "syllable"].includes(element.localName) && this.all("nc", element).length === 0) {
      const parent = element.parentElement;
      if (element.localName === "syllable") this.remove(this.all("syl", element));
      element.remove();
      element = parent;
    }
  }

  /** Insert a glyph of `kind` on `staff` at image point (x, y); the new element. */
  insert(kind: InsertKind, staff: Element, geometry: StaffGeometry, x: number, y: number): Element {
    const layer = this.all("layer", staff)[0];
    const space = geometry.space(x);
    const anchor = this.firstAfter(layer, x);
    const place = (element: Element) => layer.insertBefore(element, anchor);
    if (kind === "clefC" || kind === "clefF") {
      const line = Math.min(geometry.lines.length, Math.max(1, Math.round((geometry.lineY(1, x) - y) / space) + 1));
      const ly = geometry.lineY(line, x);
      const clef = this.make("clef", { facs: this.newZone(x, ly - space / 2, x + space, ly + space / 2), shape: kind === "clefC" ? "C" : "F", line: String(line) });
      place(clef);
      return clef;
    }
    if (kind === "divLine") {
      const top = geometry.lineY(geometry.lines.length, x);
      const bottom = geometry.lineY(1, x);
      const element = this.make("divLine", { facs: this.newZone(x, top - space * 0.3, x + space * 0.4, bottom + space * 0.3) });
      place(element);
      return element;
    }
    if (kind === "flat" || kind === "natural") {
      const element = this.make("accid", { facs: this.newZone(x, y - space / 2, x + space * 0.8, y + space / 2), accid: kind === "flat" ? "f" : "n" });
      place(element);
      return element;
    }
    const probe = this.make("nc");
    place(probe);
    const clef = this.clefAt(probe);
    probe.remove();
    const start = pitchAt(geometry, clef.shape, clef.line, y, x);
    const at = (value: number, dx: number) => {
      const cy = yOfPitch(geometry, clef.shape, clef.line, value, x + dx);
      return this.newZone(x + dx, cy - space / 2, x + dx + space, cy + space / 2);
    };
    if (kind === "custos") {
      const { pname, oct } = pitchOf(start);
      const element = this.make("custos", { facs: at(start, 0), pname, oct: String(oct) });
      place(element);
      return element;
    }
    const grouping = GROUPINGS[kind]!;
    const syllable = this.make("syllable");
    const neume = this.make("neume");
    grouping.steps.forEach((step, index) => {
      const { pname, oct } = pitchOf(start + step);
      neume.append(this.make("nc", { facs: at(start + step, index * space * 1.1), pname, oct: String(oct), ...grouping.attrs }));
    });
    syllable.append(neume);
    place(syllable);
    return syllable;
  }

  /** The first child of `layer` whose glyphs start right of x (where an insertion at x goes). */
  private firstAfter(layer: Element, x: number): Element | null {
    for (const child of Array.from(layer.children)) {
      const boxes = this.glyphs(child).filter((g) => g.localName !== "syl").map((g) => this.box(g)).filter((b) => b);
      if (boxes.length && Math.min(...boxes.map((b) => b!.ulx)) > x) return child;
    }
    return null;
  }

  /** Put the ncs of `neumes` into the first of them; emptied neumes and syllables go. */
  group(neumes: Element[]) {
    const [first, ...rest] = neumes;
    for (const neume of rest) {
      first.append(...this.all("nc", neume));
      this.prune(neume);
    }
  }

  /** Give each nc of `neume` after the first its own neume in the same syllable. */
  ungroup(neume: Element) {
    let after = neume;
    for (const nc of this.all("nc", neume).slice(1)) {
      const single = this.make("neume");
      single.append(nc);
      after.after(single);
      after = single;
    }
  }

  /** Put the neumes of later `syllables` into the first; their texts are joined. */
  merge(syllables: Element[]) {
    const [first, ...rest] = syllables;
    for (const syllable of rest) {
      const text = this.all("syl", syllable).map((s) => s.textContent ?? "").join("");
      if (text) this.setText(first, (this.all("syl", first)[0]?.textContent ?? "") + text);
      first.append(...this.all("neume", syllable));
      this.prune(syllable);
    }
  }

  /** Move `neume` and the neumes after it in its syllable into a new syllable after it. */
  split(neume: Element): Element | null {
    const syllable = neume.parentElement!;
    const neumes = this.all("neume", syllable);
    const index = neumes.indexOf(neume);
    if (index <= 0) return null;
    const next = this.make("syllable");
    next.append(...neumes.slice(index));
    syllable.after(next);
    return next;
  }

  // -- staves ------------------------------------------------------------------------

  /** The line form's systems (<section type="neon-neume-line">) in page order. */
  private lines(): Element[] {
    return this.all("section").filter((s) => s.getAttribute("type") === "neon-neume-line");
  }

  /**
   * A new system over the image rectangle: a line section with a staff on a new zone and a C clef
   * on its top line, placed among the systems by its top edge; the systems are numbered again.
   */
  insertStaff(ulx: number, uly: number, lrx: number, lry: number): Element {
    const lines = this.lines();
    const model = lines[0]?.getElementsByTagNameNS(MEI_NS, "staff")[0];
    const line = this.make("section", { type: "neon-neume-line" }, "line");
    const staff = this.make("staff", {}, "sb");
    for (const attr of Array.from(model?.attributes ?? [])) {
      if (attr.name !== "xml:id" && attr.name !== "facs") staff.setAttribute(attr.name, attr.value);
    }
    staff.setAttribute("facs", this.newZone(ulx, uly, lrx, lry));
    const layer = this.make("layer", { n: "1" });
    const space = (lry - uly) / 3;
    const clefX = ulx + space * 0.3;
    const top = uly;
    layer.append(this.make("clef", { facs: this.newZone(clefX, Math.max(0, top - space / 2), clefX + space, top + space / 2), shape: "C", line: "4" }));
    staff.append(layer);
    line.append(staff);
    const after = lines.find((l) => {
      const box = this.box(l.getElementsByTagNameNS(MEI_NS, "staff")[0]);
      return box !== null && box.uly > uly;
    });
    if (after) after.before(line);
    else if (lines.length) lines[lines.length - 1].after(line);
    else this.all("section")[0].append(line);
    if (after && after === lines[0]) {
      // the first system's section and layer carry the page's staff and layer ids back to the sb form
      const layerOf = (l: Element) => l.getElementsByTagNameNS(MEI_NS, "layer")[0];
      const [oldId, newId] = [idOf(after), idOf(line)];
      const [oldLayer, newLayer] = [idOf(layerOf(after)), idOf(layer)];
      after.setAttributeNS(XML_NS, "xml:id", newId);
      line.setAttributeNS(XML_NS, "xml:id", oldId);
      layerOf(after).setAttributeNS(XML_NS, "xml:id", newLayer);
      layer.setAttributeNS(XML_NS, "xml:id", oldLayer);
    }
    this.lines().forEach((l, index) => l.setAttribute("n", String(index + 1)));
    return staff;
  }

  /** Move `staff`'s zone by (dx, dy) with the zones of everything on it; pitches are kept. */
  moveStaff(staff: Element, dx: number, dy: number) {
    for (const glyph of this.glyphs(staff)) this.shiftZone(glyph, dx, dy);
  }

  /** Move the edges of `staff`'s zone (left, top, right, bottom deltas); its glyphs stay where they are. */
  resizeStaff(staff: Element, edges: { left?: number; top?: number; right?: number; bottom?: number }) {
    const zone = this.zoneOf(staff);
    if (!zone) return;
    const value = (key: string) => Number(zone.getAttribute(key));
    const ulx = value("ulx") + (edges.left ?? 0);
    const uly = value("uly") + (edges.top ?? 0);
    const lrx = value("lrx") + (edges.right ?? 0);
    const lry = value("lry") + (edges.bottom ?? 0);
    if (lrx - ulx < 20 || lry - uly < 10) throw new Error("a staff must stay at least 20 pixels wide and 10 high");
    for (const [key, v] of [["ulx", ulx], ["uly", uly], ["lrx", lrx], ["lry", lry]] as const) zone.setAttribute(key, String(Math.round(v)));
  }

  /**
   * Turn `staff` by `degrees` more (its zone's @rotate, as verovio reads it), within ±MAX_ROTATION;
   * its glyphs keep their zones and pitches. A staff turned back to 0 loses the attribute.
   */
  rotateStaff(staff: Element, degrees: number) {
    const zone = this.zoneOf(staff);
    if (!zone) throw new Error("the staff has no zone to turn");
    const angle = Math.round((Number(zone.getAttribute("rotate") ?? 0) + degrees) * 10) / 10;
    if (Math.abs(angle) > MAX_ROTATION) throw new Error(`a staff turns at most ${MAX_ROTATION} degrees either way`);
    if (angle === 0) zone.removeAttribute("rotate");
    else zone.setAttribute("rotate", angle.toFixed(1));
  }

  /** The rotation of `staff` in degrees (0 when its zone has none). */
  rotation(staff: Element): number {
    return Number(this.zoneOf(staff)?.getAttribute("rotate") ?? 0);
  }

  /**
   * Remove the system of `staff` with everything on it and their zones (as verovio's remove does).
   * A syllable that ran into or out of it is linked across the gap; the page keeps its staff and
   * layer ids when its first system goes; the systems are numbered again. The last system stays.
   * How many glyphs went.
   */
  removeStaff(staff: Element): number {
    const lines = this.lines();
    const line = staff.parentElement;
    if (!line || !lines.includes(line)) throw new Error("that is not one of the page's systems");
    if (lines.length === 1) throw new Error("a page keeps at least one staff; delete its glyphs instead");
    for (const syllable of this.all("syllable", staff)) {
      const follows = syllable.getAttribute("follows");
      const precedes = syllable.getAttribute("precedes");
      const before = follows ? this.byId(follows.slice(1)) : null;
      const after = precedes ? this.byId(precedes.slice(1)) : null;
      if (before && !staff.contains(before)) {
        if (after && !staff.contains(after)) before.setAttribute("precedes", precedes!);
        else before.removeAttribute("precedes");
      }
      if (after && !staff.contains(after)) {
        if (before && !staff.contains(before)) after.setAttribute("follows", follows!);
        else {
          // the syllable's first part goes: the part that stays takes over its id
          after.removeAttribute("follows");
          after.setAttributeNS(XML_NS, "xml:id", idOf(syllable));
          syllable.setAttributeNS(XML_NS, "xml:id", newId("gone"));
        }
      }
    }
    const glyphs = this.glyphs(staff).length - 1;
    if (line === lines[0]) {
      // the first system's section and layer carry the page's staff and layer ids back to the sb form
      const next = lines[1];
      const layerOf = (l: Element) => l.getElementsByTagNameNS(MEI_NS, "layer")[0];
      next.setAttributeNS(XML_NS, "xml:id", idOf(line));
      layerOf(next).setAttributeNS(XML_NS, "xml:id", idOf(layerOf(line)));
    }
    this.remove([staff]);
    line.remove();
    this.lines().forEach((l, index) => l.setAttribute("n", String(index + 1)));
    return glyphs;
  }

  // -- the page's verified state ----------------------------------------------------------

  /** The revisionDesc <change type="neon-verified"> that marks the page verified, if any. */
  verifiedMark(): Element | null {
    return this.all("change").find((c) => c.getAttribute("type") === VERIFIED) ?? null;
  }

  /** Mark the page verified (a dated change in meiHead's revisionDesc) or remove that mark. */
  setVerified(on: boolean, when = new Date()) {
    const mark = this.verifiedMark();
    if (!on) {
      const desc = mark?.parentElement;
      mark?.remove();
      if (desc && desc.children.length === 0) desc.remove(); // the one this page added
      return;
    }
    if (mark) return;
    const mei = this.xml.documentElement;
    let head = this.all("meiHead")[0];
    if (!head) {
      head = this.xml.createElementNS(MEI_NS, "meiHead");
      mei.prepend(head);
    }
    let desc = this.all("revisionDesc", head)[0];
    if (!desc) {
      desc = this.xml.createElementNS(MEI_NS, "revisionDesc");
      head.append(desc);
    }
    const change = this.make("change", { type: VERIFIED, isodate: when.toISOString().slice(0, 19) });
    const changeDesc = this.xml.createElementNS(MEI_NS, "changeDesc");
    const p = this.xml.createElementNS(MEI_NS, "p");
    p.textContent = "Page verified in Neon: the encoding was checked against the page image.";
    changeDesc.append(p);
    change.append(changeDesc);
    desc.append(change);
  }

  /** Set the text of `syllable`; a syllable without text gets a <syl> with a zone under its first nc. */
  setText(syllable: Element, text: string) {
    let syl = this.all("syl", syllable)[0];
    if (!syl) {
      const box = this.box(this.all("nc", syllable)[0]);
      const staffBox = this.box(this.staffOf(syllable)!);
      if (!box || !staffBox) return;
      const height = staffBox.lry - staffBox.uly;
      syl = this.make("syl", { facs: this.newZone(box.ulx, staffBox.lry + height * 0.1, box.ulx + height, staffBox.lry + height * 0.6) });
      syllable.prepend(syl);
    }
    syl.textContent = text;
  }
}
