/**
 * What an uploaded file really is, judged by its first bytes, never by its name or the browser's label.
 * Each accepted kind names the signature its bytes must carry; the name's extension only chooses which.
 */
export interface FileKind {
  extension: string;
  mimeType: string;
  label: string;
  matches(head: Buffer): boolean;
}

const startsWith = (head: Buffer, bytes: number[], offset = 0) => bytes.every((b, i) => head[offset + i] === b);
const ZIP = [0x50, 0x4b, 0x03, 0x04];
const isZip = (head: Buffer) => startsWith(head, ZIP);

/** UTF-8 text without NUL bytes (CSV, captions): a binary file renamed .csv fails this. */
function isText(head: Buffer): boolean {
  if (head.includes(0)) return false;
  // A multi-byte character may be cut at the end of the head: ignore up to 3 trailing bytes.
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head.subarray(0, Math.max(0, head.length - 3)));
  return !text.includes('\uFFFD');
}

export const FILE_KINDS: Record<string, FileKind> = {
  mp4: { extension: 'mp4', mimeType: 'video/mp4', label: 'MP4 video', matches: (h) => h.subarray(4, 8).toString('latin1') === 'ftyp' },
  webm: { extension: 'webm', mimeType: 'video/webm', label: 'WebM video', matches: (h) => startsWith(h, [0x1a, 0x45, 0xdf, 0xa3]) },
  pdf: { extension: 'pdf', mimeType: 'application/pdf', label: 'PDF', matches: (h) => h.subarray(0, 5).toString('latin1') === '%PDF-' },
  docx: { extension: 'docx', mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', label: 'Word document', matches: isZip },
  xlsx: { extension: 'xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', label: 'Excel workbook', matches: isZip },
  pptx: { extension: 'pptx', mimeType: 'application/vnd.openxmlformats-officedocument.presentationml.presentation', label: 'PowerPoint presentation', matches: isZip },
  zip: { extension: 'zip', mimeType: 'application/zip', label: 'ZIP archive', matches: isZip },
  csv: { extension: 'csv', mimeType: 'text/csv', label: 'CSV file', matches: (h) => h.length > 0 && isText(h) },
  vtt: { extension: 'vtt', mimeType: 'text/vtt', label: 'WebVTT captions', matches: (h) => /^(\uFEFF)?WEBVTT(\s|$)/.test(h.subarray(0, 16).toString('utf8')) },
  // Plain text and scripts (shared as exchange tools): served as text/plain downloads, never run or shown inline.
  txt: { extension: 'txt', mimeType: 'text/plain', label: 'text file', matches: (h) => h.length > 0 && isText(h) },
  ps1: { extension: 'ps1', mimeType: 'text/plain', label: 'PowerShell script', matches: (h) => h.length > 0 && isText(h) },
  sql: { extension: 'sql', mimeType: 'text/plain', label: 'SQL script', matches: (h) => h.length > 0 && isText(h) },
  sh: { extension: 'sh', mimeType: 'text/plain', label: 'shell script', matches: (h) => h.length > 0 && isText(h) },
  py: { extension: 'py', mimeType: 'text/plain', label: 'Python script', matches: (h) => h.length > 0 && isText(h) },
};

export const VIDEO_KINDS = ['mp4', 'webm'] as const;
export const RESOURCE_KINDS = ['pdf', 'docx', 'xlsx', 'pptx', 'csv', 'zip'] as const;
export const CAPTION_KINDS = ['vtt'] as const;

/** Thrown when a file's bytes are not what its kind requires. */
export class FileContentError extends Error {}

/** The kind a file name claims, among those allowed; null when its extension is not one of them. */
export function kindForName(fileName: string, allowed: readonly string[]): FileKind | null {
  const extension = fileName.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  return extension && allowed.includes(extension) ? FILE_KINDS[extension] : null;
}

/** A content check for `FileStorage.put`: refuses the upload unless its first bytes match the kind. */
export function requireContent(kind: FileKind): (head: Buffer) => void {
  return (head) => {
    if (!kind.matches(head)) throw new FileContentError(`The file's contents are not a ${kind.label}, although its name ends in .${kind.extension}`);
  };
}
