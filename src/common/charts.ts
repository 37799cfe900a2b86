/**
 * Server-rendered, accessible SVG bar charts: no JavaScript, no inline style (the CSP's style-src is 'self', so
 * every colour and font is a presentation attribute such as fill=), every text escaped. The chart is an image to
 * assistive technology (`role="img"`, named by its <title> and described by its <desc>); the page shows the same
 * figures as a table beside it (`chartTable`), so nobody needs the picture to read them. Colour never carries
 * meaning alone: each bar has its value printed next to it, and its own <title> (a tooltip) gives the full label,
 * value and status. The viewBox is fixed and the width 100%, so the chart scales with the page.
 */

export type BarStatus = 'good' | 'warning' | 'bad' | 'neutral';

export interface Bar {
  label: string;
  value: number;
  /** What is printed for the value (default: the number, with the unit). */
  valueText?: string;
  status?: BarStatus;
  /** Words for the status in the bar's tooltip and the table (default: STATUS_TEXT). */
  statusText?: string;
}

export interface BarChartOptions {
  title: string;
  description: string;
  bars: Bar[];
  /** The top of the scale (default: a round number at or above the largest value). */
  max?: number;
  /** Appended to default value texts and ticks: '%' directly, anything else after a space. */
  unit?: string;
  /** Vertical bars (default; good for time series) or horizontal ones (good for long labels). */
  orientation?: 'vertical' | 'horizontal';
  /** Base of the ids of the title and desc (default: a fresh one per chart, unique in the process). */
  id?: string;
}

/** NHS.UK colours. Each bar colour has at least 3:1 contrast with the white background, or an outline that has. */
export const CHART_COLOURS = {
  background: '#ffffff',
  text: '#212b32',
  secondaryText: '#4c6272',
  grid: '#d8dde0',
  axis: '#4c6272',
  bar: '#005eb8',
  good: '#007f3b',
  warning: '#ffb81c',
  bad: '#d5281b',
  neutral: '#4c6272',
  outline: '#212b32',
} as const;

export const STATUS_TEXT: Record<BarStatus, string> = { good: 'Good', warning: 'Needs attention', bad: 'Poor', neutral: 'No status' };

const FONT = 'Frutiger W01, Arial, Helvetica, sans-serif';
const WIDTH = 640;
const LABEL_SIZE = 14;
const VALUE_SIZE = 13;
const TICK_SIZE = 12;

let sequence = 0;

/** Text made safe for SVG/HTML content and attribute values; characters XML forbids are dropped. */
export function escapeMarkup(value: unknown): string {
  return String(value ?? '')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const numberFormat = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 1 });

/** A value as printed: 1,234 or 2.5, with the unit. */
export function formatValue(value: number, unit?: string): string {
  const text = numberFormat.format(value);
  if (!unit) return text;
  return unit === '%' ? `${text}%` : `${text} ${unit}`;
}

/** An estimate of how wide a text is at a font size (no font metrics on the server): wide for CJK, narrow for Latin. */
export function textWidth(text: string, fontSize: number): number {
  let em = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code >= 0x1100 && (code <= 0x115f || (code >= 0x2e80 && code <= 0xa4cf) || (code >= 0xac00 && code <= 0xd7a3) || (code >= 0xf900 && code <= 0xfaff) || (code >= 0xff00 && code <= 0xff60) || code >= 0x20000)) em += 1;
    else if (/[A-Z0-9MW@%]/.test(ch)) em += 0.66;
    else if (/[il.,:;'|!1 ]/.test(ch)) em += 0.3;
    else em += 0.55;
  }
  return em * fontSize;
}

/** The text cut (at a character, never inside a surrogate pair) with an ellipsis so it fits the width. */
export function truncate(text: string, maxWidth: number, fontSize: number): string {
  if (textWidth(text, fontSize) <= maxWidth) return text;
  const chars = Array.from(text);
  let kept = chars.length;
  while (kept > 0 && textWidth(chars.slice(0, kept).join('').trimEnd() + '…', fontSize) > maxWidth) kept--;
  return kept === 0 ? '…' : chars.slice(0, kept).join('').trimEnd() + '…';
}

function cleanValue(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/** A round top of the scale and its tick step: 1, 2, 2.5 or 5 × 10^n steps, 2 to 5 of them; at least 1. */
export function niceScale(largest: number, max?: number, wholeNumbers = true): { max: number; step: number } {
  if (max !== undefined && Number.isFinite(max) && max > 0) {
    const top = Math.max(max, largest);
    return { max: top, step: niceStep(top / 4, wholeNumbers) };
  }
  if (!(largest > 0)) return { max: wholeNumbers ? 4 : 1, step: wholeNumbers ? 1 : 0.25 };
  let step = niceStep(largest / 4, wholeNumbers);
  let top = Math.ceil(largest / step - 1e-9) * step;
  if (top / step > 5) {
    step = niceStep(largest / 3, wholeNumbers);
    top = Math.ceil(largest / step - 1e-9) * step;
  }
  return { max: top, step };
}

function niceStep(rough: number, wholeNumbers: boolean): number {
  const power = Math.pow(10, Math.floor(Math.log10(rough)));
  const fraction = rough / power;
  // 2.5 steps only where they stay whole (25, 250…) or fractions are allowed.
  const quarter = !wholeNumbers || power >= 10;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : quarter && fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10;
  const step = nice * power;
  return wholeNumbers ? Math.max(1, Math.round(step)) : step;
}

function round(n: number): string {
  return String(Math.round(n * 10) / 10);
}

function colourOf(status: BarStatus | undefined): { fill: string; stroke?: string } {
  if (!status) return { fill: CHART_COLOURS.bar };
  if (status === 'warning') return { fill: CHART_COLOURS.warning, stroke: CHART_COLOURS.outline };
  return { fill: CHART_COLOURS[status] };
}

interface PreparedBar {
  label: string;
  value: number;
  valueText: string;
  status?: BarStatus;
  statusText?: string;
}

function prepare(options: BarChartOptions): PreparedBar[] {
  return options.bars.map((bar) => ({
    label: String(bar.label ?? ''),
    value: cleanValue(bar.value),
    valueText: bar.valueText ?? formatValue(cleanValue(bar.value), options.unit),
    status: bar.status,
    statusText: bar.status ? bar.statusText ?? STATUS_TEXT[bar.status] : undefined,
  }));
}

function barTooltip(bar: PreparedBar): string {
  return `${bar.label}: ${bar.valueText}${bar.statusText ? ` (${bar.statusText})` : ''}`;
}

function text(x: number, y: number, content: string, attrs: string, size: number): string {
  return `<text x="${round(x)}" y="${round(y)}" font-size="${size}" ${attrs}>${escapeMarkup(content)}</text>`;
}

function rect(x: number, y: number, width: number, height: number, status: BarStatus | undefined): string {
  const { fill, stroke } = colourOf(status);
  return `<rect x="${round(x)}" y="${round(y)}" width="${round(Math.max(0, width))}" height="${round(Math.max(0, height))}" fill="${fill}"${stroke ? ` stroke="${stroke}" stroke-width="1"` : ''}/>`;
}

/** An accessible SVG bar chart (see the top of this file). */
export function barChart(options: BarChartOptions): string {
  const id = options.id ? options.id.replace(/[^A-Za-z0-9_-]/g, '-') : `chart-${++sequence}`;
  const bars = prepare(options);
  const wholeNumbers = bars.every((bar) => Number.isInteger(bar.value)) && (options.max === undefined || Number.isInteger(options.max));
  const scale = niceScale(Math.max(0, ...bars.map((bar) => bar.value)), options.max, wholeNumbers);
  const body = options.orientation === 'horizontal' ? horizontal(bars, scale, options.unit) : vertical(bars, scale, options.unit);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="academy-chart" role="img" aria-labelledby="${id}-title ${id}-desc" ` +
    `viewBox="0 0 ${round(body.width)} ${round(body.height)}" width="100%" preserveAspectRatio="xMinYMin meet" focusable="false" font-family="${FONT}">` +
    `<title id="${id}-title">${escapeMarkup(options.title)}</title>` +
    `<desc id="${id}-desc">${escapeMarkup(options.description)}</desc>` +
    `<rect x="0" y="0" width="${round(body.width)}" height="${round(body.height)}" fill="${CHART_COLOURS.background}"/>` +
    body.content +
    '</svg>'
  );
}

function ticks(scale: { max: number; step: number }): number[] {
  const out: number[] = [];
  for (let i = 0; i * scale.step <= scale.max + 1e-9 && i <= 20; i++) out.push(Math.round(i * scale.step * 1e6) / 1e6);
  return out;
}

function vertical(bars: PreparedBar[], scale: { max: number; step: number }, unit?: string) {
  const tickValues = ticks(scale);
  const tickTexts = tickValues.map((v) => formatValue(v, unit === '%' ? '%' : undefined));
  const left = Math.ceil(Math.max(...tickTexts.map((t) => textWidth(t, TICK_SIZE)))) + 16;
  const widestValue = Math.max(0, ...bars.map((bar) => textWidth(bar.valueText, VALUE_SIZE)));
  const band = Math.max((WIDTH - left - 8) / Math.max(1, bars.length), widestValue + 8, 24);
  const width = Math.max(WIDTH, left + 8 + band * bars.length);
  // Labels lie flat when they fit their band; otherwise they are turned 45° and may run to LONG_LABEL px.
  const flatRoom = band - 4;
  const fitsFlat = bars.every((bar) => textWidth(bar.label, LABEL_SIZE) <= flatRoom);
  const LONG_LABEL = 150;
  const labels = bars.map((bar) => truncate(bar.label, fitsFlat ? flatRoom : LONG_LABEL, LABEL_SIZE));
  const labelDepth = fitsFlat ? LABEL_SIZE + 12 : Math.max(...labels.map((l) => textWidth(l, LABEL_SIZE))) * Math.SQRT1_2 + LABEL_SIZE + 12;
  const top = VALUE_SIZE + 12;
  const plot = 220;
  const height = top + plot + labelDepth;
  const baseline = top + plot;
  const parts: string[] = [];
  tickValues.forEach((value, i) => {
    const y = baseline - (value / scale.max) * plot;
    parts.push(`<line x1="${left}" y1="${round(y)}" x2="${round(width - 8)}" y2="${round(y)}" stroke="${i === 0 ? CHART_COLOURS.axis : CHART_COLOURS.grid}" stroke-width="1"/>`);
    parts.push(text(left - 8, y + TICK_SIZE / 3, tickTexts[i], `text-anchor="end" fill="${CHART_COLOURS.secondaryText}"`, TICK_SIZE));
  });
  bars.forEach((bar, i) => {
    const x = left + band * i;
    const barWidth = Math.min(band * 0.7, 64);
    const barHeight = (bar.value / scale.max) * plot;
    const centre = x + band / 2;
    parts.push('<g>');
    parts.push(`<title>${escapeMarkup(barTooltip(bar))}</title>`);
    parts.push(rect(centre - barWidth / 2, baseline - barHeight, barWidth, barHeight, bar.status));
    parts.push(text(centre, baseline - barHeight - 6, bar.valueText, `text-anchor="middle" fill="${CHART_COLOURS.text}" font-weight="bold"`, VALUE_SIZE));
    if (fitsFlat) parts.push(text(centre, baseline + LABEL_SIZE + 6, labels[i], `text-anchor="middle" fill="${CHART_COLOURS.text}"`, LABEL_SIZE));
    else parts.push(text(centre, baseline + LABEL_SIZE, labels[i], `text-anchor="end" fill="${CHART_COLOURS.text}" transform="rotate(-45 ${round(centre)} ${round(baseline + LABEL_SIZE)})"`, LABEL_SIZE));
    parts.push('</g>');
  });
  return { width, height, content: parts.join('') };
}

function horizontal(bars: PreparedBar[], scale: { max: number; step: number }, unit?: string) {
  const labelRoom = 220;
  const labels = bars.map((bar) => truncate(bar.label, labelRoom, LABEL_SIZE));
  const left = Math.ceil(Math.min(labelRoom, Math.max(0, ...labels.map((l) => textWidth(l, LABEL_SIZE))))) + 16;
  const valueRoom = Math.ceil(Math.min(200, Math.max(24, ...bars.map((bar) => textWidth(bar.valueText, VALUE_SIZE))))) + 16;
  const width = WIDTH;
  const plot = width - left - valueRoom;
  const row = 36;
  const top = 8;
  const tickValues = ticks(scale);
  const tickTexts = tickValues.map((v) => formatValue(v, unit === '%' ? '%' : undefined));
  const height = top + row * Math.max(1, bars.length) + TICK_SIZE + 16;
  const bottom = top + row * Math.max(1, bars.length);
  const parts: string[] = [];
  tickValues.forEach((value, i) => {
    const x = left + (value / scale.max) * plot;
    parts.push(`<line x1="${round(x)}" y1="${top}" x2="${round(x)}" y2="${bottom}" stroke="${i === 0 ? CHART_COLOURS.axis : CHART_COLOURS.grid}" stroke-width="1"/>`);
    parts.push(text(x, bottom + TICK_SIZE + 6, tickTexts[i], `text-anchor="middle" fill="${CHART_COLOURS.secondaryText}"`, TICK_SIZE));
  });
  bars.forEach((bar, i) => {
    const y = top + row * i;
    const barLength = (bar.value / scale.max) * plot;
    const middle = y + row / 2;
    parts.push('<g>');
    parts.push(`<title>${escapeMarkup(barTooltip(bar))}</title>`);
    parts.push(text(left - 8, middle + LABEL_SIZE / 3, labels[i], `text-anchor="end" fill="${CHART_COLOURS.text}"`, LABEL_SIZE));
    parts.push(rect(left, y + 6, barLength, row - 12, bar.status));
    parts.push(text(left + barLength + 6, middle + VALUE_SIZE / 3, bar.valueText, `text-anchor="start" fill="${CHART_COLOURS.text}" font-weight="bold"`, VALUE_SIZE));
    parts.push('</g>');
  });
  return { width, height, content: parts.join('') };
}

export interface ChartTable {
  caption: string;
  /** Column headings: the label's, the value's, and the status's when any bar has one. */
  headings: string[];
  /** One row per bar, in the chart's order: its full label, value text and status words (when shown). */
  rows: Array<{ label: string; value: number; valueText: string; status?: BarStatus; statusText?: string }>;
  hasStatus: boolean;
}

/**
 * The chart's figures as rows for the NHS.UK table beside it (views/partials/chart.hbs): the same labels in full,
 * the same value texts, and the status in words when the bars have one.
 */
export function chartTable(options: BarChartOptions, headings: { label: string; value: string; status?: string }): ChartTable {
  const rows = prepare(options).map(({ label, value, valueText, status, statusText }) => ({ label, value, valueText, ...(status ? { status, statusText } : {}) }));
  const hasStatus = rows.some((row) => row.status);
  return {
    caption: options.title,
    headings: hasStatus ? [headings.label, headings.value, headings.status ?? 'Status'] : [headings.label, headings.value],
    rows,
    hasStatus,
  };
}

/** Both at once, for `{{> chart chart}}`: the SVG (already escaped markup) and the table. */
export function chartWithTable(options: BarChartOptions, headings: { label: string; value: string; status?: string }): { svg: string; table: ChartTable } {
  return { svg: barChart(options), table: chartTable(options, headings) };
}
