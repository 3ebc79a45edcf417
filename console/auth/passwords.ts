import { hash, verify } from '@node-rs/argon2';

/**
 * Passwords are kept as argon2id PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$…`): the library's
 * default algorithm and OWASP's minimum parameters, about 30 ms per hash on one core. The
 * parameters travel inside each string, so raising them later leaves old hashes verifiable.
 */

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

/** A hash of nothing anyone knows, verified when the user does not exist so that timing does not tell. */
let decoy: Promise<string> | undefined;

/** Whether `password` matches `stored`; a missing or malformed hash never matches, and costs the same. */
export async function verifyPassword(stored: string | undefined, password: string): Promise<boolean> {
  if (!stored) {
    await verify(await (decoy ??= hash('shaobing-decoy-password')), password).catch(() => false);
    return false;
  }
  return verify(stored, password).catch(() => false);
}
