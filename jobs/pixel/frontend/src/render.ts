// Drawing the layers over the deep-zoom image, for the part of the page on
// screen only: one screen-sized canvas per layer pass, reused, whatever the
// page's size. Each layer is its input PNG (if any) and its edits in order
// (erasing cuts out), recoloured to the layer's colour, then laid over the
// image at the layer's opacity. Coordinates follow the server's rasteriser:
// a brush or polygon point is a pixel's centre, a rectangle spans whole pixels.
// A fill is its region (fill.ts) drawn as a mask; a paste draws its source
// layer as it was after the paste's first `at` edits (on a second canvas,
// one per level of pastes) clipped to the copied rectangle and moved.

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

export class Overlay {
  readonly canvas: HTMLCanvasElement;
  private scratch = document.createElement("canvas");
  /** One canvas per level of pastes being drawn. */
  private sources: HTMLCanvasElement[] = [];
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
    for (const canvas of [this.canvas, this.scratch]) {
      if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
      }
    }
    const out = this.canvas.getContext("2d")!;
    const ctx = this.scratch.getContext("2d")!;
    out.setTransform(1, 0, 0, 1, 0, 0);
    out.clearRect(0, 0, width, height);
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
    for (const layer of layers) {
      if (!layer.visible || layer.opacity <= 0) continue;
      const ops = preview && preview.layer === layer.id ? [...edits.ops, preview] : edits.ops;
      const shown = ops.filter((op) => op.layer === layer.id && meets(op === preview ? boxOf(op) : edits.box(op), view));
      if (!shown.length && !layer.input) continue; // nothing of this layer on screen: no full-screen passes
      this.paint(ctx, frame, layer.input, shown, edits, 0);
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.globalCompositeOperation = "source-in";
      ctx.fillStyle = `rgb(${layer.colour.join(",")})`;
      ctx.fillRect(0, 0, width, height);
      out.globalAlpha = layer.opacity;
      out.drawImage(this.scratch, 0, 0);
    }
    out.globalAlpha = 1;
    out.setTransform(s, 0, 0, s, frame.ox, frame.oy);
    if (preview && preview.erase && preview.points) {
      // What an eraser is clearing, shown as a pale trace.
      out.fillStyle = out.strokeStyle = "rgba(255,255,255,0.6)";
      out.lineCap = "round";
      out.lineJoin = "round";
      trace(out, preview);
    }
    if (selection) {
      // The rectangle that copy and cut take, outlined in black and white dashes.
      out.setTransform(1, 0, 0, 1, 0, 0);
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
    this.lastFrameMs = performance.now() - started;
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
        const mask = this.fills.mask(op);
        if (mask) ctx.drawImage(mask.canvas, mask.x0, mask.y0);
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
