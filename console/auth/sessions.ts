import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../core/atomic-write';

/**
 * Sessions without a session table: the cookie holds a token signed with HMAC-SHA256 under a key
 * kept in `<data_dir>/console/session.key` (made 0600 on first start). The token names the user,
 * the user's session generation, a random session id, and an expiry that slides forward with use
 * (`console.session_hours` of inactivity ends it). Verification also checks the user file, so a
 * disabled user or a changed password (the generation moved on) ends every session at once.
 *
 * The CSRF token is HMAC(key, session id): unguessable without the key, the same for the whole
 * session (also after the cookie is re-issued), and needing no state or second cookie, which is
 * why @fastify/csrf-protection (which wants a session store or a double-submit cookie) is not used.
 *
 * Signing out revokes the session id until its token would have expired anyway. The list is kept
 * in a file beside the key (when given one), so a signed-out token copied beforehand stays dead
 * across restarts.
 */

export const SESSION_COOKIE = 'sb_session';

/** Signed-out session ids → when their tokens expire anyway (ms). */
const RevokedFile = z.record(z.string(), z.number());

const Claims = z.strictObject({
  v: z.literal(1),
  /** User name. */
  u: z.string(),
  /** The user's session generation when issued. */
  g: z.number().int(),
  /** Session id: stays the same when the cookie is re-issued. */
  s: z.string(),
  /** Issued (ms). */
  iat: z.number(),
  /** Expires (ms). */
  exp: z.number(),
});
export type SessionClaims = z.output<typeof Claims>;

export class SessionKeeper {
  readonly #key: Buffer;
  readonly #ttlMs: number;
  /** Signed-out session ids → when their tokens expire anyway. */
  readonly #revoked = new Map<string, number>();
  readonly #revokedFile: string | undefined;

  constructor(key: Buffer, options: { ttlMs: number; /** Keeps sign-outs across restarts. */ revokedFile?: string }) {
    this.#key = key;
    this.#ttlMs = options.ttlMs;
    this.#revokedFile = options.revokedFile;
    if (this.#revokedFile) {
      try {
        for (const [sid, exp] of Object.entries(RevokedFile.parse(JSON.parse(readFileSync(this.#revokedFile, 'utf8'))))) this.#revoked.set(sid, exp);
      } catch (err) {
        // A missing file is the first start; a damaged one only loses sign-outs, not sessions' safety otherwise.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.#revoked.clear();
      }
    }
  }

  /** Reads the key from `<dir>/session.key`, creating it (32 random bytes, mode 0600) the first time. */
  static keyFile(dir: string): Buffer {
    const file = join(dir, 'session.key');
    try {
      return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const key = randomBytes(32);
    try {
      // 'wx': if another process made it meanwhile, use theirs.
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, key.toString('base64url'));
      closeSync(fd);
      return key;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
      throw err;
    }
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }

  /** A new session (fresh id) or, with `sid`, the same session under a new expiry or generation. */
  issue(user: { name: string; generation: number }, now: number, sid: string = randomBytes(16).toString('base64url')): { token: string; claims: SessionClaims } {
    const claims: SessionClaims = { v: 1, u: user.name, g: user.generation, s: sid, iat: now, exp: now + this.#ttlMs };
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return { token: `${body}.${this.#mac(body)}`, claims };
  }

  /** The claims of a well-signed, unexpired, not signed-out token; otherwise undefined. The caller checks the user. */
  verify(token: string | undefined, now: number): SessionClaims | undefined {
    if (!token) return undefined;
    const [body, mac, extra] = token.split('.');
    if (!body || !mac || extra !== undefined || !same(this.#mac(body), mac)) return undefined;
    let claims: SessionClaims;
    try {
      claims = Claims.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
    } catch {
      return undefined;
    }
    if (claims.exp <= now || this.#revoked.has(claims.s)) return undefined;
    return claims;
  }

  csrfToken(sid: string): string {
    return this.#mac(`csrf:${sid}`);
  }

  checkCsrf(sid: string, header: string | undefined): boolean {
    return header !== undefined && same(this.csrfToken(sid), header);
  }

  revoke(claims: SessionClaims, now: number): void {
    for (const [sid, exp] of this.#revoked) if (exp <= now) this.#revoked.delete(sid);
    this.#revoked.set(claims.s, now + this.#ttlMs);
    if (this.#revokedFile) writeFileAtomic(this.#revokedFile, JSON.stringify(Object.fromEntries(this.#revoked)), { mode: 0o600 });
  }

  #mac(text: string): string {
    return createHmac('sha256', this.#key).update(text).digest('base64url');
  }
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
