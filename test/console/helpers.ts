/**
 * A real console for tests: a daemon running only the `console` role, its fastify server on
 * 127.0.0.1 (a free port), on a temporary data dir, with the users you ask for.
 *
 *   const c = await startConsole({
 *     users: [{ name: 'ana', role: 'analyst' }],   // password defaults to passwordOf(name)
 *     rules: [topicFile],                           // rules.paths (files or folders); default none
 *     topics: { 'safety.yaml': yamlText },          // or: topic files written to c.topicsDir (in the data dir)
 *     backend: 'embedded',                          // or 'real' (Kafka + OpenSearch from the global setup)
 *     config: { console: { session_hours: 1 } },   // deep-merged over the test config
 *   });
 *   const ana = await c.login('ana');               // signs in through POST /api/session
 *   const res = await ana.get<{ total: number }>('/api/alerts');   // → { status, headers, body }
 *   await ana.post('/api/alerts/x/actions', { action: 'acknowledge', version: '1' });
 *   c.anonymous().get('/api/session');              // a client with no cookie
 *   await c.close();                                // stops the daemon, removes the data dir
 *
 * Clients keep the `sb_session` cookie (also when the server re-issues it) and send the session's
 * `x-csrf-token` on every request but GET/HEAD; `{ csrf: false }` or `{ headers }` override that.
 * Bodies are parsed as JSON when the response says so, else left as text. `client.fetch` is the
 * raw fetch with the cookie, for streams and downloads.
 *
 * `c.services` is what the routes get (store, rules, audit, paths, now); `c.store` the same store;
 * `c.routes` every /api route with its `config.roles` (the authorisation test walks it);
 * `c.addUser()` adds a user while running, as `shaobing user add` would.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigSchema, type Config } from '../../core/config';
import { silentLogger } from '../../core/logger';
import { ROLE_FACTORIES } from '../../daemon/available-roles';
import { createDaemon, type Daemon } from '../../daemon/daemon';
import type { RoleName } from '../../daemon/roles';
import { UserDirectory } from '../../console/auth/users';
import type { ConsoleRole, ConsoleServices } from '../../console/context';
import { consolePaths } from '../../console/paths';
import type { ConsoleRoute } from '../../console/plugin';
import { type ConsoleRoleHandle, createConsoleRole } from '../../console/role';
import type { Store } from '../../store/types';
import { type BackendKind, testConfig } from '../support/backends';

export interface TestUser {
  name: string;
  role: ConsoleRole;
  /** Default passwordOf(name). */
  password?: string;
  display_name?: string;
  disabled?: boolean;
}

export interface StartConsoleOptions {
  users?: TestUser[];
  /** Topic files or folders (rules.paths). */
  rules?: string[];
  /** Topic files to write (name → YAML) into `topicsDir`, which is then added to rules.paths. */
  topics?: Record<string, string>;
  backend?: BackendKind;
  /** Deep-merged over the test config (objects merge, arrays and values replace). */
  config?: Record<string, unknown>;
  /** The console's clock; default the wall clock. */
  now?: () => Date;
  /** Live feed poll interval; default 2000 ms like production. */
  pollMs?: number;
  /** Roles to run beside the console (collector, pipeline…), from the daemon's own factories; default none. */
  withRoles?: Exclude<RoleName, 'console'>[];
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Send the session's CSRF token; default true (ignored on GET/HEAD). */
  csrf?: boolean;
}

export interface ConsoleClient {
  /** Set once signed in. */
  readonly user: { name: string; role: ConsoleRole; display_name?: string } | undefined;
  readonly csrfToken: string | undefined;
  /** The raw `sb_session=…` pair, or undefined. */
  readonly cookie: string | undefined;
  request<T = any>(method: string, path: string, body?: unknown, options?: RequestOptions): Promise<ApiResponse<T>>;
  get<T = any>(path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  post<T = any>(path: string, body?: unknown, options?: RequestOptions): Promise<ApiResponse<T>>;
  put<T = any>(path: string, body?: unknown, options?: RequestOptions): Promise<ApiResponse<T>>;
  patch<T = any>(path: string, body?: unknown, options?: RequestOptions): Promise<ApiResponse<T>>;
  delete<T = any>(path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** POST /api/session; on 200 the client keeps the session. */
  signIn(name: string, password: string): Promise<ApiResponse>;
}

export interface TestConsole {
  url: string;
  config: Config;
  services: ConsoleServices;
  store: Store;
  routes: readonly ConsoleRoute[];
  /** Where `topics` were written (removed with the data dir). */
  topicsDir: string;
  login(name: string, password?: string): Promise<ConsoleClient>;
  anonymous(): ConsoleClient;
  addUser(user: TestUser): Promise<void>;
  close(): Promise<void>;
}

export function passwordOf(name: string): string {
  return `${name}-pass-1234`;
}

export async function startConsole(options: StartConsoleOptions = {}): Promise<TestConsole> {
  const base = testConfig(options.backend ?? 'embedded');
  const topicsDir = join(base.data_dir, 'topics');
  mkdirSync(topicsDir, { recursive: true });
  for (const [name, text] of Object.entries(options.topics ?? {})) writeFileSync(join(topicsDir, name), text);
  const config = ConfigSchema.parse(
    merge(merge(base as unknown as Record<string, unknown>, {
      http: { host: '127.0.0.1', port: 0 },
      rules: { paths: [...(options.rules ?? []), ...(options.topics ? [topicsDir] : [])] },
      // Scheduled briefings start Chromium at once (a catch-up); tests that want them turn them on.
      console: { briefings: { daily: { enabled: false }, weekly: { enabled: false } } },
    }), options.config ?? {}),
  );
  const users = new UserDirectory(consolePaths(config).usersFile);
  const addUser = async (user: TestUser) => {
    const at = new Date().toISOString();
    await users.add({ name: user.name, role: user.role, password: user.password ?? passwordOf(user.name), ...(user.display_name ? { display_name: user.display_name } : {}) }, at);
    if (user.disabled) await users.update(user.name, { disabled: true }, at);
  };
  for (const user of options.users ?? []) await addUser(user);

  let role: ConsoleRoleHandle | undefined;
  const daemon: Daemon = createDaemon({
    config,
    log: silentLogger,
    roles: ['console', ...(options.withRoles ?? [])],
    factories: {
      ...ROLE_FACTORIES,
      console: (context) =>
        (role = createConsoleRole(context, { ...(options.now ? { now: options.now } : {}), ...(options.pollMs ? { pollMs: options.pollMs } : {}) })),
    },
  });
  try {
    await daemon.start();
  } catch (err) {
    await daemon.stop();
    rmSync(config.data_dir, { recursive: true, force: true });
    throw err;
  }
  const url = daemon.url!.replace('[::1]', '127.0.0.1');

  const client = (): ConsoleClient => {
    let cookie: string | undefined;
    let csrfToken: string | undefined;
    let user: ConsoleClient['user'];
    const rawFetch = async (path: string, init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      if (cookie && !headers.has('cookie')) headers.set('cookie', cookie);
      const response = await fetch(`${url}${path}`, { ...init, headers, redirect: 'manual' });
      for (const line of response.headers.getSetCookie()) {
        const pair = line.split(';')[0]!;
        if (!pair.startsWith('sb_session=')) continue;
        cookie = pair === 'sb_session=' || /max-age=0|expires=thu, 01 jan 1970/i.test(line) ? undefined : pair;
      }
      return response;
    };
    const request = async <T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<ApiResponse<T>> => {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (csrfToken && opts.csrf !== false && method !== 'GET' && method !== 'HEAD') headers['x-csrf-token'] = csrfToken;
      const response = await rawFetch(path, { method, headers: { ...headers, ...opts.headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await response.text();
      const json = (response.headers.get('content-type') ?? '').includes('json') && text.length > 0;
      return { status: response.status, headers: response.headers, body: (json ? JSON.parse(text) : text) as T };
    };
    return {
      get user() {
        return user;
      },
      get csrfToken() {
        return csrfToken;
      },
      get cookie() {
        return cookie;
      },
      request,
      get: (path, o) => request('GET', path, undefined, o),
      post: (path, body, o) => request('POST', path, body, o),
      put: (path, body, o) => request('PUT', path, body, o),
      patch: (path, body, o) => request('PATCH', path, body, o),
      delete: (path, o) => request('DELETE', path, undefined, o),
      fetch: rawFetch,
      async signIn(name, password) {
        const response = await request<{ user: ConsoleClient['user']; csrf_token: string }>('POST', '/api/session', { name, password });
        if (response.status === 200) {
          user = response.body.user;
          csrfToken = response.body.csrf_token;
        }
        return response;
      },
    };
  };

  return {
    url,
    config,
    topicsDir,
    services: role!.services!,
    store: daemon.store,
    get routes() {
      return role!.routes;
    },
    async login(name, password = passwordOf(name)) {
      const c = client();
      const response = await c.signIn(name, password);
      if (response.status !== 200) throw new Error(`sign-in as ${name} failed: ${response.status} ${JSON.stringify(response.body)}`);
      return c;
    },
    anonymous: () => client(),
    addUser,
    async close() {
      await daemon.stop();
      for (const dir of new Set([config.data_dir, base.data_dir])) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] =
      isPlainObject(current) && isPlainObject(value) ? merge(current, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
