import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import * as fontkit from 'fontkit';
import type { Font } from 'fontkit';
import { PROJECT_ROOT } from '../common/paths';

/**
 * The Open Badges image: an NHS-blue circular badge with the academy's name and the CPD hours, drawn into RGBA
 * pixels here (circles analytically, text from DejaVu Sans Bold outlines with a scanline rasteriser) and encoded
 * as a PNG with node's zlib. `bakeBadgePng` adds the Open Badges 2.0 `iTXt` chunk (keyword `openbadges`).
 */

export const BADGE_SIZE = 400;
const NHS_BLUE = [0x00, 0x5e, 0xb8] as const;
const NHS_DARK_BLUE = [0x00, 0x30, 0x87] as const;
const WHITE = [0xff, 0xff, 0xff] as const;
type Rgb = readonly [number, number, number];

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let font: Font | undefined;
const boldFont = (): Font => (font ??= fontkit.create(readFileSync(join(PROJECT_ROOT, 'node_modules', 'dejavu-fonts-ttf', 'ttf', 'DejaVuSans-Bold.ttf'))) as Font);

/** Rendered images by content: there are few distinct CPD values, and each takes some milliseconds to draw. */
const rendered = new Map<string, Buffer>();
const RENDERED_KEPT = 64;

/** The unbaked badge image (a PNG) for this many CPD hours. The same bytes for the same input. */
export function renderBadgePng(input: { cpdHours: number; academyName: string }): Buffer {
  const key = JSON.stringify([input.cpdHours, input.academyName]);
  const cached = rendered.get(key);
  if (cached) return cached;
  const png = encodePng(drawBadge(input), BADGE_SIZE, BADGE_SIZE);
  if (rendered.size >= RENDERED_KEPT) rendered.delete(rendered.keys().next().value!);
  rendered.set(key, png);
  return png;
}

/**
 * Bakes a badge (Open Badges 2.0 baking): one uncompressed `iTXt` chunk with keyword `openbadges` holding `text`
 * (for hosted verification, the assertion's URL), put right after IHDR so a reader finds it before the image data.
 * Any `openbadges` chunk already there is replaced, as the chunk may appear only once.
 */
export function bakeBadgePng(png: Buffer, text: string): Buffer {
  const chunks = readPngChunks(png).filter((c) => !(c.type === 'iTXt' && c.data.subarray(0, c.data.indexOf(0)).toString('latin1') === 'openbadges'));
  // keyword \0, compression flag 0, compression method 0, language tag "" \0, translated keyword "" \0, UTF-8 text
  const itxt = Buffer.concat([Buffer.from('openbadges\0', 'latin1'), Buffer.from([0, 0, 0, 0]), Buffer.from(text, 'utf8')]);
  const [ihdr, ...rest] = chunks;
  return Buffer.concat([PNG_SIGNATURE, chunk(ihdr.type, ihdr.data), chunk('iTXt', itxt), ...rest.map((c) => chunk(c.type, c.data))]);
}

/** The chunks of a PNG, in order (signature and CRCs checked). */
export function readPngChunks(png: Buffer): Array<{ type: string; data: Buffer }> {
  if (png.length < 8 || !png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('Not a PNG');
  const chunks: Array<{ type: string; data: Buffer }> = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    if (png.readUInt32BE(at + 8 + length) !== crc32(png.subarray(at + 4, at + 8 + length))) throw new Error(`Bad CRC in the ${type} chunk`);
    chunks.push({ type, data });
    at += 12 + length;
  }
  return chunks;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data, crc32(head.subarray(4))), 0);
  return Buffer.concat([head, data, crc]);
}

/** RGBA, 8 bits a channel, no interlace; every row with the Sub filter (flat colours compress well). */
function encodePng(rgba: Uint8Array, width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const stride = width * 4;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1);
    raw[row] = 1;
    for (let i = 0; i < stride; i++) raw[row + 1 + i] = (rgba[y * stride + i] - (i >= 4 ? rgba[y * stride + i - 4] : 0)) & 0xff;
  }
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 6 })), chunk('IEND', Buffer.alloc(0))]);
}

/** Premultiplied RGBA in floats, composited layer by layer ("over"). */
class Canvas {
  readonly pixels: Float32Array;
  constructor(readonly size: number) {
    this.pixels = new Float32Array(size * size * 4);
  }

  /** Each pixel's layers, bottom first: [coverage, colour] pairs from its centre's distance to the canvas's centre. */
  fillRadial(layers: (distance: number) => Array<[number, Rgb]>): void {
    const c = this.size / 2;
    for (let y = 0; y < this.size; y++) {
      for (let x = 0; x < this.size; x++) {
        for (const [alpha, colour] of layers(Math.hypot(x + 0.5 - c, y + 0.5 - c))) this.blend(y * this.size + x, alpha, colour);
      }
    }
  }

  fillMask(mask: Float32Array, colour: Rgb): void {
    for (let i = 0; i < mask.length; i++) if (mask[i] > 0) this.blend(i, Math.min(1, mask[i]), colour);
  }

  toRgba(): Uint8Array {
    const out = new Uint8Array(this.pixels.length);
    for (let i = 0; i < this.pixels.length; i += 4) {
      const a = this.pixels[i + 3];
      if (a <= 0) continue;
      for (let c = 0; c < 3; c++) out[i + c] = Math.round(Math.min(255, this.pixels[i + c] / a));
      out[i + 3] = Math.round(a * 255);
    }
    return out;
  }

  private blend(pixel: number, alpha: number, colour: Rgb): void {
    if (alpha <= 0) return;
    const p = this.pixels;
    const i = pixel * 4;
    for (let c = 0; c < 3; c++) p[i + c] = colour[c] * alpha + p[i + c] * (1 - alpha);
    p[i + 3] = alpha + p[i + 3] * (1 - alpha);
  }
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

function drawBadge({ cpdHours, academyName }: { cpdHours: number; academyName: string }): Uint8Array {
  const canvas = new Canvas(BADGE_SIZE);
  canvas.pixels.set(background());
  const text = new TextPainter(boldFont(), BADGE_SIZE);
  canvas.fillMask(text.line(academyName.toUpperCase(), { baseline: 128, size: 26, maxWidth: 230, tracking: 0.08 }), WHITE);
  canvas.fillMask(text.line(String(cpdHours), { baseline: 252, size: 132, maxWidth: 250, tracking: 0 }), WHITE);
  canvas.fillMask(text.line(cpdHours === 1 ? 'CPD HOUR' : 'CPD HOURS', { baseline: 300, size: 32, maxWidth: 226, tracking: 0.1 }), WHITE);
  return canvas.toRgba();
}

let backgroundPixels: Float32Array | undefined;
/** A dark blue rim, the NHS blue face and a white ring inside it, anti-aliased over half a pixel either side. Drawn once. */
function background(): Float32Array {
  if (backgroundPixels) return backgroundPixels;
  const canvas = new Canvas(BADGE_SIZE);
  canvas.fillRadial((d) => (d > 199 ? [] : [[clamp01(198.5 - d), NHS_DARK_BLUE], [clamp01(186.5 - d), NHS_BLUE], [clamp01(Math.min(172 - d, d - 166) + 0.5), WHITE]]));
  return (backgroundPixels = canvas.pixels);
}

type Edge = { x0: number; y0: number; x1: number; y1: number };

/** Lays out one line of text, centred, and rasterises its outlines (non-zero winding, 8 samples a pixel row). */
class TextPainter {
  constructor(
    private readonly font: Font,
    private readonly size: number,
  ) {}

  line(text: string, o: { baseline: number; size: number; maxWidth: number; tracking: number }): Float32Array {
    const run = this.font.layout(text);
    const unitsWidth = run.positions.reduce((w, p) => w + p.xAdvance, 0) + o.tracking * this.font.unitsPerEm * Math.max(0, run.glyphs.length - 1);
    const scale = Math.min(o.size / this.font.unitsPerEm, o.maxWidth / Math.max(1, unitsWidth));
    let penX = (this.size - unitsWidth * scale) / 2;
    const edges: Edge[] = [];
    run.glyphs.forEach((glyph, i) => {
      const position = run.positions[i];
      const ox = penX + position.xOffset * scale;
      const oy = o.baseline - position.yOffset * scale;
      outlineEdges(glyph.path.commands, (x, y) => [ox + x * scale, oy - y * scale], edges);
      penX += (position.xAdvance + o.tracking * this.font.unitsPerEm) * scale;
    });
    return rasterise(edges, this.size);
  }
}

function outlineEdges(commands: Array<{ command: string; args: number[] }>, to: (x: number, y: number) => [number, number], edges: Edge[]): void {
  let start: [number, number] | null = null;
  let last: [number, number] = [0, 0];
  const lineTo = (p: [number, number]) => {
    if (p[1] !== last[1]) edges.push({ x0: last[0], y0: last[1], x1: p[0], y1: p[1] });
    last = p;
  };
  const close = () => {
    if (start) lineTo(start);
    start = null;
  };
  for (const { command, args } of commands) {
    if (command === 'moveTo') {
      close();
      last = to(args[0], args[1]);
      start = last;
    } else if (command === 'lineTo') {
      lineTo(to(args[0], args[1]));
    } else if (command === 'quadraticCurveTo' || command === 'bezierCurveTo') {
      const from = last;
      const points = [];
      for (let k = 0; k < args.length; k += 2) points.push(to(args[k], args[k + 1]));
      const steps = 12;
      for (let s = 1; s <= steps; s++) lineTo(bezierPoint([from, ...points], s / steps));
    } else if (command === 'closePath') {
      close();
    }
  }
  close();
}

function bezierPoint(points: Array<[number, number]>, t: number): [number, number] {
  let level = points;
  while (level.length > 1) level = level.slice(1).map((p, i) => [level[i][0] + (p[0] - level[i][0]) * t, level[i][1] + (p[1] - level[i][1]) * t] as [number, number]);
  return level[0];
}

function rasterise(edges: Edge[], size: number): Float32Array {
  const mask = new Float32Array(size * size);
  const samples = 8;
  const crossings: Array<{ x: number; winding: number }> = [];
  // Only the rows the outlines reach, each with only the edges that span it.
  const top = Math.max(0, Math.floor(Math.min(...edges.map((e) => Math.min(e.y0, e.y1)))));
  const bottom = Math.min(size, Math.ceil(Math.max(...edges.map((e) => Math.max(e.y0, e.y1)))));
  for (let y = top; y < bottom; y++) {
    const spanning = edges.filter((e) => Math.max(e.y0, e.y1) >= y && Math.min(e.y0, e.y1) < y + 1);
    for (let s = 0; s < samples; s++) {
      const sy = y + (s + 0.5) / samples;
      crossings.length = 0;
      for (const e of spanning) {
        const down = e.y1 > e.y0;
        const top = down ? e.y0 : e.y1;
        const bottom = down ? e.y1 : e.y0;
        if (sy < top || sy >= bottom) continue;
        crossings.push({ x: e.x0 + ((sy - e.y0) * (e.x1 - e.x0)) / (e.y1 - e.y0), winding: down ? 1 : -1 });
      }
      if (!crossings.length) continue;
      crossings.sort((a, b) => a.x - b.x);
      let winding = 0;
      for (let k = 0; k < crossings.length - 1; k++) {
        winding += crossings[k].winding;
        if (winding !== 0) addSpan(mask, y * size, size, crossings[k].x, crossings[k + 1].x, 1 / samples);
      }
    }
  }
  return mask;
}

/** Adds `weight` times the part of each pixel of the row that [from, to) covers. */
function addSpan(mask: Float32Array, row: number, size: number, from: number, to: number, weight: number): void {
  const a = Math.max(0, from);
  const b = Math.min(size, to);
  for (let px = Math.floor(a); px < b; px++) {
    const covered = Math.min(b, px + 1) - Math.max(a, px);
    if (covered > 0) mask[row + px] += covered * weight;
  }
}
