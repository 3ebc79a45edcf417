import { AhoCorasick } from '../../rules/aho-corasick';

/** Every occurrence as "pattern@end", by brute force. */
function naive(patterns: string[], text: string): string[] {
  const found: string[] = [];
  for (let end = 1; end <= text.length; end++) {
    patterns.forEach((p, id) => {
      if (p.length > 0 && end >= p.length && text.slice(end - p.length, end) === p) found.push(`${id}@${end}`);
    });
  }
  return found.sort();
}

function scanned(patterns: string[], text: string): string[] {
  const found: string[] = [];
  new AhoCorasick(patterns).scan(text, (pattern, end) => found.push(`${pattern}@${end}`));
  return found.sort();
}

describe('Aho–Corasick automaton', () => {
  it('finds overlapping and nested occurrences', () => {
    const patterns = ['化工', '化工厂', '工厂', '厂', '爆炸'];
    expect(scanned(patterns, '化工厂爆炸，化工厂')).toEqual(naive(patterns, '化工厂爆炸，化工厂'));
    expect(scanned(patterns, '化工厂爆炸')).toEqual(['0@2', '1@3', '2@3', '3@3', '4@5'].sort());
  });

  it('reports occurrences in order of their end', () => {
    const ends: number[] = [];
    new AhoCorasick(['ab', 'b', 'abc', 'c']).scan('xabcabc', (_, end) => ends.push(end));
    expect(ends).toEqual([...ends].sort((a, b) => a - b));
  });

  it('handles surrogate pairs, states with many children, and characters in no pattern', () => {
    const wide = Array.from({ length: 200 }, (_, i) => `中${String.fromCharCode(0x4e00 + i)}`);
    const patterns = [...wide, '🙂爆', '国中一'];
    const text = `中一中丁中国中一🙂爆炸${'中'.repeat(5)}一x中`;
    expect(scanned(patterns, text)).toEqual(naive(patterns, text));
  });

  it('agrees with brute force on random texts over a small alphabet', () => {
    let seed = 42;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 16) % n;
    };
    const alphabet = '武汉爆炸工厂化';
    const word = (max: number): string => Array.from({ length: 1 + rand(max) }, () => alphabet[rand(alphabet.length)]).join('');
    for (let round = 0; round < 50; round++) {
      const patterns = [...new Set(Array.from({ length: 1 + rand(30) }, () => word(4)))];
      const text = word(200);
      expect(scanned(patterns, text)).toEqual(naive(patterns, text));
    }
  });

  it('never reports an empty pattern, and knows pattern lengths', () => {
    const automaton = new AhoCorasick(['', '爆炸']);
    const found: number[] = [];
    automaton.scan('爆炸', (pattern) => found.push(pattern));
    expect(found).toEqual([1]);
    expect([automaton.patternCount, automaton.patternLength(1)]).toEqual([2, 2]);
  });
});
