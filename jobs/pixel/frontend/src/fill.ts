// The fill (magic wand), with the same rule as the job's operations.py: the
// 4-connected pixels around the seed whose luma, (299 R + 587 G + 114 B + 500)
// div 1000 of the page's 8-bit RGB, differs from the seed's by at most the
// tolerance. The preview needs the page's own pixels:
// - pages of at most PREVIEW_LIMIT pixels are decoded once from the original
//   file (one byte of luma per pixel is kept, the decoded image is dropped);
// - larger pages are read from the full-resolution level of their deep-zoom
//   tiles (lossless PNGs of the page's pixels), fetched as the fill spreads:
//   only the tiles the fill reaches are read, and a fill that grows beyond
//   TILED_LIMIT pixels is left to the server (the page says so). The tiles
//   hold the page's own values for 8-bit grey and RGB pages; 16-bit pages
//   are tiled at 8 bits and transparent pixels lose their colour in the
//   browser, so there the preview can differ where the job's fill does not.
// Each fill's region is kept as canvases: one of its bounding box, or one per
// tile it covers.

import type { Op } from "./edits";

/** Pages up to this many pixels are previewed from the decoded original: 16 MP is 16 MB of luma (64 MB while decoding). */
export const PREVIEW_LIMIT = 16_000_000;
/** On larger pages, a fill reaching more pixels than this is not previewed (the tiles it spans would be kept meanwhile). */
export const TILED_LIMIT = 16_000_000;

export interface FillPiece {
  canvas: HTMLCanvasElement;
  x0: number;
  y0: number;
}

/** A fill's region: its pixels, bounding box (x1, y1 excluded) and the canvases that draw it. */
export interface FillMask {
  pieces: FillPiece[];
  pixels: number;
  box: [number, number, number, number];
}

/** The inline Deep Zoom descriptor the job serves (rodan.tiles.tile_source). */
export interface DeepZoomSource {
  Image: { Url: string; Format: string; Overlap: string; TileSize: string; Size: { Width: string; Height: string } };
}

const lumaOf = (r: number, g: number, b: number) => Math.floor((299 * r + 587 * g + 114 * b + 500) / 1000);

/** One tile of the full-resolution level, its overlap cut off: the page's pixels x0..x0+w, y0..y0+h. */
interface Tile {
  x0: number;
  y0: number;
  w: number;
  h: number;
  luma: Uint8Array;
  inside: Uint8Array;
  filled: number;
}

export class Fills {
  private luma: Uint8Array | null = null;
  private tiles: DeepZoomSource["Image"] | null = null;
  private masks = new WeakMap<Op, FillMask | null>();
  private pending = new WeakSet<Op>();
  /** Why the last fill was not previewed, if it was not (a sentence for the page). */
  note = "";
  /** Changes each time a fill's region becomes known: drawings that include fills depend on it. */
  version = 0;
  constructor(readonly width: number, readonly height: number, private onReady: () => void = () => {}) {}

  get ready() {
    return this.luma !== null || this.tiles !== null;
  }

  /** Get ready to preview fills; rejects with a sentence when they cannot be previewed here. */
  async load(url: string, tiles?: DeepZoomSource): Promise<void> {
    if (this.width * this.height > PREVIEW_LIMIT) {
      if (!tiles) throw new Error("This page is too large to decode here, so fills are not previewed: the server computes them when the job runs.");
      this.tiles = tiles.Image;
      this.version += 1;
      return;
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
    for (let i = 0, j = 0; j < luma.length; i += 4, j++) luma[j] = lumaOf(rgba[i], rgba[i + 1], rgba[i + 2]);
    canvas.width = canvas.height = 0;
    this.luma = luma;
    this.version += 1;
  }

  /** The fill's region, or null while it is not known (pixels still loading, tiles being read, or too large). */
  mask(op: Op): FillMask | null {
    if (this.masks.has(op)) return this.masks.get(op)!;
    if (this.luma) {
      const mask = this.flood(op.x!, op.y!, op.tolerance!);
      this.masks.set(op, mask);
      return mask;
    }
    if (this.tiles && !this.pending.has(op)) {
      this.pending.add(op);
      void this.floodTiles(op.x!, op.y!, op.tolerance!).then((mask) => {
        this.masks.set(op, mask);
        this.version += 1;
        this.onReady();
      });
    }
    return null;
  }

  private flood(x: number, y: number, tolerance: number): FillMask {
    const { width, height } = this;
    const luma = this.luma!;
    const seed = luma[y * width + x];
    const low = seed - tolerance, high = seed + tolerance;
    const inside = new Uint8Array(width * height);
    const stack = [y * width + x];
    inside[y * width + x] = 1;
    let x0 = x, y0 = y, x1 = x, y1 = y, pixels = 0;
    while (stack.length) {
      const at = stack.pop()!;
      pixels += 1;
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
    const canvas = maskCanvas(inside, width, x0, y0, x1 - x0 + 1, y1 - y0 + 1);
    return { pieces: [{ canvas, x0, y0 }], pixels, box: [x0, y0, x1 + 1, y1 + 1] };
  }

  /** The same flood over the full-resolution tiles, each fetched when the fill first reaches it. */
  private async floodTiles(x: number, y: number, tolerance: number): Promise<FillMask | null> {
    const source = this.tiles!;
    const size = Number(source.TileSize), overlap = Number(source.Overlap);
    const level = Math.ceil(Math.log2(Math.max(this.width, this.height)));
    const columns = Math.ceil(this.width / size);
    const tiles = new Map<number, Tile>();
    const waiting = new Map<number, number[]>(); // tile number -> page pixels (y * width + x) to visit there
    const { width, height } = this;
    const tileOf = (px: number, py: number) => Math.floor(py / size) * columns + Math.floor(px / size);
    const load = async (key: number): Promise<Tile> => {
      const column = key % columns, row = (key - column) / columns;
      const response = await fetch(`${source.Url}${level}/${column}_${row}.${source.Format}`);
      if (!response.ok) throw new Error(`tile ${column}_${row}: ${response.status}`);
      const bitmap = await createImageBitmap(await response.blob(), { premultiplyAlpha: "none", colorSpaceConversion: "none" });
      const x0 = column * size, y0 = row * size;
      const w = Math.min(size, width - x0), h = Math.min(size, height - y0);
      const left = column > 0 ? overlap : 0, top = row > 0 ? overlap : 0;
      const canvas = document.createElement("canvas");
      canvas.width = w;
      canvas.height = h;
      const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
      ctx.drawImage(bitmap, left, top, w, h, 0, 0, w, h);
      bitmap.close();
      const rgba = ctx.getImageData(0, 0, w, h).data;
      const luma = new Uint8Array(w * h);
      for (let i = 0, j = 0; j < luma.length; i += 4, j++) luma[j] = lumaOf(rgba[i], rgba[i + 1], rgba[i + 2]);
      return { x0, y0, w, h, luma, inside: new Uint8Array(w * h), filled: 0 };
    };
    const queue = (px: number, py: number) => {
      const key = tileOf(px, py);
      const list = waiting.get(key);
      if (list) list.push(py * width + px);
      else waiting.set(key, [py * width + px]);
    };
    let seed = -1, low = 0, high = 0, pixels = 0;
    try {
      queue(x, y);
      while (waiting.size) {
        const [key, points] = waiting.entries().next().value as [number, number[]];
        waiting.delete(key);
        let tile = tiles.get(key);
        if (!tile) {
          tile = await load(key);
          tiles.set(key, tile);
        }
        if (seed < 0) {
          seed = tile.luma[(y - tile.y0) * tile.w + (x - tile.x0)];
          low = seed - tolerance;
          high = seed + tolerance;
        }
        const { x0, y0, w, h, luma, inside } = tile;
        const stack: number[] = [];
        const visit = (px: number, py: number) => {
          if (px < x0 || py < y0 || px >= x0 + w || py >= y0 + h) {
            if (px >= 0 && py >= 0 && px < width && py < height) queue(px, py);
            return;
          }
          const at = (py - y0) * w + (px - x0);
          if (!inside[at] && luma[at] >= low && luma[at] <= high) {
            inside[at] = 1;
            stack.push(at);
          }
        };
        for (const point of points) visit(point % width, Math.floor(point / width));
        while (stack.length) {
          const at = stack.pop()!;
          tile.filled += 1;
          pixels += 1;
          const px = x0 + (at % w), py = y0 + Math.floor(at / w);
          visit(px - 1, py);
          visit(px + 1, py);
          visit(px, py - 1);
          visit(px, py + 1);
        }
        if (pixels > TILED_LIMIT) {
          this.note = `This fill reaches more than ${TILED_LIMIT / 1e6} million pixels, so it is not previewed: the server computes it when the job runs.`;
          return null;
        }
      }
    } catch (error) {
      this.note = `The page's tiles could not be read for the fill's preview (${error instanceof Error ? error.message : error}): the server computes it when the job runs.`;
      return null;
    }
    const pieces: FillPiece[] = [];
    let bx0 = Infinity, by0 = Infinity, bx1 = -Infinity, by1 = -Infinity;
    for (const tile of tiles.values()) {
      if (!tile.filled) continue;
      pieces.push({ canvas: maskCanvas(tile.inside, tile.w, 0, 0, tile.w, tile.h), x0: tile.x0, y0: tile.y0 });
      for (let row = 0; row < tile.h; row++) {
        for (let col = 0; col < tile.w; col++) {
          if (!tile.inside[row * tile.w + col]) continue;
          bx0 = Math.min(bx0, tile.x0 + col);
          bx1 = Math.max(bx1, tile.x0 + col + 1);
          by0 = Math.min(by0, tile.y0 + row);
          by1 = Math.max(by1, tile.y0 + row + 1);
        }
      }
    }
    return { pieces, pixels, box: [bx0, by0, bx1, by1] };
  }
}

/** A canvas of the w x h area at (x0, y0) of ``inside`` (rows of ``stride``), opaque where set. */
function maskCanvas(inside: Uint8Array, stride: number, x0: number, y0: number, w: number, h: number) {
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d")!;
  const data = ctx.createImageData(w, h);
  for (let row = 0; row < h; row++) {
    for (let col = 0; col < w; col++) {
      if (inside[(y0 + row) * stride + x0 + col]) data.data[(row * w + col) * 4 + 3] = 255;
    }
  }
  ctx.putImageData(data, 0, 0);
  return canvas;
}
