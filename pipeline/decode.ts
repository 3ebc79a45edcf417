import { Document } from '../core/records';

/**
 * The first stage: bytes from the bus to a Document, or the reason they are not one. Everything
 * arriving here is untrusted (a collector's bug, a hand-typed message, a hostile page), so every
 * way of being wrong ends in a reason for the dead-letter topic, never in an exception.
 */

export interface DecodeLimits {
  /** Larger messages are refused before parsing; default 2 MiB (a long article is ~20 KB). */
  maxBytes?: number;
}

export type Decoded = { ok: true; doc: Document } | { ok: false; reason: string };

const DEFAULT_MAX_BYTES = 2 * 1024 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeDocument(bytes: Buffer, limits: DecodeLimits = {}): Decoded {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes.length > maxBytes) return { ok: false, reason: `message of ${bytes.length} bytes exceeds the ${maxBytes}-byte limit` };
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, reason: 'not valid UTF-8' };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  const parsed = Document.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return { ok: false, reason: `not a Document: ${issues.join('; ')}` };
  }
  // Valid JSON and legal in Elasticsearch, but PostgreSQL (the embedded store and bus) refuses
  // U+0000 in text: such a document would be retried forever there. No real text holds one.
  if (Object.values(parsed.data).some((v) => typeof v === 'string' && v.includes('\0'))) return { ok: false, reason: 'contains U+0000 (NUL)' };
  return { ok: true, doc: parsed.data };
}
