import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import type { FastifyPluginAsync } from 'fastify';
import type { AlertFeed } from './alert-feed';
import { CONSOLE_APIS } from './api';
import type { ConsoleAuth } from './auth';
import type { ConsoleRole, ConsoleServices } from './context';
import { ConsoleError, sendError } from './request';
import { consoleWeb } from './web';

/**
 * The console on the daemon's HTTP server: the UI at `/` and `/assets/*`, the API under `/api`.
 * Everything here lives in one encapsulated fastify scope, so the security headers, the cookie
 * parser and the JSON errors apply to the console and leave /healthz, /readyz and /metrics alone.
 *
 * Every /api request passes one onRequest hook, in this order:
 *   503 SB_CONSOLE_STARTING until the role has started;
 *   the session cookie is verified (and its idle expiry slid forward) if present;
 *   routes without `config.public` need a session (401 SB_CONSOLE_UNAUTHENTICATED),
 *   a role listed in `config.roles` if given (403 SB_CONSOLE_FORBIDDEN),
 *   and on any method but GET/HEAD the session's `x-csrf-token` header (403 SB_CONSOLE_CSRF).
 * Each API area (console/api/index.ts) is registered inside that scope with the services as its options.
 */

declare module 'fastify' {
  interface FastifyInstance {
    alertFeed: AlertFeed;
  }
}

export interface ConsoleRoute {
  method: string;
  /** With the /api prefix and fastify's `:param` placeholders. */
  url: string;
  roles?: readonly ConsoleRole[];
  public?: boolean;
}

export interface ConsolePluginOptions {
  services: ConsoleServices;
  auth: ConsoleAuth;
  feed: AlertFeed;
  /** False until the role has started; /api answers 503 meanwhile. */
  ready(): boolean;
  /** Filled with every /api route as it is registered: the authorisation test walks it. */
  routes?: ConsoleRoute[];
}

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

export const consolePlugin: FastifyPluginAsync<ConsolePluginOptions> = async (app, options) => {
  const { services, auth } = options;
  const secure = services.config.console.public_url?.startsWith('https:') ?? false;

  app.decorate('consoleAuth', auth);
  app.decorate('alertFeed', options.feed);
  app.decorateRequest('user', undefined);
  app.decorateRequest('consoleSession', undefined);
  await app.register(cookie);
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    // Only over https: HSTS on a plain-http intranet address would lock browsers out of it.
    strictTransportSecurity: secure ? { maxAge: 15_552_000, includeSubDomains: false } : false,
    crossOriginEmbedderPolicy: false,
  });
  app.setErrorHandler((err, _request, reply) => sendError(reply, err));

  await app.register(
    async (api) => {
      api.setNotFoundHandler((request, reply) => sendError(reply, new ConsoleError('SB_CONSOLE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)));
      api.addHook('onRoute', (route) => {
        const config = (route.config ?? {}) as { roles?: readonly ConsoleRole[]; public?: boolean };
        for (const method of [route.method].flat()) {
          options.routes?.push({ method, url: route.url, ...(config.roles ? { roles: config.roles } : {}), ...(config.public ? { public: true } : {}) });
        }
      });
      api.addHook('onRequest', async (request, reply) => {
        if (!options.ready()) throw new ConsoleError('SB_CONSOLE_STARTING', 'the console is starting; try again in a moment');
        const now = services.now().getTime();
        const session = auth.authenticate(request, now);
        if (session) {
          request.user = session.user;
          request.consoleSession = session.claims;
          auth.touch(reply, session, now);
        }
        const config = request.routeOptions.config as { roles?: readonly ConsoleRole[]; public?: boolean } | undefined;
        if (config?.public) return;
        if (!session) throw new ConsoleError('SB_CONSOLE_UNAUTHENTICATED', 'sign in first (no session, or it expired or was revoked)');
        if (config?.roles && !config.roles.includes(session.user.role)) {
          throw new ConsoleError('SB_CONSOLE_FORBIDDEN', `role ${session.user.role} may not ${request.method} ${request.routeOptions.url}`);
        }
        if (!SAFE_METHODS.has(request.method) && !auth.sessions.checkCsrf(session.claims.s, headerValue(request.headers['x-csrf-token']))) {
          throw new ConsoleError('SB_CONSOLE_CSRF', 'missing or wrong x-csrf-token header (GET /api/session returns the token)');
        }
      });
      for (const area of CONSOLE_APIS) await api.register(area, services);
    },
    { prefix: '/api' },
  );
  await app.register(consoleWeb);
};

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
