import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { ShaobingError } from '../core/errors';
import { Level } from '../core/records';
import type { Notifier } from './notifier';
import { sameSignature, webhookSignature } from './signing';

/**
 * Drills through a running daemon. `shaobing drill` cannot open the embedded store while the daemon
 * holds it, and should not page from a second process anyway, so it asks the notifier to run the
 * drill on the acknowledgement server:
 *
 *   POST /admin/drill            {"level": 1|2|3, "policy"?: name}  → {"alert": id}
 *   GET  /admin/drill/<id>       → {"status": "open"|…, "people": [per-person report]}
 *   POST /admin/drill/<id>/end   → {"closed": true}
 *
 * Each request is signed with notify.ack.secret the way the webhook is signed:
 * `X-Shaobing-Timestamp` (epoch seconds, refused when more than 5 minutes off) and
 * `X-Shaobing-Signature: sha256=hex(HMAC(secret, timestamp + "." + METHOD + " " + path + "\n" + body))`,
 * so the routes stay safe on the port a reverse proxy exposes for the links.
 */

const WINDOW_S = 300;

export interface AdminRoutesOptions {
  secret: string;
  notifier: Notifier;
  /** Default Date.now. */
  now?: () => number;
}

const DrillRequest = z.strictObject({ level: Level, policy: z.string().min(1).optional() });

function adminSignature(secret: string, timestamp: number, method: string, path: string, body: string): string {
  return webhookSignature(timestamp, `${method} ${path}\n${body}`, secret);
}

export const adminRoutes: FastifyPluginAsync<AdminRoutesOptions> = async (app, options) => {
  const now = options.now ?? Date.now;
  const engine = options.notifier;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.addHook('preHandler', async (request, reply) => {
    const timestamp = Number(request.headers['x-shaobing-timestamp']);
    const body = typeof request.body === 'string' ? request.body : '';
    if (!Number.isFinite(timestamp) || Math.abs(now() / 1000 - timestamp) > WINDOW_S) {
      return reply.code(401).send({ error: 'SB_NOTIFY_ACK_INVALID', message: 'X-Shaobing-Timestamp missing or more than 5 minutes off' });
    }
    const expected = adminSignature(options.secret, timestamp, request.method, request.url, body);
    if (!sameSignature(expected, String(request.headers['x-shaobing-signature'] ?? ''))) {
      return reply.code(401).send({ error: 'SB_NOTIFY_ACK_INVALID', message: 'X-Shaobing-Signature does not match (is notify.ack.secret the same as the daemon\'s?)' });
    }
  });

  app.post('/admin/drill', async (request, reply) => {
    let input: z.infer<typeof DrillRequest>;
    try {
      input = DrillRequest.parse(JSON.parse(String(request.body ?? '')));
    } catch (err) {
      return reply.code(400).send({ error: 'SB_RECORD_INVALID', message: `drill request: ${(err as Error).message}`.slice(0, 300) });
    }
    const alert = await engine.startDrill(input.level, input.policy);
    return { alert: alert.id };
  });

  app.get<{ Params: { id: string } }>('/admin/drill/:id', async (request, reply) => {
    const status = await engine.drillStatus(request.params.id);
    if (!status) return reply.code(404).send({ error: 'not found', message: `no drill ${request.params.id}` });
    return { status, people: await engine.drillReport(request.params.id) };
  });

  app.post<{ Params: { id: string } }>('/admin/drill/:id/end', async (request) => {
    await engine.endDrill(request.params.id);
    return { closed: true };
  });
};

/**
 * A signed request to a daemon's admin routes. Throws SB_NOTIFY_SEND_FAILED when nothing answers
 * (no daemon there), SB_NOTIFY_REJECTED with the daemon's message when it refuses.
 */
export async function adminRequest<T>(baseUrl: string, secret: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const text = body === undefined ? '' : JSON.stringify(body);
  const timestamp = Math.floor(Date.now() / 1000);
  let response: Response;
  try {
    response = await fetch(`${baseUrl.replace(/\/$/, '')}${path}`, {
      method,
      ...(method === 'POST' ? { body: text } : {}),
      headers: {
        'content-type': 'application/json',
        'x-shaobing-timestamp': String(timestamp),
        'x-shaobing-signature': adminSignature(secret, timestamp, method, path, text),
      },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw new ShaobingError('SB_NOTIFY_SEND_FAILED', `no notifier answers at ${baseUrl}: ${((err as Error & { cause?: Error }).cause ?? (err as Error)).message}`, { cause: err });
  }
  const answer = (await response.json().catch(() => ({}))) as { message?: string; error?: string };
  if (!response.ok) throw new ShaobingError('SB_NOTIFY_REJECTED', `the daemon at ${baseUrl} refused ${method} ${path}: HTTP ${response.status}: ${answer.message ?? answer.error ?? ''}`);
  return answer as T;
}
