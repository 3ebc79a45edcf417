import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, isRetriable, ShaobingError } from '../../core/errors';
import { PROJECT_ROOT } from '../support/cli';

describe('error codes', () => {
  it('docs/errors.md lists exactly the codes of core/errors.ts, with the same retriable flag', () => {
    const doc = readFileSync(join(PROJECT_ROOT, 'docs/errors.md'), 'utf8');
    const documented = Object.fromEntries([...doc.matchAll(/^\| `(SB_[A-Z_]+)` \| (yes|no) \|/gm)].map((m) => [m[1], m[2] === 'yes']));
    const defined = Object.fromEntries(Object.entries(ERROR_CODES).map(([code, e]) => [code, e.retriable]));
    expect(documented).toEqual(defined);
  });

  it('never retries programming errors, and follows the code otherwise', () => {
    expect(isRetriable(new TypeError('x'))).toBe(false);
    expect(isRetriable(new ShaobingError('SB_STORE_UNAVAILABLE', 'down'))).toBe(true);
    expect(isRetriable(new ShaobingError('SB_STORE_REJECTED', 'bad mapping'))).toBe(false);
    expect(isRetriable(new ShaobingError('SB_STORE_UNAVAILABLE', 'auth failed', { retriable: false }))).toBe(false);
  });
});
