import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShaobingError } from '../../core/errors';

/**
 * The small hand-made word lists the scorer's rules use (negation, degree adverbs, contrast
 * conjunctions, Weibo emoticons). Sources and licences: model/README.md. All keys are Simplified.
 */
export interface Lexicon {
  negators: ReadonlySet<string>;
  /** Degree adverb → multiplier for the next sentiment word (很 1.75, 有点 0.8). */
  degree: ReadonlyMap<string, number>;
  /** Contrast conjunction → weight of the clause it opens (但是 2). */
  contrast: ReadonlyMap<string, number>;
  /** Weibo emoticon → +1 positive / -1 negative. */
  emoticons: ReadonlyMap<string, 1 | -1>;
}

/** Rows of a TSV file after its header; lines starting with "#" are provenance notes. */
function readTsv(file: string): string[][] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ShaobingError('SB_CONFIG_NOT_FOUND', `sentiment lexicon ${file} cannot be read`, { cause: err });
  }
  const rows = text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => line.replace(/\r$/, '').split('\t'));
  return rows.slice(1);
}

function weightOf(file: string, row: string[]): number {
  const weight = Number(row[1]);
  if (!Number.isFinite(weight) || weight <= 0) {
    throw new ShaobingError('SB_CONFIG_INVALID', `${file}: weight of ${JSON.stringify(row[0])} is not a positive number`);
  }
  return weight;
}

export function loadLexicon(dir: string): Lexicon {
  const path = (name: string): string => join(dir, name);
  const polarity = (file: string, row: string[]): 1 | -1 => {
    if (row[1] === 'positive') return 1;
    if (row[1] === 'negative') return -1;
    throw new ShaobingError('SB_CONFIG_INVALID', `${file}: polarity of ${JSON.stringify(row[0])} must be positive or negative`);
  };
  return {
    negators: new Set(readTsv(path('negation.tsv')).map((row) => row[0] as string)),
    degree: new Map(readTsv(path('degree.tsv')).map((row) => [row[0] as string, weightOf('degree.tsv', row)])),
    contrast: new Map(readTsv(path('contrast.tsv')).map((row) => [row[0] as string, weightOf('contrast.tsv', row)])),
    emoticons: new Map(readTsv(path('emoticons.tsv')).map((row) => [row[0] as string, polarity('emoticons.tsv', row)])),
  };
}
