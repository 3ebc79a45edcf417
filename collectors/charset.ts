import { analyse } from 'chardet';
import iconv from 'iconv-lite';

/**
 * Bytes → text for pages whose charset may be declared in the header, in a `<meta>`, in an XML
 * declaration, by a BOM, or wrongly, or not at all (many Chinese sites still serve GBK). Pure.
 */

export type CharsetSource = 'override' | 'bom' | 'header' | 'meta' | 'sniffed' | 'default';

export interface Decoded {
  text: string;
  /** WHATWG name of the charset used (`utf-8`, `gb18030`, `big5`…). */
  charset: string;
  source: CharsetSource;
}

/** Labels as pages write them → the decoder to use. GB2312 and GBK pages decode with GB18030, their superset. */
export function normaliseCharset(label: string | undefined): string | undefined {
  if (!label) return undefined;
  const l = label.trim().toLowerCase().replace(/^["']|["']$/g, '');
  if (l === '') return undefined;
  if (['gb2312', 'gbk', 'gb18030', 'x-gbk', 'cp936', 'gb_2312-80', 'euc-cn', 'csgb2312', 'windows-936'].includes(l)) return 'gb18030';
  if (['big5', 'big5-hkscs', 'cn-big5', 'x-x-big5', 'csbig5'].includes(l)) return 'big5';
  if (['utf8', 'utf-8', 'unicode-1-1-utf-8'].includes(l)) return 'utf-8';
  try {
    return new TextDecoder(l).encoding;
  } catch {
    return iconv.encodingExists(l) ? l : undefined;
  }
}

/** The charset parameter of a Content-Type header. */
export function charsetFromContentType(contentType: string | undefined): string | undefined {
  const m = /charset\s*=\s*["']?([^;"'\s]+)/i.exec(contentType ?? '');
  return m?.[1];
}

/** `<meta charset>`, `<meta http-equiv content="…charset=…">` or `<?xml encoding="…"?>` in the first 4 KB. */
export function charsetFromMarkup(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 4096)).toString('latin1');
  const xml = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([^"']+)["']/i.exec(head);
  if (xml) return xml[1];
  const meta = /<meta[^>]+charset\s*=\s*["']?([^"'\s/>;]+)/i.exec(head);
  return meta?.[1];
}

function bomCharset(bytes: Uint8Array): string | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  return undefined;
}

/** True when the bytes are valid UTF-8 (a page that is GBK is almost never valid UTF-8 by chance). */
export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function hasMultibyte(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b >= 0x80) return true;
  return false;
}

/** Chinese pages are GB18030, Big5 or UTF-8 in practice; chardet's best guess among the plausible ones. */
function sniff(bytes: Uint8Array): string {
  if (!hasMultibyte(bytes) || isValidUtf8(bytes)) return 'utf-8';
  const sample = bytes.byteLength > 65536 ? bytes.subarray(0, 65536) : bytes;
  for (const guess of analyse(sample)) {
    const name = normaliseCharset(guess.name);
    if (name === 'utf-8' || name === 'gb18030' || name === 'big5' || name === 'utf-16le' || name === 'utf-16be' || name === 'shift_jis' || name === 'euc-kr') return name;
  }
  return 'gb18030';
}

export function decodeWith(bytes: Uint8Array, charset: string): string {
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return iconv.decode(Buffer.from(bytes), charset);
  }
}

/**
 * Decodes a body. Order: an explicit override, a BOM, the Content-Type header, the markup's own
 * declaration, then sniffing. A declaration is distrusted when the bytes contradict it: a page that
 * says UTF-8 but is not valid UTF-8 is sniffed; a page that says GBK or Big5 but is valid multi-byte
 * UTF-8 is read as UTF-8 (both happen on real Chinese sites).
 */
export function decodeBody(bytes: Uint8Array, contentType?: string, override?: string): Decoded {
  const forced = normaliseCharset(override);
  if (forced) return { text: decodeWith(bytes, forced), charset: forced, source: 'override' };
  const bom = bomCharset(bytes);
  if (bom) return { text: decodeWith(bytes, bom), charset: bom, source: 'bom' };
  const declared: Array<[string | undefined, CharsetSource]> = [
    [normaliseCharset(charsetFromContentType(contentType)), 'header'],
    [normaliseCharset(charsetFromMarkup(bytes)), 'meta'],
  ];
  for (const [charset, source] of declared) {
    if (!charset) continue;
    if (charset === 'utf-8') {
      if (isValidUtf8(bytes)) return { text: decodeWith(bytes, 'utf-8'), charset, source };
      continue;
    }
    if (hasMultibyte(bytes) && isValidUtf8(bytes)) return { text: decodeWith(bytes, 'utf-8'), charset: 'utf-8', source: 'sniffed' };
    return { text: decodeWith(bytes, charset), charset, source };
  }
  const sniffed = sniff(bytes);
  return { text: decodeWith(bytes, sniffed), charset: sniffed, source: hasMultibyte(bytes) ? 'sniffed' : 'default' };
}
