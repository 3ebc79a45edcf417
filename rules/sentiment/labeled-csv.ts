import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * Reads a labeled sentiment set: CSV `label,text` with 1 = positive and 0 = negative, an optional
 * `label,text` header, and the text either bare (everything after the first comma) or quoted in the
 * CSV way (`"` doubled inside, line breaks allowed). Bad records are reported with their line
 * number and skipped, so one broken line does not cost the whole evaluation.
 */

export type LabeledRow = { line: number; label: 0 | 1; text: string } | { line: number; error: string };

/** Parses the part after `label,`; `undefined` while a quoted text is still open at the end of `raw`. */
function parseText(raw: string): { text: string } | { error: string } | undefined {
  if (!raw.startsWith('"')) return { text: raw };
  let text = '';
  for (let i = 1; i < raw.length; i++) {
    const ch = raw[i];
    if (ch !== '"') {
      text += ch;
      continue;
    }
    if (raw[i + 1] === '"') {
      text += '"';
      i++;
      continue;
    }
    const rest = raw.slice(i + 1);
    return rest.trim() === '' ? { text } : { error: `unexpected ${JSON.stringify(rest.slice(0, 20))} after the closing quote` };
  }
  return undefined;
}

function parseRecord(record: string): { label: 0 | 1; text: string } | { error: string } | undefined {
  const comma = record.indexOf(',');
  if (comma < 0) return { error: 'expected "label,text"' };
  const label = record.slice(0, comma).trim();
  if (label !== '0' && label !== '1') return { error: `label must be 1 (positive) or 0 (negative), got ${JSON.stringify(label.slice(0, 20))}` };
  const parsed = parseText(record.slice(comma + 1));
  if (parsed === undefined || 'error' in parsed) return parsed;
  return { label: label === '1' ? 1 : 0, text: parsed.text };
}

export async function* readLabeledCsv(file: string): AsyncGenerator<LabeledRow> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNo = 0;
  let pending: { line: number; record: string } | undefined;
  for await (const rawLine of lines) {
    lineNo++;
    const line = lineNo === 1 ? rawLine.replace(/^\uFEFF/, '') : rawLine;
    if (pending === undefined) {
      if (line.trim() === '' || (lineNo === 1 && line.trim() === 'label,text')) continue;
      pending = { line: lineNo, record: line };
    } else {
      pending.record += `\n${line}`;
    }
    const parsed = parseRecord(pending.record);
    if (parsed === undefined) continue; // a quoted text goes on on the next line
    yield { line: pending.line, ...parsed };
    pending = undefined;
  }
  if (pending !== undefined) yield { line: pending.line, error: 'quoted text is not closed before the end of the file' };
}
