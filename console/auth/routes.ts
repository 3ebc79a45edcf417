import { z } from 'zod';
import { projectVersion } from '../../core/paths';
import type { ConsoleApi } from '../context';
import { ConsoleError, parseInput, userOf } from '../request';
import { consoleUser } from './index';
import type { SessionClaims } from './sessions';
import { verifyPassword } from './passwords';
import { LANGUAGE, PASSWORD, type StoredUser } from './users';

/**
 * Signing in and out, the signed-in user's own settings, and the settings the sign-in page needs.
 * A failed sign-in says only that it failed (not whether the name exists), counts against both
 * the name and the address, and is audited; so are sign-in, sign-out and password changes.
 */

const SignIn = z.strictObject({ name: z.string().min(1).max(64), password: z.string().min(1).max(1024) });
const PasswordChange = z.strictObject({ current: z.string().min(1).max(1024), new: PASSWORD });
const Preferences = z.strictObject({ language: LANGUAGE });

export const sessionApi: ConsoleApi = async (app, services) => {
  const auth = app.consoleAuth;
  const version = projectVersion();
  const now = () => services.now().getTime();

  const sessionBody = (user: StoredUser, claims: SessionClaims) => ({
    user: { ...consoleUser(user), ...(user.language ? { language: user.language } : {}) },
    csrf_token: auth.sessions.csrfToken(claims.s),
  });

  app.get('/settings', { config: { public: true } }, async () => ({
    language: services.config.console.language,
    time_zone: services.config.console.time_zone,
    version,
  }));

  app.post('/session', { config: { public: true } }, async (request, reply) => {
    const body = parseInput(SignIn, request.body, 'body');
    const at = now();
    const keys = [`name:${body.name.toLowerCase()}`, `ip:${request.ip}`];
    const wait = auth.limiter.retryAfterSeconds(keys, at);
    if (wait > 0) {
      throw new ConsoleError('SB_CONSOLE_RATE_LIMITED', `too many failed sign-ins; try again in ${wait} s`, { details: { retry_after_seconds: wait } });
    }
    const user = auth.users.find(body.name);
    const matches = await verifyPassword(user?.password_hash, body.password);
    if (!user || !matches || user.disabled) {
      auth.limiter.fail(keys, at);
      await services.audit({
        user: body.name,
        action: 'session.signin_failed',
        target: `user:${body.name}`,
        note: !user ? 'unknown user' : user.disabled && matches ? 'user disabled' : 'wrong password',
        ip: request.ip,
      });
      throw new ConsoleError('SB_CONSOLE_SIGNIN_FAILED', 'wrong user name or password, or the user is disabled');
    }
    auth.limiter.reset(keys[0]!);
    const claims = auth.signIn(reply, user, at);
    await services.audit({ user: user.name, action: 'session.signin', target: `user:${user.name}`, ip: request.ip });
    return sessionBody(user, claims);
  });

  app.get('/session', async (request) => {
    const user = auth.users.find(userOf(request).name)!;
    return sessionBody(user, request.consoleSession!);
  });

  app.delete('/session', async (request, reply) => {
    const user = userOf(request);
    auth.signOut(reply, request.consoleSession, now());
    await services.audit({ user: user.name, action: 'session.signout', target: `user:${user.name}`, ip: request.ip });
    return reply.code(204).send();
  });

  app.put('/me/password', async (request, reply) => {
    const body = parseInput(PasswordChange, request.body, 'body');
    const me = userOf(request);
    const at = now();
    const key = `name:${me.name.toLowerCase()}`;
    const wait = auth.limiter.retryAfterSeconds([key], at);
    if (wait > 0) throw new ConsoleError('SB_CONSOLE_RATE_LIMITED', `too many wrong passwords; try again in ${wait} s`, { details: { retry_after_seconds: wait } });
    if (!(await verifyPassword(auth.users.find(me.name)?.password_hash, body.current))) {
      auth.limiter.fail([key], at);
      throw new ConsoleError('SB_CONSOLE_BAD_REQUEST', 'body.current: the current password is wrong');
    }
    const { user } = await auth.users.update(me.name, { password: body.new }, services.now().toISOString());
    // Every other session of this user ends (the generation moved on); this one continues.
    const claims = auth.signIn(reply, user, at, request.consoleSession!.s);
    await services.audit({ user: me.name, action: 'user.password', target: `user:${me.name}`, after: { sessions_revoked: true }, ip: request.ip });
    return sessionBody(user, claims);
  });

  app.put('/me/preferences', async (request) => {
    const body = parseInput(Preferences, request.body, 'body');
    const me = userOf(request);
    const { before, after, user } = await auth.users.update(me.name, { language: body.language }, services.now().toISOString());
    await services.audit({ user: me.name, action: 'user.preferences', target: `user:${me.name}`, before: { language: before.language }, after: { language: after.language }, ip: request.ip });
    return sessionBody(user, request.consoleSession!);
  });
};
