// Neon's page, served at the interactive working URL: the page image by
// deep-zoom tiles (the web application's viewer) with the neumes verovio
// renders (in a Web Worker) laid over it; selection, moves, insertions,
// deletions, grouping and syllable text edit the MEI document in place
// (doc.ts); undo/redo; the work saved on the server a few seconds after each
// change (saving.ts, rodan.interactive_work) and resumed on
// reopening; the submission checked by the server. Every failure ends as a
// sentence on the page.

import { openDeepZoom, type DeepZoom } from "@viewer/deepzoom";
import { ViewerError, waitForTiles } from "@viewer/tiles";
import OpenSeadragon from "openseadragon";
import { type InsertKind, MeiDoc, idOf } from "./doc";
import { diatonic, type Line, StaffGeometry, yOfPitch } from "./pitch";
import { comparable, patch, parseSvg } from "./patch";
import { previewInsertion, previewMove, previewRemoval, previewText } from "./preview";
import { Renderer } from "./render";
import { Saver, type SaveState } from "./saving";
import "./neon.css";

interface Config {
  name: string;
  width: number;
  height: number;
  mei: string;
  imagePort: string;
}

type Mode = "syllable" | "neume" | "nc" | "staff" | "element";

const MODES: { mode: Mode; label: string; key: string }[] = [
  { mode: "syllable", label: "Syllable", key: "S" },
  { mode: "neume", label: "Neume", key: "N" },
  { mode: "nc", label: "Component", key: "C" },
  { mode: "staff", label: "Staff", key: "T" },
  { mode: "element", label: "Element", key: "E" },
];
const ELEMENT_CLASSES = ["nc", "clef", "custos", "accid", "divLine"];
/** Degrees a staff turns at each R (Shift+R: back). */
const ROTATE_STEP = 0.5;

/** What the Insert tool places: a glyph by a click, or a staff (a new system) by a dragged rectangle. */
type InsertChoice = InsertKind | "staff";

const INSERTS: { kind: InsertChoice; label: string }[] = [
  { kind: "punctum", label: "Punctum" }, { kind: "virga", label: "Virga" }, { kind: "inclinatum", label: "Inclinatum" },
  { kind: "liquescent", label: "Liquescent" }, { kind: "pes", label: "Pes" }, { kind: "clivis", label: "Clivis" },
  { kind: "scandicus", label: "Scandicus" }, { kind: "climacus", label: "Climacus" },
  { kind: "torculus", label: "Torculus" }, { kind: "porrectus", label: "Porrectus" },
  { kind: "custos", label: "Custos" }, { kind: "clefC", label: "C clef" }, { kind: "clefF", label: "F clef" },
  { kind: "flat", label: "Flat" }, { kind: "natural", label: "Natural" }, { kind: "divLine", label: "Division line" },
  { kind: "staff", label: "Staff (drag a rectangle)" },
];

const SHORTCUTS: [string, string][] = [
  ["S, N, C, T, E", "Select by syllable, neume, neume component, staff or element"],
  ["Click, Shift + click", "Select, add to the selection"],
  ["Drag a selected glyph", "Move it (up and down changes the pitch)"],
  ["↑ / ↓", "Move the selection one step up or down (pitch and position)"],
  ["← / →", "Move the selection sideways (Shift: further)"],
  ["I", "Insert: the next click on a staff places the glyph chosen in the list (a staff: drag a rectangle)"],
  ["Staff mode: drag, arrows", "Move the selected staff with everything on it (pitches kept)"],
  ["Staff mode: Alt + arrows, corner handles", "Resize the selected staff (right and bottom edges; drag a corner)"],
  ["Staff mode: R / Shift + R", "Rotate the selected staff by +0.5° / −0.5° (the zone's rotate; its glyphs stay)"],
  ["V", "Mark the page verified, or not (an edit clears it)"],
  ["Delete, Backspace", "Delete the selection (a staff goes with everything on it; Ctrl + Z brings it back)"],
  ["G / U", "Group the selected neumes / ungroup a neume"],
  ["M / K", "Merge the selected syllables / split the syllable before the selected neume"],
  ["Enter", "Edit the selected syllable's text"],
  ["O / Shift + O", "The selection's pitches an octave up / down (the whole page when nothing is selected)"],
  ["L", "Turn the selected clefs from C to F or F to C"],
  ["Ctrl + Z", "Undo"],
  ["Ctrl + Shift + Z, Ctrl + Y", "Redo"],
  ["+, −, 0, W A S D", "Zoom in, zoom out, whole page, move (on the page)"],
  ["Escape", "Clear the selection, stop inserting, close this list"],
  ["?", "Show or hide this list"],
];

const config = JSON.parse(document.getElementById("neon-config")!.textContent!) as Config;
const base = window.location.pathname.endsWith("/") ? window.location.pathname : `${window.location.pathname}/`;
const renderer = new Renderer();
let doc = new MeiDoc(config.mei);
let mode: Mode = "neume";
let insertKind: InsertChoice | null = null;
let selection: string[] = [];
let geometry = new Map<string, StaffGeometry>();
let undo: string[] = [];
let redo: string[] = [];
let editable = false;
let submitted = false;
const renderTimes: number[] = [];
/** Where each render's time went (ms): verovio's start, reading and drawing in the worker; the worker's round trip; the DOM update; the off-line check and selection. */
const renderParts: Record<string, number>[] = [];
/** The document's text while it is unchanged (serialising the whole MEI takes milliseconds; an edit needs it twice). */
let knownText: string | null = null;
const docText = () => (knownText ??= doc.text());
const named = (id: string) => id === "neon-page" || doc.byId(id) !== null;
// For the browser test, the benchmark and the console: the document as it stands, how long each render
// took, and the drawing on the page beside a full rendering of the document (to check that they agree).
(window as unknown as { neon: object }).neon = {
  mei: docText, renderTimes, renderParts,
  drawing: () => (drawn ? comparable(drawn, named) : ""),
  fullDrawing: async () => comparable(sized(parseSvg((await renderer.render(docText())).svg)), named),
  idle: async () => {
    for (let waited = rendering; ; waited = rendering) {
      await waited;
      if (waited === rendering) return;
    }
  },
};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, unknown> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const element: HTMLElementTagNameMap[K] = Object.assign(document.createElement(tag), props);
  element.append(...children);
  return element;
}

function button(label: string, keys: string, action: () => void, parent: HTMLElement, id = "") {
  const element = el("button", { type: "button", textContent: label, title: keys ? `${label} (${keys})` : label });
  if (id) element.id = id;
  if (keys) element.setAttribute("aria-keyshortcuts", keys);
  element.addEventListener("click", action);
  parent.append(element);
  return element;
}

// -- the page's parts ------------------------------------------------------------------

const app = document.getElementById("neon-app")!;
const message = el("p", { className: "neon-message", id: "neon-message" });
message.setAttribute("role", "alert");
const saveState = el("span", { className: "neon-save", id: "neon-save" });
saveState.setAttribute("role", "status");
const submit = el("button", { type: "button", id: "neon-submit", className: "neon-submit", textContent: "Submit" });
const progress = el("progress", { id: "neon-progress", hidden: true });
const modeBar = el("div", { className: "neon-tools" });
modeBar.setAttribute("role", "toolbar");
modeBar.setAttribute("aria-label", "Select by");
const editBar = el("div", { className: "neon-tools" });
editBar.setAttribute("role", "toolbar");
editBar.setAttribute("aria-label", "Edit");
const viewBar = el("div", { className: "neon-tools" });
viewBar.setAttribute("role", "toolbar");
viewBar.setAttribute("aria-label", "View");
const insertSelect = el("select", { id: "neon-insert-kind" });
insertSelect.append(...INSERTS.map(({ kind, label }) => el("option", { value: kind, textContent: label })));
const glyphOpacity = el("input", { type: "range", min: "0", max: "100", value: "100", id: "neon-glyph-opacity" });
const imageOpacity = el("input", { type: "range", min: "0", max: "100", value: "100", id: "neon-image-opacity" });
const viewerArea = el("div", { className: "neon-viewer", id: "neon-viewer" });
const panel = el("section", { className: "neon-panel", id: "neon-panel" });
panel.setAttribute("aria-label", "Selection");
const info = el("div", { id: "neon-selection" });
const textInput = el("input", { type: "text", id: "neon-syl-text", disabled: true });
const textLabel = el("label", { htmlFor: "neon-syl-text" }, "Syllable text");
const offline = el("p", { id: "neon-offline", className: "neon-offline-count" });
const status = el("p", { className: "neon-status", id: "neon-status", textContent: "Opening the page…" });
status.setAttribute("role", "status");
const dialog = el("dialog", { className: "neon-shortcuts", id: "neon-shortcuts" });
const verifiedButton = el("button", { type: "button", id: "neon-verified", textContent: "Verified", title: "Mark the page verified (V)" });
verifiedButton.setAttribute("aria-keyshortcuts", "V");
const handles = (["start", "end"] as const).map((corner) => {
  const handle = el("div", { className: `neon-handle neon-handle-${corner}`, id: `neon-handle-${corner}`, hidden: true });
  handle.dataset.corner = corner;
  handle.title = corner === "start" ? "Drag to move the staff's upper left corner" : "Drag to move the staff's lower right corner";
  return handle;
});
const sketch = el("div", { className: "neon-sketch", id: "neon-sketch", hidden: true });
const takeOver = el("button", { type: "button", textContent: "Take over here", hidden: true, id: "neon-take-over" });
const overlay = el("div", { className: "neon-overlay", id: "neon-overlay" });
overlay.append(...handles, sketch);

function showMessage(text: string, kind: "error" | "info" = "error") {
  message.textContent = text;
  message.className = `neon-message ${kind}`;
}

const modeButtons = new Map<Mode, HTMLButtonElement>();
for (const { mode: m, label, key } of MODES) {
  modeButtons.set(m, button(label, key, () => setMode(m), modeBar, `neon-mode-${m}`));
}
const insertButton = button("Insert", "I", () => startInsert(), editBar, "neon-insert");
editBar.prepend(el("label", { htmlFor: "neon-insert-kind", className: "neon-inline" }, "Glyph ", insertSelect));
editBar.prepend(insertButton);
button("Delete", "Delete", () => removeSelection(), editBar, "neon-delete");
button("Group", "G", () => groupSelection(), editBar, "neon-group");
button("Ungroup", "U", () => ungroupSelection(), editBar, "neon-ungroup");
button("Merge", "M", () => mergeSelection(), editBar, "neon-merge");
button("Split", "K", () => splitSelection(), editBar, "neon-split");
button("Octave up", "O", () => octave(1), editBar, "neon-octave-up");
button("Octave down", "Shift+O", () => octave(-1), editBar, "neon-octave-down");
button("Clef C/F", "L", () => swapClefs(), editBar, "neon-clef-shape");
button("Rotate staff +½°", "R", () => rotateStaff(ROTATE_STEP), editBar, "neon-rotate");
button("Rotate staff −½°", "Shift+R", () => rotateStaff(-ROTATE_STEP), editBar, "neon-rotate-back");
const undoButton = button("Undo", "Control+Z", () => history(undo, redo), editBar, "neon-undo");
const redoButton = button("Redo", "Control+Shift+Z", () => history(redo, undo), editBar, "neon-redo");
button("Shortcuts", "?", () => toggleShortcuts(), viewBar, "neon-help");
verifiedButton.addEventListener("click", () => toggleVerified());
// choosing a glyph in the list starts inserting it (the list keeps the focus, so I would not reach the page)
insertSelect.addEventListener("change", () => startInsert());

dialog.append(
  el("h2", { textContent: "Keyboard shortcuts" }),
  el("dl", {}, ...SHORTCUTS.flatMap(([keys, what]) => [el("dt", { textContent: keys }), el("dd", { textContent: what })])),
  el("p", {}, el("button", { type: "button", textContent: "Close", onclick: () => dialog.close() })),
);

app.replaceChildren(
  el("header", { className: "neon-bar" },
    el("h1", { textContent: `Neon — ${config.name}` }), modeBar, editBar, viewBar,
    el("label", { htmlFor: "neon-glyph-opacity", className: "neon-inline" }, "Glyphs ", glyphOpacity),
    el("label", { htmlFor: "neon-image-opacity", className: "neon-inline" }, "Image ", imageOpacity),
    verifiedButton, saveState, takeOver, progress, submit),
  message,
  el("div", { className: "neon-main" }, viewerArea,
    el("aside", { className: "neon-side" }, el("h2", { textContent: "Selection" }), panel)),
  status, dialog,
);
panel.append(info, textLabel, textInput, offline);

// -- rendering ---------------------------------------------------------------------------

function staffGeometry(svg: SVGSVGElement) {
  const found = new Map<string, StaffGeometry>();
  for (const group of Array.from(svg.querySelectorAll("g.staff"))) {
    const lines: Line[] = [];
    for (const path of Array.from(group.children)) {
      const match = path.localName === "path" && /^M\s*([\d.-]+)\s+([\d.-]+)\s*L\s*([\d.-]+)\s+([\d.-]+)/.exec(path.getAttribute("d") ?? "");
      if (match) lines.push({ x1: +match[1], y1: +match[2], x2: +match[3], y2: +match[4] });
    }
    lines.sort((a, b) => a.y1 - b.y1);
    if (lines.length) found.set(group.id, new StaffGeometry(group.id, lines));
  }
  return found;
}

const geometryOf = (staff: Element) => geometry.get(idOf(staff)) ?? null;

/** The ncs drawn away from their pitch's line or space (more than a quarter of a staff space): one pass over the page. */
function offLine(): string[] {
  const found: string[] = [];
  for (const { nc, staff, clef } of doc.ncsWithClef()) {
    const shape = geometryOf(staff);
    const box = doc.box(nc);
    if (!shape || !box) continue;
    const x = (box.ulx + box.lrx) / 2;
    const expected = yOfPitch(shape, clef.shape, clef.line, diatonic(nc.getAttribute("pname")!, Number(nc.getAttribute("oct"))), x);
    if (Math.abs((box.uly + box.lry) / 2 - expected) > shape.space(x) / 4) found.push(idOf(nc));
  }
  return found;
}

let rendering: Promise<void> = Promise.resolve();
/** Whether a render is waiting for the one in progress (it will take the document as it then stands). */
let queued = false;
let drawn: SVGSVGElement | null = null;
/** Edits made so far: a rendering of an older document than the latest is not drawn. */
let edits = 0;
/** When the edit being drawn began (the key or the release), for the time the user waits. */
let editStarted: number | null = null;
/** The latest edit drawn at once (preview.ts): its number, how long after the key it was in the page and painted. */
let previewed: { edit: number; shown: number; painted?: number } | null = null;

/** Call `then` once the browser has painted what is in the page now (the frame after the next animation frame began). */
const afterPaint = (then: () => void) => requestAnimationFrame(() => setTimeout(then, 0));

function sized(svg: SVGSVGElement) {
  svg.setAttribute("width", "100%");
  svg.setAttribute("height", "100%");
  svg.setAttribute("preserveAspectRatio", "none");
  return svg;
}

/** Outline the ncs that sit off their line, say how many, and show the selection: after every change of the drawing. */
function markDrawing(svg: SVGSVGElement) {
  for (const element of Array.from(svg.querySelectorAll(".neon-offline"))) element.classList.remove("neon-offline");
  const off = offLine();
  for (const id of off) svg.querySelector(`[id="${CSS.escape(id)}"]`)?.classList.add("neon-offline");
  const count = off.length;
  offline.textContent = count ? `${count} neume component${count === 1 ? "" : "s"} sit off the line or space of their pitch (outlined in orange).` : "Every neume component sits on its pitch.";
  showSelection();
}

/** Draw the document as it stands and outline what sits off its line; a rendering overtaken by a newer edit is dropped. */
async function render() {
  const started = performance.now();
  const edit = edits;
  const { svg: svgText, times } = await renderer.render(docText());
  if (edit !== edits) return; // a newer edit came in meanwhile: its render is queued
  const answered = performance.now();
  const fresh = sized(parseSvg(svgText));
  let changes = { replaced: 0, drawing: 0 };
  if (drawn) {
    changes = patch(drawn, fresh);
  } else {
    overlay.prepend(fresh);
    drawn = fresh;
  }
  const svg = drawn;
  const patched = performance.now();
  geometry = staffGeometry(svg);
  markDrawing(svg);
  const done = performance.now();
  renderTimes.push(done - started);
  const { evaluatedAt, postedAt, ...spent } = times;
  // the key to the right drawing: the preview's time when this rendering found nothing to change in it
  const exact = previewed !== null && previewed.edit === edit && changes.replaced === 0 && changes.drawing === 0;
  const parts: Record<string, number> = { ...spent, workerStarted: evaluatedAt - performance.timeOrigin, requested: started,
    delivered: answered - (postedAt - performance.timeOrigin),
    total: done - started, worker: answered - started, dom: patched - answered, checks: done - patched,
    replaced: changes.replaced, changed: changes.drawing,
    ...(editStarted === null ? {} : { rendered: done - editStarted, sinceEdit: exact ? previewed!.shown : done - editStarted }),
    ...(previewed?.edit === edit ? { previewed: previewed.shown, previewExact: exact ? 1 : 0 } : {}) };
  renderParts.push(parts);
  const since = editStarted;
  const shownAtOnce = exact ? previewed : null;
  // the key to the right drawing painted (the preview's paint when it was exact: it has happened by now)
  if (since !== null) afterPaint(() => (parts.painted = shownAtOnce?.painted ?? performance.now() - since));
  editStarted = null;
  previewed = null;
  if (renderTimes.length === 1) performance.mark("neon-first-render");
  document.body.dataset.rendered = String(renderTimes.length);
  document.body.dataset.drawnEdit = String(edit);
}

function rerender() {
  if (queued) return rendering;
  queued = true;
  rendering = rendering.then(() => {
    queued = false;
    return render();
  }).catch((error: Error) => showMessage(`The neumes could not be drawn: ${error.message}`));
  return rendering;
}

// -- selection -------------------------------------------------------------------------

function setMode(next: Mode) {
  mode = next;
  for (const [m, element] of modeButtons) element.setAttribute("aria-pressed", String(m === next));
  selection = [];
  showSelection();
}

function groupOf(target: Element | null): Element | null {
  if (!target) return null;
  const classes = mode === "element" ? ELEMENT_CLASSES : [mode];
  return target.closest(classes.map((c) => `g.${c}`).join(", "));
}

function showSelection() {
  for (const element of Array.from(overlay.querySelectorAll(".neon-selected"))) element.classList.remove("neon-selected");
  const elements = selection.map((id) => doc.byId(id)).filter((e): e is Element => e !== null);
  selection = elements.map(idOf);
  for (const id of selection) overlay.querySelector(`[id="${CSS.escape(id)}"]`)?.classList.add("neon-selected");
  if (!elements.length) {
    info.textContent = "Nothing is selected. Click a glyph on the page.";
  } else {
    const pitched = elements.flatMap((e) => doc.pitched(e));
    const pitches = pitched.map((e) => `${e.getAttribute("pname")}${e.getAttribute("oct")}`);
    const values = pitched.map((e) => diatonic(e.getAttribute("pname")!, Number(e.getAttribute("oct"))));
    const contour = values.slice(1).map((v, i) => (v > values[i] ? "up" : v < values[i] ? "down" : "same")).join(", ");
    const kinds = [...new Set(elements.map((e) => e.localName))].join(", ");
    const rotations = elements.filter((e) => e.localName === "staff").map((e) => `${doc.rotation(e).toFixed(1)}°`);
    info.replaceChildren(
      el("p", { id: "neon-selection-kind", textContent: `${elements.length} selected (${kinds})` }),
      el("p", { id: "neon-selection-pitch", textContent: pitches.length ? `Pitch: ${pitches.join(" ")}` : "No pitch" }),
      el("p", { textContent: contour ? `Contour: ${contour}` : "" }),
      el("p", { id: "neon-selection-rotation", textContent: rotations.length ? `Rotation: ${rotations.join(", ")}` : "" }),
    );
  }
  placeHandles(elements);
  showVerified();
  const syllable = elements.length === 1 ? syllableOf(elements[0]) : null;
  textInput.disabled = !syllable || !editable;
  textInput.value = syllable ? (doc.all("syl", syllable)[0]?.textContent ?? "") : "";
}

/** Percent of the page (the overlay's size) of an image point: where handles and the sketch go. */
const percentX = (x: number) => `${(x / config.width) * 100}%`;
const percentY = (y: number) => `${(y / config.height) * 100}%`;

/** The corner handles of a single selected staff. */
function placeHandles(elements: Element[]) {
  const box = elements.length === 1 && elements[0].localName === "staff" && editable ? doc.box(elements[0]) : null;
  for (const handle of handles) {
    handle.hidden = !box;
    if (!box) continue;
    const start = handle.dataset.corner === "start";
    handle.style.left = percentX(start ? box.ulx : box.lrx);
    handle.style.top = percentY(start ? box.uly : box.lry);
  }
}

function showVerified() {
  const on = doc.verifiedMark() !== null;
  verifiedButton.setAttribute("aria-pressed", String(on));
  verifiedButton.textContent = on ? "Verified ✓" : "Verified";
  document.body.dataset.verified = String(on);
}

function syllableOf(element: Element): Element | null {
  let node: Element | null = element;
  while (node && node.localName !== "syllable") node = node.parentElement;
  return node;
}

function selected(): Element[] {
  return selection.map((id) => doc.byId(id)).filter((e): e is Element => e !== null);
}

// -- edits ------------------------------------------------------------------------------

/** Every change of the document goes here: undoable, saved; any edit but the verified toggle clears "verified". Whether it was made. */
function edit(change: () => void, verifying = false): boolean {
  if (!editable) return false;
  editStarted = performance.now();
  const before = docText();
  const wasVerified = doc.verifiedMark() !== null;
  try {
    change();
    if (wasVerified && !verifying) {
      doc.setVerified(false);
      showMessage("The page was edited after it was verified, so it is no longer marked verified. Check it and press Verified (V) again.", "info");
    }
  } catch (error) {
    doc = new MeiDoc(before);
    knownText = before;
    showMessage(`That edit could not be made: ${error instanceof Error ? error.message : String(error)}.`);
    return false;
  }
  undo.push(before);
  redo = [];
  if (undo.length > 200) undo.shift();
  changed();
  return true;
}

/** The document changed (`text`: its new text, when known): undo buttons, autosave, a new rendering. */
function changed(text: string | null = null) {
  knownText = text;
  edits += 1;
  document.body.dataset.edits = String(edits); // with data-drawn-edit: whether the drawing is of the latest document
  previewed = null;
  undoButton.disabled = undo.length === 0;
  redoButton.disabled = redo.length === 0;
  autosave.changed();
  void rerender();
}

function history(from: string[], to: string[]) {
  if (!editable || from.length === 0) return;
  editStarted = performance.now();
  to.push(docText());
  const text = from.pop()!;
  doc = new MeiDoc(text);
  changed(text);
}

function toggleVerified() {
  const on = doc.verifiedMark() === null;
  edit(() => doc.setVerified(on), true);
  if (editable) showMessage(on ? "The page is marked verified; the submission records it. Any edit clears the mark." : "The page is no longer marked verified.", "info");
}

function removeSelection() {
  const elements = selected();
  if (!elements.length) return showMessage("Select what to delete first.");
  const staves = elements.filter((e) => e.localName === "staff");
  if (staves.length) {
    if (staves.length !== elements.length) return showMessage("Select staves alone (staff mode) to delete them.");
    let glyphs = 0;
    edit(() => staves.forEach((staff) => (glyphs += doc.removeStaff(staff))));
    selection = [];
    const what = staves.length === 1 ? "The staff was" : `${staves.length} staves were`;
    if (!doc.byId(idOf(staves[0]))) showMessage(`${what} deleted with the ${glyphs} glyph${glyphs === 1 ? "" : "s"} on it (Ctrl+Z brings ${staves.length === 1 ? "it" : "them"} back).`, "info");
    return;
  }
  const ids = elements.map(idOf);
  const made = edit(() => doc.remove(elements));
  selection = [];
  if (made) drawAtOnce((svg) => previewRemoval(svg, ids, (id) => doc.byId(id) !== null));
}

function groupSelection() {
  const neumes = selected().filter((e) => e.localName === "neume");
  if (neumes.length < 2) return showMessage("Select two or more neumes (neume mode, Shift + click) to group them.");
  edit(() => doc.group(neumes));
  selection = [idOf(neumes[0])];
}

function ungroupSelection() {
  const neumes = selected().filter((e) => e.localName === "neume");
  if (neumes.length !== 1) return showMessage("Select one neume to ungroup it.");
  edit(() => doc.ungroup(neumes[0]));
}

function mergeSelection() {
  const syllables = selected().filter((e) => e.localName === "syllable");
  if (syllables.length < 2) return showMessage("Select two or more syllables (syllable mode, Shift + click) to merge them.");
  edit(() => doc.merge(syllables));
  selection = [idOf(syllables[0])];
}

function splitSelection() {
  const neumes = selected().filter((e) => e.localName === "neume");
  if (neumes.length !== 1) return showMessage("Select the neume that should begin the new syllable.");
  edit(() => {
    if (!doc.split(neumes[0])) throw new Error("the first neume of a syllable already begins it");
  });
}

/** Pitches an octave up or down: how a page encoded with a C clef on c3 is brought to verovio's c4, by choice. */
function octave(by: number) {
  const elements = selected().length ? selected() : doc.all("layer");
  edit(() => doc.shiftOctave(elements, by));
}

function swapClefs() {
  const clefs = selected().filter((e) => e.localName === "clef");
  if (!clefs.length) return showMessage("Select a clef first (element mode).");
  edit(() => doc.swapClefShape(clefs));
}

/** Move the selected staves by (dx, dy) image pixels with everything on them. */
function moveStaves(dx: number, dy: number) {
  const staves = selected().filter((e) => e.localName === "staff");
  if (staves.length) edit(() => staves.forEach((staff) => doc.moveStaff(staff, dx, dy)));
}

/** Turn the selected staff by `degrees` (its zone's rotate); its glyphs stay where they are. */
function rotateStaff(degrees: number) {
  const staves = selected().filter((e) => e.localName === "staff");
  if (staves.length !== 1) return showMessage("Select one staff (staff mode) to rotate it.");
  edit(() => doc.rotateStaff(staves[0], degrees));
}

function resizeStaff(edges: { left?: number; top?: number; right?: number; bottom?: number }) {
  const staves = selected().filter((e) => e.localName === "staff");
  if (staves.length !== 1) return showMessage("Select one staff (staff mode) to resize it.");
  edit(() => doc.resizeStaff(staves[0], edges));
}

function moveSelection(steps: number, dx: number) {
  const elements = selected();
  if (!elements.length) return;
  if (elements.every((e) => e.localName === "staff")) {
    const half = (geometryOf(elements[0])?.space(0) ?? 20) / 2;
    return moveStaves(dx, -steps * half);
  }
  const made = edit(() => {
    if (steps) doc.moveSteps(elements, steps, geometryOf);
    if (dx) doc.moveX(elements, dx);
  });
  if (made && drawn) preview(elements, steps, dx);
}

/** Draw a move of neume components at once, where the result can be told exactly (preview.ts); verovio's rendering follows. */
function preview(elements: Element[], steps: number, dx: number) {
  const glyphs = [...new Set(elements.flatMap((e) => doc.glyphs(e)))];
  if (!glyphs.length || glyphs.some((g) => g.localName !== "nc")) return;
  const ncs = glyphs.map((nc) => {
    const staff = doc.staffOf(nc);
    const turn = staff ? Number(doc.zoneOf(staff)?.getAttribute("rotate") ?? 0) : 0;
    return { id: idOf(nc), staff: staff ? idOf(staff) : "", rotated: turn !== 0 };
  });
  const pitchOf = (id: string) => {
    const nc = doc.byId(id);
    return nc?.localName === "nc" && nc.hasAttribute("pname") ? diatonic(nc.getAttribute("pname")!, Number(nc.getAttribute("oct"))) : null;
  };
  drawAtOnce((svg) => {
    if (!previewMove(svg, ncs, steps, dx, pitchOf)) return false;
    for (const id of selection) svg.querySelector(`[id="${CSS.escape(id)}"]`)?.removeAttribute("transform"); // a drag's
    return true;
  });
}

/** Change the drawing at once by `change` (preview.ts), when it can tell the result; verovio's rendering follows and checks it. */
function drawAtOnce(change: (svg: SVGSVGElement) => boolean) {
  if (!drawn || editStarted === null || !change(drawn)) return;
  markDrawing(drawn);
  const started = editStarted;
  const shown: { edit: number; shown: number; painted?: number } = { edit: edits, shown: performance.now() - started };
  previewed = shown;
  afterPaint(() => (shown.painted = performance.now() - started));
}

function startInsert() {
  if (!editable) return;
  insertKind = insertSelect.value as InsertChoice;
  viewerArea.dataset.inserting = insertKind;
  if (insertKind === "staff") showMessage("Drag a rectangle on the page where the new staff goes (Escape to stop).", "info");
  else showMessage(`Click on a staff where the ${insertSelect.selectedOptions[0].textContent!.toLowerCase()} goes (Escape to stop).`, "info");
}

function stopInsert() {
  insertKind = null;
  delete viewerArea.dataset.inserting;
  sketch.hidden = true;
}

/** A new staff over the image rectangle from (x1, y1) to (x2, y2), kept inside the page. */
function insertStaff(x1: number, y1: number, x2: number, y2: number) {
  stopInsert();
  const clamp = (v: number, max: number) => Math.min(max, Math.max(0, v));
  const [ulx, lrx] = [clamp(Math.min(x1, x2), config.width), clamp(Math.max(x1, x2), config.width)];
  const [uly, lry] = [clamp(Math.min(y1, y2), config.height), clamp(Math.max(y1, y2), config.height)];
  if (lrx - ulx < 40 || lry - uly < 15) return showMessage("Drag a larger rectangle for the staff: at least 40 pixels wide and 15 high on the page.");
  let staff: Element | null = null;
  edit(() => {
    staff = doc.insertStaff(ulx, uly, lrx, lry);
  });
  if (staff) {
    setMode("staff");
    selection = [idOf(staff)];
    showMessage("A staff was inserted with a C clef on its top line.", "info");
  }
}

function insertAt(x: number, y: number) {
  const kind = insertKind as InsertKind;
  insertKind = null;
  delete viewerArea.dataset.inserting;
  let best: { staff: Element; shape: StaffGeometry; distance: number } | null = null;
  for (const staff of doc.staves()) {
    const shape = geometryOf(staff);
    if (!shape || x < shape.left - 50 || x > shape.right + 50) continue;
    const top = shape.lineY(shape.lines.length, x);
    const bottom = shape.lineY(1, x);
    const distance = y < top ? top - y : y > bottom ? y - bottom : 0;
    if (!best || distance < best.distance) best = { staff, shape, distance };
  }
  if (!best || best.distance > best.shape.space(x) * 3) return showMessage("Click on or near a staff to insert there.");
  const { staff, shape } = best;
  let inserted: Element | null = null;
  edit(() => {
    inserted = doc.insert(kind, staff, shape, x, y);
  });
  if (inserted) {
    showMessage("");
    selection = [idOf(inserted)];
    drawInsertion(inserted, staff);
  }
}

/** An nc with nothing but its pitch and zone: drawn with the punctum's glyph. */
const plainNc = (nc: Element | null) =>
  nc?.localName === "nc" && Array.from(nc.attributes).every((a) => ["xml:id", "facs", "pname", "oct"].includes(a.name));

/** Draw an inserted syllable of plain components at once (preview.ts); verovio's rendering follows and checks it. */
function drawInsertion(inserted: Element, staff: Element) {
  const neumes = doc.all("neume", inserted);
  const ncs = doc.all("nc", inserted);
  const layer = doc.all("layer", staff)[0];
  if (inserted.localName !== "syllable" || neumes.length !== 1 || !ncs.length || !ncs.every(plainNc) || inserted.parentElement !== layer) return;
  if (doc.all("clef", layer).length > 1) return; // the height of a pitch would depend on the clef in force there
  const next = inserted.nextElementSibling;
  const pitchOf = (id: string) => {
    const nc = doc.byId(id);
    return nc?.localName === "nc" && nc.hasAttribute("pname") ? diatonic(nc.getAttribute("pname")!, Number(nc.getAttribute("oct"))) : null;
  };
  const placed = ncs.map((nc) => ({ id: idOf(nc), x: doc.box(nc)?.ulx ?? NaN, pitch: pitchOf(idOf(nc)) ?? NaN }));
  if (placed.some((nc) => !Number.isInteger(nc.x) || Number.isNaN(nc.pitch))) return;
  drawAtOnce((svg) => previewInsertion(svg, idOf(staff), idOf(layer), next ? idOf(next) : null, idOf(inserted), idOf(neumes[0]), placed, pitchOf, (id) => plainNc(doc.byId(id))));
}

textInput.addEventListener("change", () => {
  const syllable = selected().length === 1 ? syllableOf(selected()[0]) : null;
  if (!syllable) return;
  const syl = doc.all("syl", syllable)[0];
  if (edit(() => doc.setText(syllable, textInput.value)) && syl?.isConnected) drawAtOnce((svg) => previewText(svg, idOf(syl), syl.textContent ?? ""));
});

// -- autosave and submission ----------------------------------------------------------

function describe(state: SaveState) {
  takeOver.hidden = !(state.kind === "blocked" && state.canTakeOver);
  switch (state.kind) {
    case "saved": return state.at ? `All changes saved (${new Date(state.at).toLocaleTimeString()}).` : "No changes yet.";
    case "pending": return "Changes not saved yet…";
    case "saving": return "Saving…";
    case "offline": return state.message;
    case "blocked": return state.message;
  }
}

const autosave = new Saver(`${base}work/`, docText, (state) => {
  saveState.textContent = describe(state);
  saveState.dataset.state = state.kind;
  if (state.kind === "blocked") {
    editable = false;
    submit.disabled = true;
  }
});

takeOver.addEventListener("click", async () => {
  if (await autosave.claim(true)) {
    editable = !submitted;
    submit.disabled = submitted;
    showMessage("You took over editing here; the other page stops saving.", "info");
  }
});

submit.addEventListener("click", async () => {
  if (!editable) return;
  editable = false;
  submit.disabled = true;
  progress.hidden = false;
  showMessage("Submitting: the server is checking the MEI…", "info");
  try {
    await autosave.flush();
    const response = await fetch(base, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ user_input: docText() }),
    });
    if (!response.ok) {
      let detail = `The server answered ${response.status}.`;
      try {
        const body = await response.json();
        detail = body.detail ?? body.message ?? detail;
      } catch { /* the status says enough */ }
      throw new Error(detail);
    }
    submitted = true;
    autosave.stop();
    document.body.dataset.neon = "submitted";
    showMessage("Submitted. The corrected MEI is being written; you can close this page.", "info");
  } catch (error) {
    editable = true;
    submit.disabled = false;
    showMessage(`Not submitted: ${error instanceof Error ? error.message : String(error)} Your work is kept here and on the server.`);
  } finally {
    progress.hidden = true;
  }
});

window.addEventListener("beforeunload", (event) => {
  if (autosave.unsaved && !submitted) {
    void autosave.flush();
    event.preventDefault();
  }
});

// -- pointer and keys -------------------------------------------------------------------

function toggleShortcuts() {
  if (dialog.open) dialog.close();
  else dialog.showModal();
}

function wire(zoom: DeepZoom) {
  const viewer = zoom.viewer;
  const imagePoint = (position: OpenSeadragon.Point) => viewer.viewport.viewerElementToImageCoordinates(position);
  let drag: { start: OpenSeadragon.Point; dx: number; dy: number } | null = null;

  // OpenSeadragon captures the pointer on press, so the glyph under it is known only then.
  let pressed: Element | null = null;
  let rectangle: { start: OpenSeadragon.Point; end: OpenSeadragon.Point; corner?: string } | null = null;
  viewer.addHandler("canvas-press", (event) => {
    pressed = (event.originalEvent as Event).target as Element | null;
    const corner = pressed instanceof HTMLElement ? pressed.dataset.corner : undefined;
    if (editable && (insertKind === "staff" || corner)) {
      const start = imagePoint(event.position!);
      rectangle = { start, end: start, corner };
      return;
    }
    const group = groupOf(pressed);
    if (editable && group && selection.includes(group.id)) drag = { start: imagePoint(event.position!), dx: 0, dy: 0 };
  });
  viewer.addHandler("canvas-drag", (event) => {
    if (rectangle) {
      event.preventDefaultAction = true;
      rectangle.end = imagePoint(event.position!);
      const { start, end } = rectangle;
      if (rectangle.corner) {
        const handle = handles.find((h) => h.dataset.corner === rectangle!.corner)!;
        const box = doc.box(selected()[0])!;
        const start = rectangle.corner === "start";
        handle.style.left = percentX((start ? box.ulx : box.lrx) + end.x - rectangle.start.x);
        handle.style.top = percentY((start ? box.uly : box.lry) + end.y - rectangle.start.y);
        return;
      }
      Object.assign(sketch.style, { left: percentX(Math.min(start.x, end.x)), top: percentY(Math.min(start.y, end.y)),
        width: percentX(Math.abs(end.x - start.x)), height: percentY(Math.abs(end.y - start.y)) });
      sketch.hidden = false;
      return;
    }
    if (!drag) return;
    event.preventDefaultAction = true;
    const now = imagePoint(event.position!);
    drag.dx = now.x - drag.start.x;
    drag.dy = now.y - drag.start.y;
    for (const id of selection) overlay.querySelector(`[id="${CSS.escape(id)}"]`)?.setAttribute("transform", `translate(${drag.dx} ${drag.dy})`);
  });
  viewer.addHandler("canvas-release", () => {
    if (rectangle) {
      const { start, end, corner } = rectangle;
      rectangle = null;
      const dx = Math.round(end.x - start.x);
      const dy = Math.round(end.y - start.y);
      if (corner === "start") resizeStaff({ left: dx, top: dy });
      else if (corner === "end") resizeStaff({ right: dx, bottom: dy });
      else if (Math.abs(dx) > 2 || Math.abs(dy) > 2) insertStaff(start.x, start.y, end.x, end.y);
      showSelection();
      return;
    }
    if (!drag) return;
    const { dx, dy } = drag;
    drag = null;
    const first = selected()[0];
    const staff = first && doc.staffOf(first);
    const shape = staff ? geometryOf(staff) : null;
    const half = (shape ? shape.space(0) : 20) / 2;
    const steps = Math.round(-dy / half);
    if (first?.localName === "staff") {
      if (Math.abs(dx) >= 2 || Math.abs(dy) >= 2) moveStaves(Math.round(dx), Math.round(dy));
      else void rerender();
    } else if (steps || Math.abs(dx) >= 2) moveSelection(steps, Math.round(dx));
    else void rerender();
  });
  viewer.addHandler("canvas-click", (event) => {
    if (!event.quick) return;
    const point = imagePoint(event.position!);
    if (insertKind === "staff") {
      event.preventDefaultAction = true;
      return;
    }
    if (insertKind) {
      event.preventDefaultAction = true;
      insertAt(point.x, point.y);
      return;
    }
    const group = groupOf(pressed);
    const shift = (event.originalEvent as MouseEvent).shiftKey;
    if (!group) {
      if (!shift) selection = [];
    } else if (shift) {
      selection = selection.includes(group.id) ? selection.filter((id) => id !== group.id) : [...selection, group.id];
    } else {
      selection = [group.id];
    }
    showSelection();
  });

  window.addEventListener("keydown", (event) => {
    const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement;
    if (typing || dialog.open && event.key !== "Escape" && event.key !== "?") return;
    const ctrl = event.ctrlKey || event.metaKey;
    const key = event.key;
    let handled = true;
    if (ctrl && key.toLowerCase() === "z") history(event.shiftKey ? redo : undo, event.shiftKey ? undo : redo);
    else if (ctrl && key.toLowerCase() === "y") history(redo, undo);
    else if (event.altKey && !ctrl && key.startsWith("Arrow") && selection.length) {
      const by = event.shiftKey ? 20 : 4;
      if (key === "ArrowRight") resizeStaff({ right: by });
      else if (key === "ArrowLeft") resizeStaff({ right: -by });
      else if (key === "ArrowDown") resizeStaff({ bottom: by });
      else resizeStaff({ bottom: -by });
    } else if (ctrl || event.altKey) handled = false;
    else if (key === "?") toggleShortcuts();
    else if (key === "Escape") {
      if (dialog.open) dialog.close();
      stopInsert();
      selection = [];
      showSelection();
    } else if (key === "ArrowUp" && selection.length) moveSelection(1, 0);
    else if (key === "ArrowDown" && selection.length) moveSelection(-1, 0);
    else if (key === "ArrowLeft" && selection.length) moveSelection(0, event.shiftKey ? -20 : -4);
    else if (key === "ArrowRight" && selection.length) moveSelection(0, event.shiftKey ? 20 : 4);
    else if (key === "Delete" || key === "Backspace") removeSelection();
    else if (key === "Enter" && !textInput.disabled) textInput.focus();
    else {
      const letter = key.toUpperCase();
      const chosen = MODES.find((m) => m.key === letter);
      if (chosen) setMode(chosen.mode);
      else if (letter === "I") startInsert();
      else if (letter === "G") groupSelection();
      else if (letter === "U") ungroupSelection();
      else if (letter === "M") mergeSelection();
      else if (letter === "K") splitSelection();
      else if (letter === "O") octave(event.shiftKey ? -1 : 1);
      else if (letter === "L") swapClefs();
      else if (letter === "R") rotateStaff(event.shiftKey ? -ROTATE_STEP : ROTATE_STEP);
      else if (letter === "V") toggleVerified();
      else handled = false;
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  glyphOpacity.addEventListener("input", () => (overlay.style.opacity = String(Number(glyphOpacity.value) / 100)));
  imageOpacity.addEventListener("input", () => viewer.world.getItemAt(0)?.setOpacity(Number(imageOpacity.value) / 100));
}

// -- opening -------------------------------------------------------------------------

async function main() {
  document.body.dataset.neon = "opening";
  setMode("neume");
  undoButton.disabled = redoButton.disabled = true;
  try {
    const saved = await autosave.load();
    if (saved.work?.mei) {
      doc = new MeiDoc(saved.work.mei);
      knownText = saved.work.mei;
      showMessage(`Your saved work (${saved.saved ? new Date(saved.saved).toLocaleString() : "earlier"}) was restored.`, "info");
    }
    // verovio draws the neumes (into the overlay, not yet on the viewer) while the tiles are awaited and opened
    const drawing = rerender();
    editable = await autosave.claim();
    if (!editable) submit.disabled = true;
    const tileSource = await waitForTiles(`${base}inputs/${encodeURIComponent(config.imagePort)}/tiles/`, ({ message: text, percent }) => {
      status.textContent = percent === null ? text : `${text} (${percent}%)`;
    });
    performance.mark("neon-tiles-ready");
    status.textContent = "Loading the page image and drawing the neumes…";
    const zoom = openDeepZoom({ element: viewerArea, tileSource, label: config.name, toolbar: viewBar });
    zoom.viewer.addHandler("open-failed", (event) => showMessage(`The page image could not be opened: ${event.message}.`));
    zoom.viewer.addOnceHandler("open", () => {
      zoom.viewer.addOverlay({ element: overlay, location: new OpenSeadragon.Rect(0, 0, 1, config.height / config.width) });
    });
    wire(zoom);
    await Promise.all([zoom.firstView.then(() => performance.mark("neon-first-view")), drawing]);
    performance.mark("neon-ready");
    status.textContent = "Ready. Press ? for the keyboard shortcuts.";
    document.body.dataset.neon = "ready";
  } catch (error) {
    const text = error instanceof ViewerError || error instanceof Error ? error.message : String(error);
    showMessage(`Neon could not open: ${text}`);
    document.body.dataset.neon = "failed";
  }
}

void main();
