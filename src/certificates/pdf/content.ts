import type { FaceKey } from './fonts';
import { commonFont, type DocumentFont, SubsetFont } from './pdf-font';
import { num, PdfFile, textString } from './pdf-file';
import type { TextLine } from './text';

export type Colour = [number, number, number];

/** A structure element (§14.7.2) of the page: its type, its marked-content ids and what it says beyond its content. */
export interface StructureElement {
  type: 'H1' | 'P' | 'Figure';
  mcids: number[];
  lang?: string;
  alt?: string;
  /** For a Figure: where it is on the page (x1 y1 x2 y2). */
  bbox?: [number, number, number, number];
}

/**
 * One page's drawing operators (§8, §9.4), tagged (§14.6, §14.8): what readers should read is marked content
 * with an MCID and belongs to one structure element, in reading order; frames and fills are artifacts.
 * Fonts are given resource names as the text first needs them: F1 is the common subset, F2… one subset of a
 * face each, made for this document.
 */
export class TaggedPage {
  private readonly operators: string[] = [];
  readonly elements: StructureElement[] = [];
  private readonly fonts = new Map<FaceKey | 'common', { name: string; font: DocumentFont }>();
  private nextMcid = 0;

  /** A new structure element; its content is what `draw` then adds, each call one marked-content sequence. */
  element(type: StructureElement['type'], extra: Omit<StructureElement, 'type' | 'mcids'> = {}): StructureElement {
    const element: StructureElement = { type, mcids: [], ...extra };
    this.elements.push(element);
    return element;
  }

  /** Adds `draw`'s operators to the page as a marked-content sequence of `element` (one MCID each call). */
  mark(element: StructureElement, draw: () => void): void {
    const mcid = this.nextMcid++;
    element.mcids.push(mcid);
    this.operators.push(`/${element.type} << /MCID ${mcid} >> BDC`);
    draw();
    this.operators.push('EMC');
  }

  /** Operators that are decoration, not content (§14.8.2.2). */
  artifact(draw: () => void): void {
    this.operators.push('/Artifact BMC');
    draw();
    this.operators.push('EMC');
  }

  /**
   * One line at (x, y) in `size`. Runs switch fonts; glyphs whose layout moves them off their own advance
   * (kerning, marks) get TJ adjustments, and marks raised or lowered a text rise. A run whose glyphs do not
   * spell its text in order is wrapped in a span whose ActualText is the text (§14.9.4), so extraction reads it;
   * right-to-left runs that do are left to readers' own bidirectional ordering, glyph by glyph.
   */
  text(line: TextLine, x: number, y: number, size: number, colour: Colour): void {
    const parts: string[] = [];
    parts.push(`BT ${rgb(colour)} rg ${num(x)} ${num(y)} Td`);
    let rise = 0;
    for (const run of line.runs) {
      if (run.glyphs.length === 0) continue;
      const { name, font } = this.fontFor(run.face);
      if (run.actualText !== undefined) parts.push(`/Span << /ActualText ${textString(run.actualText)} >> BDC`);
      parts.push(`/${name} ${num(size)} Tf`);
      const scale = 1000 / run.unitsPerEm;
      let items: string[] = [];
      // TJ numbers move the pen left by thousandths of the size: a glyph drawn off its own advance owes one.
      let owed = 0;
      let hex = '';
      const pay = () => {
        if (Math.abs(owed) > 1e-6) {
          if (hex) items.push(`<${hex}>`);
          hex = '';
          items.push(num(owed));
        }
        owed = 0;
      };
      const close = () => {
        pay();
        if (hex) items.push(`<${hex}>`);
        hex = '';
        if (items.length) parts.push(`[${items.join(' ')}] TJ`);
        items = [];
      };
      for (const glyph of run.glyphs) {
        const glyphRise = (glyph.yOffset / run.unitsPerEm) * size;
        if (Math.abs(glyphRise - rise) > 1e-6) {
          close();
          rise = glyphRise;
          parts.push(`${num(rise)} Ts`);
        }
        owed -= glyph.xOffset * scale;
        pay();
        const cid = font instanceof SubsetFont ? font.include(glyph.id, glyph.advance, glyph.codePoints) : glyph.id;
        hex += cid.toString(16).padStart(4, '0');
        owed = -(glyph.xAdvance - glyph.xOffset - glyph.advance) * scale;
      }
      close();
      if (run.actualText !== undefined) parts.push('EMC');
    }
    if (rise !== 0) parts.push('0 Ts');
    parts.push('ET');
    this.operators.push(parts.join(' '));
  }

  strokeRectangle(x: number, y: number, width: number, height: number, colour: Colour, lineWidth: number): void {
    this.operators.push(`q ${rgb(colour)} RG ${lineWidth} w ${num(x)} ${num(y)} ${num(width)} ${num(height)} re S Q`);
  }

  fillRectangle(x: number, y: number, width: number, height: number, colour: Colour): void {
    this.operators.push(`q ${rgb(colour)} rg ${num(x)} ${num(y)} ${num(width)} ${num(height)} re f Q`);
  }

  image(name: string, x: number, y: number, width: number, height: number): void {
    this.operators.push(`q ${num(width)} 0 0 ${num(height)} ${num(x)} ${num(y)} cm /${name} Do Q`);
  }

  bytes(): Buffer {
    return Buffer.from(this.operators.join('\n'), 'latin1');
  }

  /** Writes the fonts the page used; returns the /Font resource dictionary's entries. */
  writeFonts(pdf: PdfFile): string {
    return [...this.fonts.values()].map(({ name, font }) => `/${name} ${font.writeInto(pdf)} 0 R`).join(' ');
  }

  /**
   * Writes the structure tree (§14.7): a Document element holding the page's elements in order, each pointing
   * at its marked content, and the parent tree that maps the page's MCIDs back to them. Returns the root's number.
   */
  writeStructure(pdf: PdfFile, pageRef: number): number {
    const root = pdf.reserve();
    const document = pdf.reserve();
    const parentTree: number[] = [];
    const kids = this.elements.map((element) => {
      const ref = pdf.reserve();
      const k = element.mcids.length === 1 ? String(element.mcids[0]) : `[${element.mcids.join(' ')}]`;
      const extras = [
        element.lang ? ` /Lang ${textString(element.lang)}` : '',
        element.alt ? ` /Alt ${textString(element.alt)}` : '',
        element.bbox ? ` /A << /O /Layout /BBox [${element.bbox.map(num).join(' ')}] >>` : '',
      ].join('');
      pdf.set(ref, `<< /Type /StructElem /S /${element.type} /P ${document} 0 R /Pg ${pageRef} 0 R /K ${k}${extras} >>`);
      for (const mcid of element.mcids) parentTree[mcid] = ref;
      return ref;
    });
    pdf.set(document, `<< /Type /StructElem /S /Document /P ${root} 0 R /K [${kids.map((ref) => `${ref} 0 R`).join(' ')}] >>`);
    const tree = pdf.add(`<< /Nums [0 [${parentTree.map((ref) => `${ref} 0 R`).join(' ')}]] >>`);
    pdf.set(root, `<< /Type /StructTreeRoot /K ${document} 0 R /ParentTree ${tree} 0 R /ParentTreeNextKey 1 >>`);
    return root;
  }

  private fontFor(key: FaceKey | 'common'): { name: string; font: DocumentFont } {
    let entry = this.fonts.get(key);
    if (!entry) {
      entry = { name: `F${this.fonts.size + 1}`, font: key === 'common' ? commonFont() : new SubsetFont(key) };
      this.fonts.set(key, entry);
    }
    return entry;
  }
}

const rgb = (colour: Colour) => colour.map(num).join(' ');
