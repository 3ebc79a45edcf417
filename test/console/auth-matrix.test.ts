import { CONSOLE_ROLES, type ConsoleRole } from '../../console/context';
import { type ConsoleClient, startConsole, type TestConsole } from './helpers';

/**
 * Every route registered under /api, whoever registered it, walked from the server's own route
 * table: without a session it answers 401 (unless public); a role the route does not list gets
 * 403; a state change without the CSRF header gets 403 even for an allowed role. The checks run
 * before the handler, so placeholder ids and empty bodies are enough.
 */

/** A concrete path for a route pattern: `:id` → a placeholder, `:ext(html|pdf)` → its first choice. */
function concrete(url: string): string {
  return url
    .replace(/:(\w+)(\(([^)]*)\))?/g, (_m, _name: string, _group: string, pattern: string | undefined) =>
      pattern ? pattern.replace(/[\^$\\]/g, '').split('|')[0]! : '0123456789abcdef',
    )
    .replace(/\*$/, 'placeholder');
}

describe('console authorisation matrix', () => {
  let c: TestConsole;
  const clients = {} as Record<ConsoleRole, ConsoleClient>;
  beforeAll(async () => {
    c = await startConsole({ users: CONSOLE_ROLES.map((role) => ({ name: `u-${role}`, role })) });
    for (const role of CONSOLE_ROLES) clients[role] = await c.login(`u-${role}`);
  });
  afterAll(() => c.close());

  const routes = () => c.routes.filter((r) => r.method !== 'HEAD');

  it('finds the routes, some of them restricted', () => {
    const names = routes().map((r) => `${r.method} ${r.url}`);
    for (const core of ['POST /api/session', 'GET /api/session', 'GET /api/users', 'PATCH /api/users/:name', 'GET /api/audit', 'GET /api/alerts', 'POST /api/alerts/:id/actions']) {
      expect(names).toContain(core);
    }
    expect(routes().filter((r) => r.roles).length).toBeGreaterThanOrEqual(4);
    expect(routes().find((r) => r.url === '/api/users')?.roles).toEqual(['admin']);
  });

  it('answers 401 without a session on every route that is not public', async () => {
    const failures: string[] = [];
    for (const route of routes().filter((r) => !r.public)) {
      const response = await c.anonymous().request(route.method, concrete(route.url), route.method === 'GET' || route.method === 'DELETE' ? undefined : {});
      if (response.status !== 401 || response.body.code !== 'SB_CONSOLE_UNAUTHENTICATED') failures.push(`${route.method} ${route.url} → ${response.status}`);
    }
    expect(failures).toEqual([]);
  });

  it('answers 403 SB_CONSOLE_FORBIDDEN to every role a route does not allow', async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const route of routes().filter((r) => r.roles)) {
      for (const role of CONSOLE_ROLES.filter((r) => !route.roles!.includes(r))) {
        checked++;
        const response = await clients[role].request(route.method, concrete(route.url), route.method === 'GET' || route.method === 'DELETE' ? undefined : {});
        if (response.status !== 403 || response.body.code !== 'SB_CONSOLE_FORBIDDEN') failures.push(`${role}: ${route.method} ${route.url} → ${response.status} ${response.body.code}`);
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(0);
  });

  it('answers 403 SB_CONSOLE_CSRF to an allowed role that changes state without the token', async () => {
    const failures: string[] = [];
    for (const route of routes().filter((r) => !r.public && r.method !== 'GET')) {
      const role = route.roles?.[0] ?? 'duty';
      const response = await clients[role].request(route.method, concrete(route.url), route.method === 'DELETE' ? undefined : {}, { csrf: false });
      if (response.status !== 403 || response.body.code !== 'SB_CONSOLE_CSRF') failures.push(`${route.method} ${route.url} → ${response.status}`);
    }
    expect(failures).toEqual([]);
  });

  it('answers unknown /api paths with a JSON 404 once signed in', async () => {
    const response = await clients.admin.get('/api/no-such-thing');
    expect(response).toMatchObject({ status: 404, body: { code: 'SB_CONSOLE_NOT_FOUND' } });
  });
});
