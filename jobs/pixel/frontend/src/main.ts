// Pixel's page, served at the interactive working URL: the page image by
// deep-zoom tiles (the web application's viewer), the selected region and
// layers 1..N drawn over it, tools that record compact edits, autosave with
// resume, and the submission. Every failure ends as a sentence on the page.

import { openDeepZoom } from "@viewer/deepzoom";
import { ViewerError, waitForTiles } from "@viewer/tiles";
import OpenSeadragon from "openseadragon";
import { Autosave, type SaveState } from "./autosave";
import { type Box, type Change, EditList, type LayerId, type Op } from "./edits";
import { type DeepZoomSource, Fills } from "./fill";
import { Overlay, type LayerView, type Transform } from "./render";
import "./pixel.css";

type RGB = [number, number, number];

interface Config {
  name: string;
  width: number;
  height: number;
  layerInputs: string[];
  maxLayers: number;
  colours: { region: RGB; layers: RGB[] };
  imagePort: string;
}

interface LayerState {
  opacity: number;
  visible: boolean;
}

/** What the saved work's log holds: edits, undo and redo, the number of layers, a layer's look. */
type Entry = Change | { a: "layers"; n: number } | ({ a: "look"; layer: LayerId } & LayerState);

type ToolName = "brush" | "eraser" | "rect" | "lasso" | "line" | "fill" | "select" | "pan";

const TOOLS: { name: ToolName; label: string; key: string }[] = [
  { name: "brush", label: "Brush", key: "B" },
  { name: "eraser", label: "Eraser", key: "E" },
  { name: "rect", label: "Rectangle", key: "R" },
  { name: "lasso", label: "Lasso", key: "L" },
  { name: "line", label: "Line", key: "I" },
  { name: "fill", label: "Fill", key: "W" },
  { name: "select", label: "Select", key: "M" },
  { name: "pan", label: "Pan", key: "H" },
];

const SHORTCUTS: [string, string][] = [
  ["B, E, R, L, I, W, M, H", "Brush, eraser, rectangle, lasso, line, fill (magic wand), select, pan"],
  ["Alt + drag or click", "Rectangle, lasso, line or fill erase instead of paint"],
  ["Click with Fill", "Paint the connected pixels of the page within the tolerance of the one clicked"],
  ["Ctrl + C, Ctrl + X", "Copy, or cut, the current layer inside the selection (drawn with Select)"],
  ["Ctrl + V", "Paste the copy into the current layer where the selection is"],
  ["Drag inside the selection", "After a copy, move the selection: Ctrl + V pastes there"],
  ["Space (hold)", "Pan while another tool is chosen"],
  ["G", "Work on the selected region"],
  ["1 – 7", "Work on that layer"],
  ["A", "Select the whole page as the region"],
  ["Escape", "Clear the selected region (or close this list)"],
  ["[ and ]", "Smaller or larger brush"],
  ["V", "Hide or show the current layer"],
  ["S", "Show only the current layer (solo), again to show all"],
  ["Ctrl + Z", "Undo"],
  ["Ctrl + Shift + Z, Ctrl + Y", "Redo"],
  ["+, −, 0, arrow keys", "Zoom in, zoom out, whole page, move"],
  ["F", "Full screen"],
  ["?", "Show or hide this list"],
];

const config = JSON.parse(document.getElementById("pixel-config")!.textContent!) as Config;
const base = window.location.pathname.endsWith("/") ? window.location.pathname : `${window.location.pathname}/`;
const page = { x0: 0, y0: 0, x1: config.width, y1: config.height };
const edits = new EditList();
const looks = new Map<LayerId, LayerState>();
let layerCount = config.layerInputs.length || 2;
let active: LayerId = "region";
let tool: ToolName = "rect";
let brushSize = 12;
let tolerance = 32;
/** The rectangle drawn with Select (not an edit), and what Ctrl+C or Ctrl+X took. */
let selection: Box | null = null;
let clipboard: { from_layer: LayerId; rect: number[]; at: number; last: Op | undefined } | null = null;
let solo: LayerId | null = null;
let spacePan = false;
let preview: Op | null = null;
let editable = false;
const inputs = new Map<number, HTMLImageElement>();
const fills = new Fills(config.width, config.height, () => {
  if (fills.note) {
    status.textContent = fills.note;
    fills.note = "";
  }
  draw();
});
const frameTimes: number[] = [];

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, unknown> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const element: HTMLElementTagNameMap[K] = Object.assign(document.createElement(tag), props);
  element.append(...children);
  return element;
}

const layerName = (id: LayerId) => (id === "region" ? "Selected region" : `Layer ${id}`);
const colourOf = (id: LayerId): RGB => (id === "region" ? config.colours.region : config.colours.layers[id - 1]);
const layerIds = (): LayerId[] => ["region", ...Array.from({ length: layerCount }, (_, i) => i + 1)];
const lookOf = (id: LayerId) => {
  if (!looks.has(id)) looks.set(id, { opacity: id === "region" ? 0.35 : 0.6, visible: true });
  return looks.get(id)!;
};

// -- the page's parts ------------------------------------------------------------------

const app = document.getElementById("pixel-app")!;
const message = el("p", { className: "pixel-message", id: "pixel-message" });
message.setAttribute("role", "alert");
const saveState = el("span", { className: "pixel-save", id: "pixel-save" });
saveState.setAttribute("role", "status");
const submit = el("button", { type: "button", id: "pixel-submit", className: "pixel-submit", textContent: "Submit" });
const toolbar = el("div", { className: "pixel-tools" });
toolbar.setAttribute("role", "toolbar");
toolbar.setAttribute("aria-label", "Tools");
const sizeInput = el("input", { type: "range", min: "1", max: "200", value: String(brushSize), id: "pixel-size" });
const sizeLabel = el("label", { htmlFor: "pixel-size", className: "pixel-size" }, "Brush ", sizeInput);
const toleranceInput = el("input", { type: "number", min: "0", max: "255", value: String(tolerance), id: "pixel-tolerance" });
const toleranceLabel = el("label", { htmlFor: "pixel-tolerance", className: "pixel-size",
  title: "Fill: how far (in grey levels, 0-255) a pixel may be from the one clicked" }, "Tolerance ", toleranceInput);
const viewTools = el("div", { className: "pixel-tools" });
viewTools.setAttribute("role", "toolbar");
viewTools.setAttribute("aria-label", "View and history");
const layersPanel = el("section", { className: "pixel-layers", id: "pixel-layers" });
layersPanel.setAttribute("aria-label", "Layers");
const viewerArea = el("div", { className: "pixel-viewer", id: "pixel-viewer" });
const status = el("p", { className: "pixel-status", id: "pixel-status", textContent: "Opening the page…" });
status.setAttribute("role", "status");
const dialog = el("dialog", { className: "pixel-shortcuts", id: "pixel-shortcuts" });
const takeOver = el("button", { type: "button", textContent: "Take over here", hidden: true, id: "pixel-take-over" });

function showMessage(text: string, kind: "error" | "info" | "hint" = "error") {
  message.textContent = text;
  message.className = `pixel-message ${kind}`;
}

function button(label: string, keys: string, action: () => void, parent: HTMLElement) {
  const element = el("button", { type: "button", textContent: label, title: keys ? `${label} (${keys})` : label });
  if (keys) element.setAttribute("aria-keyshortcuts", keys);
  element.addEventListener("click", action);
  parent.append(element);
  return element;
}

// -- layers panel ----------------------------------------------------------------------

function renderLayers() {
  const rows = layerIds().map((id) => {
    const look = lookOf(id);
    const key = String(id);
    const radio = el("input", { type: "radio", name: "pixel-active", id: `pixel-layer-${key}`, checked: active === id });
    radio.addEventListener("change", () => setActive(id));
    const swatch = el("span", { className: "pixel-swatch" });
    swatch.style.background = `rgb(${colourOf(id).join(",")})`;
    const label = el("label", { htmlFor: radio.id }, swatch, layerName(id));
    const visible = el("input", { type: "checkbox", checked: look.visible, title: `Show ${layerName(id)} (V)` });
    visible.setAttribute("aria-label", `Show ${layerName(id)}`);
    visible.addEventListener("change", () => {
      look.visible = visible.checked;
      changedLook(id);
    });
    const soloButton = el("button", { type: "button", textContent: "Solo", title: `Show only ${layerName(id)} (S)` });
    soloButton.setAttribute("aria-pressed", String(solo === id));
    soloButton.addEventListener("click", () => toggleSolo(id));
    const opacity = el("input", { type: "range", min: "0", max: "100", value: String(Math.round(look.opacity * 100)) });
    opacity.setAttribute("aria-label", `Opacity of ${layerName(id)}`);
    opacity.addEventListener("input", () => {
      look.opacity = Number(opacity.value) / 100;
      draw();
    });
    opacity.addEventListener("change", () => changedLook(id));
    const row = el("div", { className: `pixel-layer${active === id ? " active" : ""}` }, radio, label, visible, soloButton, opacity);
    row.dataset.layer = key;
    return row;
  });
  const heading = el("h2", {}, "Layers");
  const parts: Node[] = [heading, ...rows];
  if (!config.layerInputs.length) {
    const select = el("select", { id: "pixel-layer-count" });
    for (let n = 1; n <= config.maxLayers; n += 1) select.append(el("option", { value: String(n), selected: n === layerCount }, String(n)));
    select.addEventListener("change", () => setLayerCount(Number(select.value)));
    parts.push(el("label", { htmlFor: "pixel-layer-count", className: "pixel-count" }, "Number of layers ", select));
  }
  layersPanel.replaceChildren(...parts);
}

function setLayerCount(count: number) {
  if (count < edits.highestLayer()) {
    showMessage(`Layer ${edits.highestLayer()} has edits: undo or erase them before using fewer layers.`);
    renderLayers();
    return;
  }
  layerCount = count;
  if (typeof active === "number" && active > count) active = "region";
  renderLayers();
  autosave.record({ a: "layers", n: count });
  draw();
}

function setActive(id: LayerId) {
  if (typeof id === "number" && id > layerCount) return;
  active = id;
  renderLayers();
  status.textContent = `Working on ${layerName(id)}.`;
}

function toggleSolo(id: LayerId) {
  solo = solo === id ? null : id;
  renderLayers();
  draw();
}

function changedLook(id: LayerId) {
  autosave.record({ a: "look", layer: id, ...lookOf(id) });
  draw();
}

function setTool(name: ToolName) {
  tool = name;
  for (const element of toolbar.querySelectorAll("button")) {
    element.setAttribute("aria-pressed", String(element.dataset.tool === name));
  }
  viewerArea.dataset.tool = name;
}

// -- drawing -----------------------------------------------------------------------------

let zoom: ReturnType<typeof openDeepZoom> | null = null;
let overlay: Overlay | null = null;
let frame = 0;

function transform(): Transform | null {
  const item = zoom?.viewer.world.getItemAt(0);
  if (!item) return null;
  const origin = item.imageToViewerElementCoordinates(new OpenSeadragon.Point(0, 0));
  const far = item.imageToViewerElementCoordinates(new OpenSeadragon.Point(config.width, 0));
  return { scale: (far.x - origin.x) / config.width, x: origin.x, y: origin.y };
}

function layerViews(): LayerView[] {
  return layerIds().map((id) => {
    const look = lookOf(id);
    return {
      id,
      colour: colourOf(id),
      opacity: look.opacity,
      visible: solo === null ? look.visible : solo === id,
      input: typeof id === "number" ? inputs.get(id) : undefined,
    };
  });
}

function draw() {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    const where = transform();
    if (!overlay || !where) return;
    overlay.draw(where, layerViews(), edits, preview, page, selection);
    frameTimes.push(overlay.lastFrameMs);
    if (frameTimes.length > 2000) frameTimes.splice(0, 1000);
  });
}

function toImage(position: OpenSeadragon.Point, edges: boolean) {
  const item = zoom!.viewer.world.getItemAt(0);
  const point = item.viewerElementToImageCoordinates(position);
  const clamp = (v: number, top: number) => Math.min(Math.max(v, 0), top);
  return edges
    ? [clamp(Math.round(point.x), config.width), clamp(Math.round(point.y), config.height)]
    : [clamp(Math.floor(point.x), config.width - 1), clamp(Math.floor(point.y), config.height - 1)];
}

function startStroke(position: OpenSeadragon.Point, alt: boolean) {
  const erase = tool === "eraser" || alt;
  if (tool === "fill") {
    const [x, y] = toImage(position, false);
    const op: Op = { layer: active, tool: "fill", x, y, tolerance };
    if (erase) op.erase = true;
    edits.add(op);
    status.textContent = `${erase ? "Erased" : "Filled"} the pixels around (${x}, ${y}) within ${tolerance} grey levels on ${layerName(active)}.` +
      (fills.ready ? "" : ` ${fillNote || "The page's pixels are still loading: it shows once they are here."}`);
    return;
  }
  if (tool === "select") {
    const [x, y] = toImage(position, true);
    if (clipboard && selection && x > selection.x0 && x < selection.x1 && y > selection.y0 && y < selection.y1) {
      moving = { x, y, from: { ...selection } }; // a drag inside the selection moves it: where Ctrl+V pastes
      return;
    }
    selecting = [x, y];
    selection = { x0: x, y0: y, x1: x, y1: y };
    draw();
    return;
  }
  if (tool === "brush" || tool === "eraser") {
    preview = { layer: active, tool: "brush", size: brushSize, points: toImage(position, false), erase };
  } else if (tool === "rect") {
    const corner = toImage(position, true);
    preview = { layer: active, tool: "rect", points: [...corner, ...corner], erase };
  } else if (tool === "lasso") {
    preview = { layer: active, tool: "poly", points: toImage(position, false), erase };
  } else if (tool === "line") {
    const point = toImage(position, false);
    preview = { layer: active, tool: "brush", size: brushSize, points: [...point, ...point], erase };
  }
  draw();
}

function extendStroke(position: OpenSeadragon.Point) {
  if (moving) {
    const [x, y] = toImage(position, true);
    const { from } = moving;
    // Kept inside the page, so that the moved selection can be copied from too.
    const dx = Math.min(Math.max(x - moving.x, -from.x0), config.width - from.x1);
    const dy = Math.min(Math.max(y - moving.y, -from.y0), config.height - from.y1);
    selection = { x0: from.x0 + dx, y0: from.y0 + dy, x1: from.x1 + dx, y1: from.y1 + dy };
    draw();
    return;
  }
  if (selecting) {
    const [x, y] = toImage(position, true);
    const [sx, sy] = selecting;
    selection = { x0: Math.min(sx, x), y0: Math.min(sy, y), x1: Math.max(sx, x), y1: Math.max(sy, y) };
    draw();
    return;
  }
  if (!preview) return;
  const p = preview.points!;
  if (preview.tool === "rect") {
    const [x, y] = toImage(position, true);
    p[2] = x;
    p[3] = y;
  } else if (tool === "line") {
    const [x, y] = toImage(position, false);
    p[2] = x;
    p[3] = y;
  } else {
    const [x, y] = toImage(position, false);
    if (x !== p[p.length - 2] || y !== p[p.length - 1]) p.push(x, y);
  }
  draw();
}

function finishStroke() {
  if (moving) {
    moving = null;
    status.textContent = "Ctrl+V pastes the copy where the selection is now.";
    return;
  }
  if (selecting) {
    selecting = null;
    if (selection && (selection.x0 === selection.x1 || selection.y0 === selection.y1)) selection = null;
    status.textContent = selection
      ? `Selected ${selection.x1 - selection.x0} x ${selection.y1 - selection.y0} pixels: Ctrl+C copies, Ctrl+X cuts ${layerName(active)} there.`
      : "Nothing selected.";
    draw();
    return;
  }
  const op = preview;
  preview = null;
  if (!op) return;
  const p = op.points!;
  const empty = op.tool === "rect" ? p[0] === p[2] || p[1] === p[3] : op.tool === "poly" && p.length < 6;
  if (op.tool === "brush" && p.length === 4 && p[0] === p[2] && p[1] === p[3]) op.points = p.slice(0, 2);
  if (!empty) edits.add(op);
  draw();
}

let selecting: [number, number] | null = null;
let moving: { x: number; y: number; from: Box } | null = null;
/** Why fills are not previewed on this page, once known. */
let fillNote = "";

/** Ctrl+C / Ctrl+X: remember the current layer inside the selection (a cut then erases it there). */
function copySelection(cut: boolean) {
  if (!selection) {
    showMessage("Select a rectangle first (the Select tool, M), then copy or cut.", "hint");
    return;
  }
  const rect = [selection.x0, selection.y0, selection.x1, selection.y1];
  clipboard = { from_layer: active, rect, at: edits.ops.length, last: edits.ops[edits.ops.length - 1] };
  if (cut) edits.add({ layer: active, tool: "rect", erase: true, points: [...rect] });
  status.textContent = `${cut ? "Cut" : "Copied"} ${layerName(active)} in the selection: choose a layer and press Ctrl+V to paste.`;
}

/** Ctrl+V: paste the copy into the current layer where the selection is (where it was copied unless moved). */
function pasteClipboard() {
  // The copy names the edits before it; it is void once undo has removed one of them.
  const valid = clipboard && edits.ops.length >= clipboard.at && edits.ops[clipboard.at - 1] === clipboard.last;
  if (!clipboard || !valid) {
    clipboard = null;
    showMessage("Nothing to paste: copy (Ctrl+C) or cut (Ctrl+X) a selection first.", "hint");
    return;
  }
  const [x0, y0, x1, y1] = clipboard.rect;
  const moved = selection && selection.x1 - selection.x0 === x1 - x0 && selection.y1 - selection.y0 === y1 - y0;
  const dx = moved ? selection!.x0 - x0 : 0, dy = moved ? selection!.y0 - y0 : 0;
  edits.add({ layer: active, tool: "paste", from_layer: clipboard.from_layer, rect: [...clipboard.rect], dx, dy, at: clipboard.at });
  status.textContent = `Pasted ${layerName(clipboard.from_layer)}'s copy into ${layerName(active)}.`;
}

function selectWholePage() {
  edits.add({ layer: "region", tool: "rect", points: [0, 0, config.width, config.height] });
  status.textContent = "The whole page is selected.";
}

function clearRegion() {
  if (!edits.hasRegion()) return;
  edits.add({ layer: "region", tool: "rect", erase: true, points: [0, 0, config.width, config.height] });
  status.textContent = "The selected region was cleared.";
}

// -- keyboard ----------------------------------------------------------------------------

function toggleShortcuts() {
  if (dialog.open) dialog.close();
  else dialog.showModal();
}

function toggleFullscreen() {
  if (document.fullscreenElement) void document.exitFullscreen();
  else void app.requestFullscreen().catch(() => showMessage("This browser refused full screen here."));
}

function onKey(event: KeyboardEvent) {
  const target = event.target as HTMLElement;
  const typing = target.tagName === "SELECT" || target.tagName === "TEXTAREA" ||
    (target.tagName === "INPUT" && !["range", "checkbox", "radio"].includes((target as HTMLInputElement).type));
  if (typing || (dialog.open && event.key !== "?" && event.key !== "Escape")) return;
  const key = event.key;
  const modifier = event.ctrlKey || event.metaKey;
  let handled = true;
  if (modifier && key.toLowerCase() === "z") {
    if (editable) (event.shiftKey ? edits.redo() : edits.undo()) || (status.textContent = "Nothing to " + (event.shiftKey ? "redo." : "undo."));
  } else if (modifier && key.toLowerCase() === "y") {
    if (editable) edits.redo();
  } else if (modifier && !event.shiftKey && ["c", "x"].includes(key.toLowerCase())) {
    if (editable) copySelection(key.toLowerCase() === "x");
  } else if (modifier && !event.shiftKey && key.toLowerCase() === "v") {
    if (editable) pasteClipboard();
  } else if (modifier || event.altKey) {
    handled = false;
  } else if (key === " " && (target.tagName === "BUTTON" || target.tagName === "INPUT")) {
    handled = false; // Space presses the focused button or ticks the box, as everywhere
  } else if (key === " ") {
    spacePan = true;
  } else if (key === "?") {
    toggleShortcuts();
  } else if (key === "Escape") {
    if (dialog.open) dialog.close();
    else if (selection) {
      selection = null;
      status.textContent = "The selection was cleared.";
      draw();
    } else if (editable) clearRegion();
  } else if (/^[1-7]$/.test(key)) {
    setActive(Number(key));
  } else {
    const lower = key.toLowerCase();
    const chosen = TOOLS.find((entry) => entry.key.toLowerCase() === lower);
    if (chosen) setTool(chosen.name);
    else if (lower === "g") setActive("region");
    else if (lower === "a" && editable) selectWholePage();
    else if (key === "[" || key === "]") {
      brushSize = Math.min(200, Math.max(1, Math.round(brushSize * (key === "]" ? 1.25 : 0.8)) + (key === "]" ? 1 : 0)));
      sizeInput.value = String(brushSize);
      status.textContent = `Brush size ${brushSize} pixels.`;
    } else if (lower === "v") {
      lookOf(active).visible = !lookOf(active).visible;
      renderLayers();
      changedLook(active);
    } else if (lower === "s") toggleSolo(active);
    else if (lower === "f") toggleFullscreen();
    else handled = false;
  }
  if (handled) {
    event.preventDefault();
    event.stopPropagation();
  }
}

// -- saving and submitting -----------------------------------------------------------------

function showSave(state: SaveState) {
  takeOver.hidden = true;
  document.body.dataset.saved = state.kind;
  if (state.kind === "saved") {
    saveState.textContent = state.at ? `All changes saved at ${new Date(state.at).toLocaleTimeString()}.` : "Nothing to save yet.";
  } else if (state.kind === "pending") saveState.textContent = "Changes not saved yet…";
  else if (state.kind === "saving") saveState.textContent = "Saving…";
  else if (state.kind === "offline") saveState.textContent = state.message;
  else {
    saveState.textContent = "Not saving.";
    editable = false;
    showMessage(state.message);
    takeOver.hidden = !state.canTakeOver;
  }
}

const autosave = new Autosave<Entry>(`${base}work/`, showSave);

async function sendSubmission() {
  if (autosave.state.kind === "blocked") {
    showMessage(`This page cannot submit: ${autosave.state.message}`);
    return;
  }
  if (!edits.hasRegion()) {
    showMessage("Select a region first: choose “Selected region” (G) and draw a rectangle over the part of the page to separate, or press A for the whole page.", "hint");
    return;
  }
  if (!edits.ops.some((op) => typeof op.layer === "number" && !op.erase) && !config.layerInputs.length) {
    showMessage("No layer has been painted yet: paint the parts of the page that belong to each layer, then submit.", "hint");
    return;
  }
  submit.disabled = true;
  submit.setAttribute("aria-busy", "true");
  submit.textContent = "Submitting…";
  showMessage(`Sending ${edits.ops.length} edits on ${layerCount} layers…`, "info");
  try {
    await autosave.flush();
    const response = await fetch(base, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ layers: layerCount, operations: edits.ops }),
    });
    if (!response.ok) {
      let text = `The server answered ${response.status} ${response.statusText}.`;
      try {
        const body = await response.json();
        text = body.detail ?? body.message ?? text;
      } catch {
        // not JSON: the status says enough
      }
      throw new Error(text);
    }
    autosave.stop();
    editable = false;
    submit.textContent = "Submitted";
    status.textContent = "";
    showMessage("Submitted. The job is now writing the layers; you can close this page.", "info");
    document.body.dataset.pixel = "submitted";
  } catch (error) {
    submit.disabled = false;
    submit.textContent = "Submit";
    const text = error instanceof Error ? error.message : String(error);
    showMessage(`The submission failed: ${text} Your work is kept; try again.`);
  } finally {
    submit.removeAttribute("aria-busy");
  }
}

// -- start -------------------------------------------------------------------------------

function build() {
  for (const entry of TOOLS) {
    const element = button(entry.label, entry.key, () => setTool(entry.name), toolbar);
    element.dataset.tool = entry.name;
  }
  sizeInput.addEventListener("input", () => {
    brushSize = Number(sizeInput.value);
  });
  toleranceInput.addEventListener("change", () => {
    const value = Number(toleranceInput.value);
    if (Number.isInteger(value) && value >= 0 && value <= 255) tolerance = value;
    else showMessage("The fill's tolerance is a whole number from 0 to 255; it stays at " + tolerance + ".");
    toleranceInput.value = String(tolerance);
  });
  button("Undo", "Control+Z", () => editable && edits.undo(), viewTools);
  button("Redo", "Control+Shift+Z", () => editable && edits.redo(), viewTools);
  button("Zoom in", "+", () => zoom?.viewer.viewport.zoomBy(1.5), viewTools);
  button("Zoom out", "-", () => zoom?.viewer.viewport.zoomBy(1 / 1.5), viewTools);
  button("Whole page", "0", () => zoom?.viewer.viewport.goHome(), viewTools);
  button("Actual pixels", "", () => zoom?.actualPixels(), viewTools);
  button("Full screen", "F", toggleFullscreen, viewTools);
  button("Shortcuts", "?", toggleShortcuts, viewTools);
  submit.addEventListener("click", () => void sendSubmission());
  takeOver.addEventListener("click", async () => {
    if (await autosave.claim(true)) {
      editable = true;
      showMessage("You took over: this page now saves the work. Reload first if the other page made changes you want.", "info");
    }
  });
  const list = el("dl");
  for (const [keys, what] of SHORTCUTS) list.append(el("dt", {}, keys), el("dd", {}, what));
  const close = el("button", { type: "button", textContent: "Close" });
  close.addEventListener("click", () => dialog.close());
  dialog.append(el("h2", {}, "Keyboard shortcuts"), list, close);
  const header = el("header", { className: "pixel-bar" },
    el("h1", {}, `Pixel — ${config.name}`), toolbar, sizeLabel, toleranceLabel, viewTools, saveState, takeOver, submit);
  app.replaceChildren(header, message, el("div", { className: "pixel-main" }, layersPanel, viewerArea), status, dialog);
  setTool(tool);
  renderLayers();
  window.addEventListener("keydown", onKey, true);
  window.addEventListener("keyup", (event) => {
    if (event.key === " ") spacePan = false;
  });
  window.addEventListener("beforeunload", (event) => {
    if (autosave.unsaved) {
      void autosave.flush();
      event.preventDefault();
    }
  });
  edits.onChange((change) => {
    if (message.classList.contains("hint")) showMessage("", "info");
    autosave.record(change);
    draw();
  });
}

/** Replay the saved log: the page comes back exactly as it was left. */
function restore(log: Entry[]) {
  for (const entry of log) {
    if (entry.a === "layers") {
      layerCount = config.layerInputs.length || Math.min(Math.max(entry.n, 1), config.maxLayers);
    } else if (entry.a === "look") {
      looks.set(entry.layer, { opacity: entry.opacity, visible: entry.visible });
    } else {
      edits.apply(entry, true);
    }
  }
  renderLayers();
}

function loadInputLayers() {
  config.layerInputs.forEach((port, index) => {
    const image = new Image();
    image.onload = () => {
      inputs.set(index + 1, image);
      draw();
    };
    image.onerror = () => showMessage(`The input of ${layerName(index + 1)} (${port}) could not be loaded.`);
    image.src = `${base}inputs/${encodeURIComponent(port)}/file/`;
  });
}

function attachPointer(viewer: OpenSeadragon.Viewer) {
  const drawing = () => editable && tool !== "pan" && !spacePan;
  viewer.addHandler("canvas-press", (event) => {
    if (!drawing()) return;
    (event as unknown as { preventDefaultAction: boolean }).preventDefaultAction = true;
    startStroke(event.position!, Boolean((event.originalEvent as MouseEvent).altKey));
  });
  viewer.addHandler("canvas-drag", (event) => {
    if (!preview && !selecting && !moving) return;
    event.preventDefaultAction = true;
    extendStroke(event.position!);
  });
  viewer.addHandler("canvas-release", () => finishStroke());
  for (const name of ["update-viewport", "resize", "open"] as const) viewer.addHandler(name, () => draw());
}

async function main() {
  build();
  document.body.dataset.pixel = "opening";
  performance.mark("pixel-start");
  try {
    const saved = await autosave.load();
    restore(saved.work?.log ?? []);
    editable = await autosave.claim();
    performance.mark("pixel-work-loaded");
    const tileSource = await waitForTiles(`${base}inputs/${encodeURIComponent(config.imagePort)}/tiles/`, ({ message: text }) => {
      status.textContent = text;
    });
    performance.mark("pixel-tiles-ready");
    zoom = openDeepZoom({ element: viewerArea, tileSource, label: config.name, maxPixelRatio: 32 });
    overlay = new Overlay(viewerArea, fills);
    attachPointer(zoom.viewer);
    zoom.viewer.addHandler("open-failed", (event) => showMessage(`The page image could not be opened: ${event.message}.`));
    loadInputLayers();
    fills.load(`${base}inputs/${encodeURIComponent(config.imagePort)}/file/`, tileSource as DeepZoomSource).then(draw, (error: Error) => {
      if (edits.ops.some((op) => op.tool === "fill")) status.textContent = error.message;
      document.body.dataset.fills = "server";
      fillNote = error.message;
    });
    await zoom.firstView;
    performance.mark("pixel-first-view");
    draw();
    status.textContent = edits.ops.length
      ? `Your saved work is back: ${edits.ops.length} edits. Press ? for the keyboard shortcuts.`
      : "Select the region to separate (drag a rectangle, or press A for the whole page), then paint the layers. Press ? for the keyboard shortcuts.";
    document.body.dataset.pixel = "ready";
  } catch (error) {
    const text = error instanceof ViewerError || error instanceof Error ? error.message : String(error);
    showMessage(`Pixel could not open: ${text}`);
    document.body.dataset.pixel = "failed";
  }
}

// For tests and measurements: page pixels to window coordinates, and the drawing times.
(window as unknown as { pixel: object }).pixel = {
  toWindow(x: number, y: number) {
    const where = transform()!;
    const box = viewerArea.getBoundingClientRect();
    return { x: box.left + where.x + x * where.scale, y: box.top + where.y + y * where.scale };
  },
  ops: () => edits.ops,
  fillsReady: () => fills.ready,
  /** The region of the i-th edit, a fill, once previewed: its pixel count and bounding box. */
  fill(index: number) {
    const mask = fills.mask(edits.ops[index]);
    return mask && { pixels: mask.pixels, box: mask.box };
  },
  frameTimes,
  flush: () => autosave.flush(),
};

void main();
