import Fastify from 'fastify';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../core/logger';
import { SessionKeeper } from '../../console/auth/sessions';
import { UserDirectory } from '../../console/auth/users';
import { consolePaths } from '../../console/paths';
import { createConsoleRole } from '../../console/role';
import { removeDataDir, storeFor, testConfig } from '../support/backends';
import { passwordOf, startConsole, type TestConsole } from './helpers';

function cookieLine(headers: Headers): string {
  return headers.getSetCookie().find((l) => l.startsWith('sb_session=')) ?? '';
}

describe('console sign-in and sessions', () => {
  let clock = Date.parse('2026-03-05T02:00:00Z');
  let c: TestConsole;
  beforeAll(async () => {
    c = await startConsole({
      users: [
        { name: 'ana', role: 'analyst', display_name: '分析员 安娜' },
        { name: 'duo', role: 'duty' },
        { name: 'ada', role: 'admin' },
        { name: 'off', role: 'duty', disabled: true },
      ],
      config: { console: { session_hours: 1, login_rate_limit: { max: 50, window_minutes: 1 } } },
      now: () => new Date(clock),
    });
  });
  afterAll(() => c.close());

  it('signs in with the right password: the user, a CSRF token, and an HttpOnly SameSite=Strict cookie (not Secure over http)', async () => {
    const client = c.anonymous();
    const response = await client.signIn('ana', passwordOf('ana'));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ user: { name: 'ana', role: 'analyst', display_name: '分析员 安娜' }, csrf_token: expect.stringMatching(/^[\w-]{40,}$/) });
    const cookie = cookieLine(response.headers);
    expect(cookie).toMatch(/^sb_session=[\w-]+\.[\w-]+;/);
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Strict/i);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/; Secure/i);
    const session = await client.get('/api/session');
    expect(session.status).toBe(200);
    expect(session.body.csrf_token).toBe(response.body.csrf_token);
  });

  it('refuses a wrong password, an unknown user and a disabled user alike, with 401 SB_CONSOLE_SIGNIN_FAILED', async () => {
    const cases: Array<[string, string]> = [['ana', 'wrong-password'], ['nobody', 'whatever-1234'], ['off', passwordOf('off')]];
    for (const [name, password] of cases) {
      const client = c.anonymous();
      const response = await client.signIn(name, password);
      expect(response.status).toBe(401);
      expect(response.body.code).toBe('SB_CONSOLE_SIGNIN_FAILED');
      expect(response.body.message).toBe('wrong user name or password, or the user is disabled');
      expect(cookieLine(response.headers)).toBe('');
      expect((await client.get('/api/session')).status).toBe(401);
    }
  });

  it('answers 401 SB_CONSOLE_UNAUTHENTICATED without a session, and for a forged or tampered cookie', async () => {
    const anonymous = await c.anonymous().get('/api/alerts');
    expect(anonymous).toMatchObject({ status: 401, body: { code: 'SB_CONSOLE_UNAUTHENTICATED' } });
    const ana = await c.login('ana');
    const [body, mac] = ana.cookie!.slice('sb_session='.length).split('.');
    const claims = JSON.parse(Buffer.from(body!, 'base64url').toString('utf8'));
    const forged = Buffer.from(JSON.stringify({ ...claims, u: 'ada' })).toString('base64url');
    const response = await c.anonymous().get('/api/session', { headers: { cookie: `sb_session=${forged}.${mac}` } });
    expect(response.status).toBe(401);
  });

  it('rejects a state change without the CSRF header, or with a wrong one: 403 SB_CONSOLE_CSRF', async () => {
    const ana = await c.login('ana');
    const missing = await ana.put('/api/me/preferences', { language: 'en' }, { csrf: false });
    expect(missing).toMatchObject({ status: 403, body: { code: 'SB_CONSOLE_CSRF' } });
    const wrong = await ana.put('/api/me/preferences', { language: 'en' }, { csrf: false, headers: { 'x-csrf-token': 'A'.repeat(43) } });
    expect(wrong).toMatchObject({ status: 403, body: { code: 'SB_CONSOLE_CSRF' } });
    // Another session's token does not fit this one.
    const other = await c.login('ana');
    const foreign = await ana.put('/api/me/preferences', { language: 'en' }, { csrf: false, headers: { 'x-csrf-token': other.csrfToken! } });
    expect(foreign.status).toBe(403);
    const ok = await ana.put('/api/me/preferences', { language: 'en' });
    expect(ok.status).toBe(200);
    expect(ok.body.user.language).toBe('en');
  });

  it('names the bad field of a malformed request: 400 SB_CONSOLE_BAD_REQUEST', async () => {
    const response = await c.anonymous().post('/api/session', { name: 'ana' });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'SB_CONSOLE_BAD_REQUEST', message: expect.stringContaining('body.password') });
    const notJson = await c.anonymous().fetch('/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { code: string }).code).toBe('SB_CONSOLE_BAD_REQUEST');
  });

  it('signs out: the cookie is cleared and the old token no longer works', async () => {
    const duo = await c.login('duo');
    const token = duo.cookie!;
    const out = await duo.delete('/api/session');
    expect(out.status).toBe(204);
    expect(duo.cookie).toBeUndefined();
    expect((await c.anonymous().get('/api/session', { headers: { cookie: token } })).status).toBe(401);
  });

  it('remembers a sign-out across a restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-sessions-'));
    const options = { ttlMs: 3_600_000, revokedFile: join(dir, 'revoked-sessions.json') };
    const before = new SessionKeeper(SessionKeeper.keyFile(dir), options);
    const { token, claims } = before.issue({ name: 'duo', generation: 0 }, clock);
    const other = before.issue({ name: 'duo', generation: 0 }, clock).token;
    before.revoke(claims, clock);
    const after = new SessionKeeper(SessionKeeper.keyFile(dir), options);
    expect(after.verify(token, clock + 1000)).toBeUndefined();
    expect(after.verify(other, clock + 1000)).toMatchObject({ u: 'duo' });
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends a session after session_hours without activity, and slides the expiry while it is used', async () => {
    const duo = await c.login('duo');
    clock += 50 * 60_000;
    expect((await duo.get('/api/session')).status).toBe(200);
    clock += 50 * 60_000; // 100 minutes after sign-in, 50 after the last use
    expect((await duo.get('/api/session')).status).toBe(200);
    clock += 61 * 60_000;
    expect((await duo.get('/api/session')).status).toBe(401);
  });

  it('a password change ends the user’s other sessions and keeps this one', async () => {
    const phone = await c.login('duo');
    const laptop = await c.login('duo');
    const changed = await laptop.put('/api/me/password', { current: passwordOf('duo'), new: 'a-new-password-2' });
    expect(changed.status).toBe(200);
    expect(changed.body.csrf_token).toBe(laptop.csrfToken);
    expect((await laptop.get('/api/session')).status).toBe(200);
    expect((await phone.get('/api/session')).status).toBe(401);
    expect((await c.anonymous().signIn('duo', passwordOf('duo'))).status).toBe(401);
    expect((await c.anonymous().signIn('duo', 'a-new-password-2')).status).toBe(200);
    const wrongCurrent = await laptop.put('/api/me/password', { current: 'not-it-at-all', new: 'another-password-3' });
    expect(wrongCurrent).toMatchObject({ status: 400, body: { code: 'SB_CONSOLE_BAD_REQUEST' } });
    const tooShort = await laptop.put('/api/me/password', { current: 'a-new-password-2', new: 'short' });
    expect(tooShort.body.message).toMatch(/^body\.new:/);
  });

  it('disabling a user ends their sessions at once', async () => {
    await c.addUser({ name: 'tmp', role: 'duty' });
    const tmp = await c.login('tmp');
    const ada = await c.login('ada');
    expect((await ada.patch('/api/users/tmp', { disabled: true })).status).toBe(200);
    expect((await tmp.get('/api/session')).status).toBe(401);
    expect((await c.anonymous().signIn('tmp', passwordOf('tmp'))).status).toBe(401);
  });

  it('sends the security headers on the API and the page', async () => {
    for (const path of ['/api/settings', '/']) {
      const response = await c.anonymous().fetch(path);
      expect(response.status).toBe(200);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('strict-transport-security')).toBeNull();
    }
    const settings = await c.anonymous().get('/api/settings');
    expect(settings.body).toEqual({ language: 'zh-CN', time_zone: 'Asia/Shanghai', version: expect.any(String) });
  });

  it('keeps its session key 0600 in the data dir, and audits sign-in, failures and sign-out without secrets', async () => {
    expect(statSync(join(c.config.data_dir, 'console', 'session.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(c.config.data_dir, 'console', 'users.json')).mode & 0o777).toBe(0o600);
    await c.store.refresh();
    const { items } = await c.store.searchAudit({ size: 1000 });
    const actions = new Set(items.map((e) => e.action));
    for (const action of ['session.signin', 'session.signin_failed', 'session.signout', 'user.password', 'user.preferences', 'user.update']) {
      expect(actions).toContain(action);
    }
    expect(items.find((e) => e.action === 'session.signin_failed' && e.user === 'nobody')).toMatchObject({ target: 'user:nobody', note: 'unknown user', ip: '127.0.0.1' });
    const all = JSON.stringify(items);
    expect(all).not.toContain('$argon2');
    expect(all).not.toContain(passwordOf('ana'));
    expect(all).not.toContain('a-new-password-2');
  });
});

describe('console sign-in limits', () => {
  let c: TestConsole;
  beforeAll(async () => {
    c = await startConsole({
      users: [{ name: 'ana', role: 'analyst' }, { name: 'bob', role: 'duty' }],
      config: { console: { public_url: 'https://console.example.cn/', login_rate_limit: { max: 3, window_minutes: 10 } } },
    });
  });
  afterAll(() => c.close());

  it('marks the cookie Secure and sends HSTS when the public URL is https', async () => {
    const response = await c.anonymous().signIn('bob', passwordOf('bob'));
    expect(cookieLine(response.headers)).toMatch(/; Secure/i);
    expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
  });

  it('refuses a user name after max failures, even with the right password, with 429 and Retry-After', async () => {
    for (let i = 0; i < 3; i++) expect((await c.anonymous().signIn('ana', `wrong-${i}-password`)).status).toBe(401);
    const limited = await c.anonymous().signIn('ana', passwordOf('ana'));
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('SB_CONSOLE_RATE_LIMITED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(500);
    expect(retryAfter).toBeLessThanOrEqual(600);
  });

  it('counts failures per address too: the same address is then refused for other names', async () => {
    // ana's 3 failures came from 127.0.0.1 as well.
    const response = await c.anonymous().signIn('bob', passwordOf('bob'));
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('console sign-in behind a reverse proxy (http.trust_proxy)', () => {
  let c: TestConsole;
  beforeAll(async () => {
    c = await startConsole({
      users: [{ name: 'ana', role: 'analyst' }],
      config: { http: { trust_proxy: ['127.0.0.1'] }, console: { login_rate_limit: { max: 2, window_minutes: 10 } } },
    });
  }, 120_000);
  afterAll(() => c.close());

  it('limits and audits by the forwarded client address, not the proxy’s', async () => {
    const from = (ip: string) => ({ 'x-forwarded-for': ip, 'content-type': 'application/json' });
    const signIn = (ip: string, name: string, password: string) =>
      c.anonymous().fetch('/api/session', { method: 'POST', headers: from(ip), body: JSON.stringify({ name, password }) });
    for (const name of ['x1', 'x2']) expect((await signIn('203.0.113.7', name, 'wrong-password-1')).status).toBe(401);
    expect((await signIn('203.0.113.7', 'ana', passwordOf('ana'))).status).toBe(429);
    expect((await signIn('198.51.100.9', 'ana', passwordOf('ana'))).status).toBe(200);
    await c.store.refresh();
    const failures = await c.store.searchAudit({ action: ['session.signin_failed'] });
    expect(failures.items.map((e) => e.ip)).toEqual(['203.0.113.7', '203.0.113.7']);
  });
});

describe('console role lifecycle', () => {
  it('answers 503 SB_CONSOLE_STARTING until started, ends live streams on stop, and stops safely twice', async () => {
    const config = testConfig('embedded');
    const store = storeFor(config);
    await new UserDirectory(consolePaths(config).usersFile).add({ name: 'ana', role: 'analyst', password: passwordOf('ana') }, new Date().toISOString());
    const http = Fastify();
    const role = createConsoleRole({ config, store, log: silentLogger, http, bus: undefined as never, metrics: undefined as never });
    const url = await http.listen({ host: '127.0.0.1', port: 0 });
    const settings = () => fetch(`${url}/api/settings`);
    const before = await settings();
    expect(before.status).toBe(503);
    expect(await before.json()).toMatchObject({ code: 'SB_CONSOLE_STARTING' });
    await role.start();
    expect(role.health().ready).toBe(true);
    expect((await settings()).status).toBe(200);
    const signIn = await fetch(`${url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ana', password: passwordOf('ana') }) });
    const cookie = signIn.headers.getSetCookie()[0]!.split(';')[0]!;
    const stream = await fetch(`${url}/api/alerts/stream`, { headers: { cookie } });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain(': connected');
    await Promise.all([role.stop(), role.stop()]);
    // The stream ends with the role, so the server can close.
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read());
    await role.stop();
    expect((await settings()).status).toBe(503);
    await http.close();
    await store.close();
    removeDataDir(config);
  });
});
