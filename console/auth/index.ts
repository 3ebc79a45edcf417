import { join } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../core/config';
import type { Logger } from '../../core/logger';
import type { ConsolePaths, ConsoleUser } from '../context';
import { FailureLimiter } from './limiter';
import { SESSION_COOKIE, SessionKeeper, type SessionClaims } from './sessions';
import { type StoredUser, UserDirectory } from './users';

/**
 * Who is calling: the users file, the session tokens and the sign-in limiter, shared by the
 * console's hooks (every /api request) and its session and user routes.
 */

declare module 'fastify' {
  interface FastifyInstance {
    consoleAuth: ConsoleAuth;
  }
  interface FastifyRequest {
    /** The verified session of the signed-in user, beside `user`. */
    consoleSession?: SessionClaims;
  }
}

export interface Session {
  user: ConsoleUser;
  claims: SessionClaims;
}

/** Re-issue the cookie (sliding the idle expiry) at most this often. */
const REFRESH_AFTER_MS = 60_000;

export class ConsoleAuth {
  readonly users: UserDirectory;
  readonly sessions: SessionKeeper;
  readonly limiter: FailureLimiter;
  readonly #secure: boolean;

  constructor(options: { config: Config; paths: ConsolePaths; log: Logger }) {
    const settings = options.config.console;
    this.users = new UserDirectory(options.paths.usersFile, { log: options.log });
    this.sessions = new SessionKeeper(SessionKeeper.keyFile(options.paths.stateDir), {
      ttlMs: settings.session_hours * 3_600_000,
      revokedFile: join(options.paths.stateDir, 'revoked-sessions.json'),
    });
    this.limiter = new FailureLimiter({ max: settings.login_rate_limit.max, windowMs: settings.login_rate_limit.window_minutes * 60_000 });
    this.#secure = settings.public_url?.startsWith('https:') ?? false;
  }

  /** The session the request's cookie proves, checked against the users file as it is now. */
  authenticate(request: FastifyRequest, now: number): Session | undefined {
    const claims = this.sessions.verify(request.cookies[SESSION_COOKIE], now);
    if (!claims) return undefined;
    const user = this.users.find(claims.u);
    if (!user || user.disabled || user.generation !== claims.g) return undefined;
    return { user: consoleUser(user), claims };
  }

  /** Starts a session, or continues `sid` under the user's current generation (after their own password change). */
  signIn(reply: FastifyReply, user: StoredUser, now: number, sid?: string): SessionClaims {
    const { token, claims } = this.sessions.issue({ name: user.name, generation: user.generation }, now, sid);
    this.#setCookie(reply, token);
    return claims;
  }

  /** Slides the idle expiry forward on use. */
  touch(reply: FastifyReply, session: Session, now: number): void {
    if (now - session.claims.iat < REFRESH_AFTER_MS) return;
    const { token } = this.sessions.issue({ name: session.claims.u, generation: session.claims.g }, now, session.claims.s);
    this.#setCookie(reply, token);
  }

  signOut(reply: FastifyReply, claims: SessionClaims | undefined, now: number): void {
    if (claims) this.sessions.revoke(claims, now);
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: this.#secure });
  }

  #setCookie(reply: FastifyReply, token: string): void {
    reply.setCookie(SESSION_COOKIE, token, {
      path: '/',
      httpOnly: true,
      sameSite: 'strict',
      secure: this.#secure,
      maxAge: Math.floor(this.sessions.ttlMs / 1000),
    });
  }
}

export function consoleUser(user: StoredUser): ConsoleUser {
  return { name: user.name, role: user.role, ...(user.display_name ? { display_name: user.display_name } : {}) };
}
