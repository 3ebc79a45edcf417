import type { Document } from '../core/records';
import type { Matcher } from '../rules/matcher';
import type { RuleStage, TopicResult } from '../rules/stage';
import type { Token, Tokenizer } from '../rules/tokenizer';
import { bands, minhash, trigrams } from './minhash';

/**
 * What the pipeline learns about one document before clustering and storing it: its tokens (the
 * search field and the fingerprint's features), its sentiment, and the topics it matches.
 */
export interface Analysis {
  doc: Document;
  /** Tokens of title and text, lower-cased, joined by spaces. */
  tokens: string;
  /** Undefined for texts too short to fingerprint reliably ("转发微博" would join every repost). */
  fingerprint?: string;
  bands?: string[];
  sentiment: number;
  results: TopicResult[];
}

export interface AnalyzeDeps {
  tokenizer: Tokenizer;
  stage: RuleStage;
  /** Below this many distinct character trigrams a document gets no fingerprint; default 8. */
  minFingerprintShingles?: number;
}

/** Tokens that carry content: not punctuation, not symbols alone. */
const CONTENT = /[\p{L}\p{N}]/u;

export function analyzeDocument(doc: Document, matcher: Matcher, deps: AnalyzeDeps): Analysis {
  const title = deps.tokenizer.cut(doc.title);
  const text = deps.tokenizer.cut(doc.text);
  const words = [...title, ...text].map((t: Token) => t.word.toLowerCase()).filter((w) => CONTENT.test(w));
  // Outlets rewrite headlines more than bodies: the body alone identifies the story, when there is one.
  const fingerprint = minhash(trigrams(doc.text || doc.title), deps.minFingerprintShingles);
  const { sentiment, topics } = deps.stage.analyze(matcher, doc, { tokens: { title, text } });
  return {
    doc,
    tokens: words.join(' '),
    ...(fingerprint ? { fingerprint, bands: bands(fingerprint) } : {}),
    sentiment: sentiment.score,
    results: topics,
  };
}
