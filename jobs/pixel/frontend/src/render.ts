// Drawing the layers over the deep-zoom image, for the part of the page on
// screen only, whatever the page's size. Each layer is its input PNG (if any)
// and its edits in order (erasing cuts out), recoloured to the layer's colour,
// then laid over the image at the layer's opacity. Coordinates follow the
// server's rasteriser: a brush or polygon point is a pixel's centre, a
// rectangle spans whole pixels. A fill is its region (fill.ts) drawn as a
// mask; a paste draws its source layer as it was after the paste's first `at`
// edits (on a second canvas, one per level of pastes) clipped to the copied
// rectangle and moved.
//
// Speed: each layer is drawn once into a screen-sized canvas of its own and
// kept while the view and its edits stay the same. While a stroke is being
// drawn, only its new part is added to a copy of its layer, and only the
// screen area it touched is composed again: a frame's work follows the
// stroke, not the number of edits or layers.

import { type Box, boxOf, type EditList, type LayerId, type Op } from "./edits";
import type { Fills } from "./fill";

export interface LayerView {
  id: LayerId;
  colour: [number, number, number];
  opacity: number;
  visible: boolean;
  input?: HTMLImageElement;
}

export interface Transform {
  /** Screen (CSS) pixels per page pixel. */
  scale: number;
  /** Where page pixel (0, 0) lies on the overlay, in CSS pixels. */
  x: number;
  y: number;
}

function trace(ctx: CanvasRenderingContext2D, op: Op) {
  const p = op.points!;
  ctx.beginPath();
  if (op.tool === "rect") {
    ctx.rect(Math.min(p[0], p[2]), Math.min(p[1], p[3]), Math.abs(p[2] - p[0]), Math.abs(p[3] - p[1]));
    ctx.fill();
    return;
  }
  if (op.tool === "brush" && p.length === 2) {
    ctx.arc(p[0] + 0.5, p[1] + 0.5, Math.max((op.size ?? 1) / 2, 0.5), 0, Math.PI * 2);
    ctx.fill();
    return;
  }
  ctx.moveTo(p[0] + 0.5, p[1] + 0.5);
  for (let i = 2; i < p.length; i += 2) ctx.lineTo(p[i] + 0.5, p[i + 1] + 0.5);
  if (op.tool === "poly") {
    ctx.closePath();
    ctx.fill();
  } else {
    ctx.lineWidth = op.size ?? 1;
    ctx.stroke();
  }
}

function meets(a: Box, b: Box) {
  return a.x0 <= b.x1 && a.x1 >= b.x0 && a.y0 <= b.y1 && a.y1 >= b.y0;
}

/** Where the layers are drawn: the screen transform (device pixels) and the page area on screen. */
interface Frame {
  s: number;
  ox: number;
  oy: number;
  view: Box;
  width: number;
  height: number;
  inputs: Map<LayerId, HTMLImageElement | undefined>;
}

/** A screen rectangle in device pixels. */
interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A layer drawn in its colour for one view; an empty canvas (0 x 0) when nothing of it is on screen. */
interface LayerCache {
  canvas: HTMLCanvasElement;
  key: string;
}

/** The stroke being drawn, added to a copy of its layer's drawing as it grows. */
interface Live {
  op: Op;
  base: string;
  /** Points of a brush already drawn. */
  drawn: number;
  /** For the other tools, the screen area the shape covered last frame (taken back before it is drawn again). */
  box: Rect | null;
}

function sized(canvas: HTMLCanvasElement, width: number, height: number) {
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  return canvas;
}

function union(a: Rect | null, b: Rect | null): Rect | null {
  if (!a || !b) return a ?? b;
  const x = Math.min(a.x, b.x), y = Math.min(a.y, b.y);
  return { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y };
}

function sameBox(a: Box | null, b: Box | null) {
  return a === b || (a !== null && b !== null && a.x0 === b.x0 && a.y0 === b.y0 && a.x1 === b.x1 && a.y1 === b.y1);
}

export class Overlay {
  readonly canvas: HTMLCanvasElement;
  /** One canvas per level of pastes being drawn. */
  private sources: HTMLCanvasElement[] = [];
  private caches = new Map<LayerId, LayerCache>();
  private liveCanvas = document.createElement("canvas");
  private live: Live | null = null;
  /** What the overlay was last composed from: a frame where only the stroke changed composes the stroke's area only. */
  private composed = "";
  private selection: Box | null = null;
  /** How long the last frame took to draw, in milliseconds. */
  lastFrameMs = 0;

  constructor(parent: HTMLElement, private fills: Fills) {
    this.canvas = document.createElement("canvas");
    this.canvas.className = "pixel-overlay";
    this.canvas.setAttribute("aria-hidden", "true");
    parent.append(this.canvas);
  }

  draw(transform: Transform, layers: LayerView[], edits: EditList, preview: Op | null, page: Box, selection: Box | null = null) {
    const started = performance.now();
    const ratio = window.devicePixelRatio || 1;
    const width = Math.round(this.canvas.clientWidth * ratio);
    const height = Math.round(this.canvas.clientHeight * ratio);
    sized(this.canvas, width, height);
    const s = transform.scale * ratio;
    // The page area on screen: edits elsewhere are skipped.
    const view: Box = {
      x0: Math.max(page.x0, -transform.x / transform.scale),
      y0: Math.max(page.y0, -transform.y / transform.scale),
      x1: Math.min(page.x1, (width / ratio - transform.x) / transform.scale),
      y1: Math.min(page.y1, (height / ratio - transform.y) / transform.scale),
    };
    const frame: Frame = { s, ox: transform.x * ratio, oy: transform.y * ratio, view, width, height,
      inputs: new Map(layers.map((layer) => [layer.id, layer.input])) };
    const loaded = layers.filter((layer) => layer.input).length;
    const geometry = `${width}x${height}@${s},${frame.ox},${frame.oy};${this.fills.version};${loaded}`;
    const wasLive = this.live !== null;
    const shown: HTMLCanvasElement[] = [];
    const opacities: number[] = [];
    let composed = geometry;
    let dirty: Rect | null = null;
    let live = false;
    for (const layer of layers) {
      if (!layer.visible || layer.opacity <= 0) continue;
      const cache = this.layer(frame, geometry, layer, edits);
      composed += `|${layer.id}:${layer.opacity}:${cache.key}`;
      if (preview && preview.layer === layer.id) {
        dirty = this.extend(frame, cache, preview, layer.colour);
        live = true;
        shown.push(this.liveCanvas);
      } else if (cache.canvas.width) {
        shown.push(cache.canvas);
      } else {
        continue;
      }
      opacities.push(layer.opacity);
    }
    if (!live) this.live = null;
    // Everything is composed again when anything but the stroke changed; otherwise only where the stroke did.
    const whole = composed !== this.composed || !sameBox(selection, this.selection) || (wasLive && !live);
    const area: Rect | null = whole ? { x: 0, y: 0, w: width, h: height } : dirty;
    const out = this.canvas.getContext("2d")!;
    out.setTransform(1, 0, 0, 1, 0, 0);
    if (area && area.w > 0 && area.h > 0) {
      out.save();
      out.beginPath();
      out.rect(area.x, area.y, area.w, area.h);
      out.clip();
      out.clearRect(area.x, area.y, area.w, area.h);
      shown.forEach((canvas, index) => {
        out.globalAlpha = opacities[index];
        out.drawImage(canvas, area.x, area.y, area.w, area.h, area.x, area.y, area.w, area.h);
      });
      out.globalAlpha = 1;
      this.decorate(out, frame, ratio, preview, selection);
      out.restore();
    }
    this.composed = composed;
    this.selection = selection ? { ...selection } : null;
    this.lastFrameMs = performance.now() - started;
  }

  /** The pale trace of an eraser and the selection's outline, over the composed layers. */
  private decorate(out: CanvasRenderingContext2D, frame: Frame, ratio: number, preview: Op | null, selection: Box | null) {
    const { s } = frame;
    if (preview && preview.erase && preview.points) {
      // What an eraser is clearing, shown as a pale trace.
      out.setTransform(s, 0, 0, s, frame.ox, frame.oy);
      out.fillStyle = out.strokeStyle = "rgba(255,255,255,0.6)";
      out.lineCap = "round";
      out.lineJoin = "round";
      trace(out, preview);
      out.setTransform(1, 0, 0, 1, 0, 0);
    }
    if (selection) {
      // The rectangle that copy and cut take, outlined in black and white dashes.
      const x = frame.ox + selection.x0 * s, y = frame.oy + selection.y0 * s;
      const w = (selection.x1 - selection.x0) * s, h = (selection.y1 - selection.y0) * s;
      out.lineWidth = 1.5 * ratio;
      out.setLineDash([6 * ratio, 4 * ratio]);
      out.strokeStyle = "#000";
      out.strokeRect(x, y, w, h);
      out.lineDashOffset = 5 * ratio;
      out.strokeStyle = "#fff";
      out.strokeRect(x, y, w, h);
      out.setLineDash([]);
      out.lineDashOffset = 0;
    }
  }

  /** The layer in its colour for this view: drawn again only when the view, its edits or its colour changed. */
  private layer(frame: Frame, geometry: string, layer: LayerView, edits: EditList): LayerCache {
    const key = `${geometry};${layer.colour.join(",")};${edits.versionOf(layer.id)}`;
    const known = this.caches.get(layer.id);
    if (known && known.key === key) return known;
    const cache = { canvas: known?.canvas ?? document.createElement("canvas"), key };
    this.caches.set(layer.id, cache);
    const ops = edits.ops.filter((op) => op.layer === layer.id && meets(edits.box(op), frame.view));
    if (!ops.length && !layer.input) {
      cache.canvas.width = cache.canvas.height = 0; // nothing of this layer on screen: no full-screen passes
      return cache;
    }
    const ctx = sized(cache.canvas, frame.width, frame.height).getContext("2d")!;
    this.paint(ctx, frame, layer.input, ops, edits, 0);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalCompositeOperation = "source-in";
    ctx.fillStyle = `rgb(${layer.colour.join(",")})`;
    ctx.fillRect(0, 0, frame.width, frame.height);
    ctx.globalCompositeOperation = "source-over";
    return cache;
  }

  /**
   * The stroke in progress on a copy of its layer's drawing (liveCanvas): a brush adds only the points that came
   * since the last frame; a rectangle, lasso or line takes back its last shape and draws the new one. Returns the
   * screen area that changed.
   */
  private extend(frame: Frame, cache: LayerCache, preview: Op, colour: [number, number, number]): Rect | null {
    const { s, ox, oy, width, height } = frame;
    const ctx = sized(this.liveCanvas, width, height).getContext("2d")!;
    const restore = (rect: Rect) => {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(rect.x, rect.y, rect.w, rect.h);
      ctx.globalCompositeOperation = "source-over";
      if (cache.canvas.width) ctx.drawImage(cache.canvas, rect.x, rect.y, rect.w, rect.h, rect.x, rect.y, rect.w, rect.h);
    };
    const clipped = (rect: Rect | null): Rect | null => {
      if (!rect) return null;
      const x = Math.max(0, rect.x), y = Math.max(0, rect.y);
      const w = Math.min(width, rect.x + rect.w) - x, h = Math.min(height, rect.y + rect.h) - y;
      return w > 0 && h > 0 ? { x, y, w, h } : null;
    };
    let changed: Rect | null = null;
    if (!this.live || this.live.op !== preview || this.live.base !== cache.key) {
      changed = { x: 0, y: 0, w: width, h: height };
      restore(changed);
      this.live = { op: preview, base: cache.key, drawn: 0, box: null };
    }
    const live = this.live;
    const points = preview.points ?? [];
    // A brush grows; a two-point brush is also the line tool, whose end moves: drawn as a shape.
    const grows = preview.tool === "brush" && points.length !== 4;
    const from = grows ? Math.max(0, live.drawn - 1) : 0;
    const part: Op = grows ? { ...preview, points: points.slice(from * 2) } : preview;
    const box = boxOf(part);
    const screen: Rect = {
      x: Math.floor(ox + box.x0 * s) - 2,
      y: Math.floor(oy + box.y0 * s) - 2,
      w: Math.ceil((box.x1 - box.x0) * s) + 4,
      h: Math.ceil((box.y1 - box.y0) * s) + 4,
    };
    const back = grows ? null : clipped(live.box);
    if (back) restore(back);
    const area = clipped(union(back, screen));
    if (area) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(area.x, area.y, area.w, area.h);
      ctx.clip();
      ctx.setTransform(s, 0, 0, s, ox, oy);
      ctx.globalCompositeOperation = preview.erase ? "destination-out" : "source-over";
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.fillStyle = ctx.strokeStyle = `rgb(${colour.join(",")})`;
      trace(ctx, part);
      ctx.restore();
    }
    live.drawn = points.length / 2;
    live.box = grows ? null : screen;
    return union(changed, area);
  }

  /** A layer's painted pixels (opaque black) on ``ctx``: its input, then its edits in order. */
  private paint(ctx: CanvasRenderingContext2D, frame: Frame, input: HTMLImageElement | undefined, ops: Op[],
    edits: EditList, depth: number) {
    const { s, ox, oy, view, width, height } = frame;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalCompositeOperation = "source-over";
    ctx.clearRect(0, 0, width, height);
    ctx.setTransform(s, 0, 0, s, ox, oy);
    ctx.imageSmoothingEnabled = false;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.fillStyle = ctx.strokeStyle = "#000";
    if (input) {
      const { x0, y0, x1, y1 } = view;
      const w = Math.ceil(x1) - Math.floor(x0), h = Math.ceil(y1) - Math.floor(y0);
      if (w > 0 && h > 0) ctx.drawImage(input, Math.floor(x0), Math.floor(y0), w, h, Math.floor(x0), Math.floor(y0), w, h);
    }
    for (const op of ops) {
      ctx.globalCompositeOperation = op.erase ? "destination-out" : "source-over";
      if (op.tool === "fill") {
        for (const piece of this.fills.mask(op)?.pieces ?? []) ctx.drawImage(piece.canvas, piece.x0, piece.y0);
      } else if (op.tool === "paste") {
        if (depth < 8) this.paste(ctx, frame, op, edits, depth);
      } else {
        trace(ctx, op);
      }
    }
  }

  private paste(ctx: CanvasRenderingContext2D, frame: Frame, op: Op, edits: EditList, depth: number) {
    const [x0, y0, x1, y1] = op.rect!;
    const dx = op.dx!, dy = op.dy!;
    let source = this.sources[depth];
    if (!source) source = this.sources[depth] = document.createElement("canvas");
    if (source.width !== frame.width || source.height !== frame.height) {
      source.width = frame.width;
      source.height = frame.height;
    }
    const copied: Box = { x0, y0, x1, y1 };
    const before = edits.ops.slice(0, op.at ?? edits.ops.indexOf(op));
    const ops = before.filter((earlier) => earlier.layer === op.from_layer && meets(edits.box(earlier), copied));
    this.paint(source.getContext("2d")!, frame, frame.inputs.get(op.from_layer!), ops, edits, depth + 1);
    ctx.save();
    ctx.beginPath();
    ctx.rect(x0 + dx, y0 + dy, x1 - x0, y1 - y0);
    ctx.clip();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalCompositeOperation = "source-over";
    ctx.drawImage(source, dx * frame.s, dy * frame.s);
    ctx.restore();
  }
}
