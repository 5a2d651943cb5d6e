// The fill (magic wand), with the same rule as the job's operations.py: the
// 4-connected pixels around the seed whose luma, (299 R + 587 G + 114 B + 500)
// div 1000 of the page's 8-bit RGB, differs from the seed's by at most the
// tolerance. The page's own pixels are needed for the preview: they are
// decoded once from the original file when the page is at most PREVIEW_LIMIT
// pixels (one byte of luma per pixel is kept, the decoded image is dropped);
// on larger pages the fill is only computed by the server and the page shows
// its seed. Each fill's region is kept as a canvas of its bounding box.

import type { Op } from "./edits";

/** Pages up to this many pixels are previewed: 16 MP is 16 MB of luma (and 64 MB while decoding). */
export const PREVIEW_LIMIT = 16_000_000;

export interface FillMask {
  canvas: HTMLCanvasElement;
  x0: number;
  y0: number;
}

export class Fills {
  private luma: Uint8Array | null = null;
  private masks = new WeakMap<Op, FillMask>();
  constructor(readonly width: number, readonly height: number) {}

  get ready() {
    return this.luma !== null;
  }

  /** Decode the page and keep its luma; rejects with a sentence when it cannot be previewed here. */
  async load(url: string): Promise<void> {
    if (this.width * this.height > PREVIEW_LIMIT) {
      throw new Error(`This page has more than ${PREVIEW_LIMIT / 1e6} million pixels, so fills are not previewed here: the server computes them when the job runs.`);
    }
    const image = new Image();
    image.src = url;
    try {
      await image.decode();
    } catch {
      throw new Error("This browser cannot decode the page's original file, so fills are not previewed here: the server computes them when the job runs.");
    }
    const canvas = document.createElement("canvas");
    canvas.width = this.width;
    canvas.height = this.height;
    const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
    ctx.drawImage(image, 0, 0);
    const rgba = ctx.getImageData(0, 0, this.width, this.height).data;
    const luma = new Uint8Array(this.width * this.height);
    for (let i = 0, j = 0; j < luma.length; i += 4, j++) {
      luma[j] = Math.floor((299 * rgba[i] + 587 * rgba[i + 1] + 114 * rgba[i + 2] + 500) / 1000);
    }
    canvas.width = canvas.height = 0;
    this.luma = luma;
  }

  /** The fill's region (computed on first use), or null while the page's pixels are not here. */
  mask(op: Op): FillMask | null {
    const known = this.masks.get(op);
    if (known || !this.luma) return known ?? null;
    const mask = this.flood(op.x!, op.y!, op.tolerance!);
    this.masks.set(op, mask);
    return mask;
  }

  private flood(x: number, y: number, tolerance: number): FillMask {
    const { width, height } = this;
    const luma = this.luma!;
    const seed = luma[y * width + x];
    const low = seed - tolerance, high = seed + tolerance;
    const inside = new Uint8Array(width * height);
    const stack = [y * width + x];
    inside[y * width + x] = 1;
    let x0 = x, y0 = y, x1 = x, y1 = y;
    while (stack.length) {
      const at = stack.pop()!;
      const px = at % width, py = (at - px) / width;
      if (px < x0) x0 = px;
      if (px > x1) x1 = px;
      if (py < y0) y0 = py;
      if (py > y1) y1 = py;
      const visit = (next: number) => {
        if (!inside[next] && luma[next] >= low && luma[next] <= high) {
          inside[next] = 1;
          stack.push(next);
        }
      };
      if (px > 0) visit(at - 1);
      if (px < width - 1) visit(at + 1);
      if (py > 0) visit(at - width);
      if (py < height - 1) visit(at + width);
    }
    const w = x1 - x0 + 1, h = y1 - y0 + 1;
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext("2d")!;
    const data = ctx.createImageData(w, h);
    for (let row = 0; row < h; row++) {
      for (let col = 0; col < w; col++) {
        if (inside[(y0 + row) * width + x0 + col]) data.data[(row * w + col) * 4 + 3] = 255;
      }
    }
    ctx.putImageData(data, 0, 0);
    return { canvas, x0, y0 };
  }
}
