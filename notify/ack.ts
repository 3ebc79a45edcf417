import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { isShaobingError, ShaobingError } from '../core/errors';
import type { Logger } from '../core/logger';
import { withRetry } from '../core/retry';
import type { Alert } from '../core/records';
import { applyAction } from '../alerts/lifecycle';
import type { Store } from '../store/types';
import { sameSignature } from './signing';

/**
 * Acknowledge from the phone: every page carries a short signed link. The token holds the alert,
 * the person, an expiry and a nonce, signed with HMAC-SHA256 (truncated to 96 bits), so the link
 * works without a login and cannot be forged for another alert or person. It is single use: the
 * nonce is written into the alert's history with the acknowledgement, and a second use finds it
 * there. Anyone with the link can acknowledge; that is the point of it, and why it expires.
 *
 * Layout (base64url, ~55 characters for a short person id):
 *   version(1) | alert id (16 bytes, the 32 hex digits of stableId) | expiry (uint32 s) | nonce (4) | person (utf8)
 *   "." mac(12)
 */

const VERSION = 1;
const MAC_BYTES = 12;

export interface AckClaims {
  alertId: string;
  person: string;
  /** Epoch ms. */
  expiresAt: number;
  /** 8 hex digits. */
  nonce: string;
}

export function createAckToken(claims: Omit<AckClaims, 'nonce'> & { nonce?: string }, secret: string): string {
  if (!/^[0-9a-f]{32}$/.test(claims.alertId)) throw new TypeError(`alert id must be 32 hex digits: ${claims.alertId}`);
  const person = Buffer.from(claims.person, 'utf8');
  const payload = Buffer.alloc(1 + 16 + 4 + 4 + person.length);
  payload.writeUInt8(VERSION, 0);
  Buffer.from(claims.alertId, 'hex').copy(payload, 1);
  payload.writeUInt32BE(Math.floor(claims.expiresAt / 1000), 17);
  (claims.nonce ? Buffer.from(claims.nonce, 'hex') : randomBytes(4)).copy(payload, 21);
  person.copy(payload, 25);
  return `${payload.toString('base64url')}.${mac(payload, secret)}`;
}

function mac(payload: Buffer, secret: string): string {
  return createHmac('sha256', secret).update(payload).digest().subarray(0, MAC_BYTES).toString('base64url');
}

/** Throws SB_NOTIFY_ACK_INVALID saying why: malformed, forged or expired. */
export function verifyAckToken(token: string, secret: string, now: number): AckClaims {
  const invalid = (why: string) => new ShaobingError('SB_NOTIFY_ACK_INVALID', `acknowledgement link ${why}`);
  const [body, signature, extra] = token.split('.');
  if (!body || !signature || extra !== undefined) throw invalid('is malformed');
  const payload = Buffer.from(body, 'base64url');
  if (payload.length < 26 || payload.readUInt8(0) !== VERSION) throw invalid('is malformed');
  if (!sameSignature(mac(payload, secret), signature)) throw invalid('has a wrong signature');
  const claims: AckClaims = {
    alertId: payload.subarray(1, 17).toString('hex'),
    expiresAt: payload.readUInt32BE(17) * 1000,
    nonce: payload.subarray(21, 25).toString('hex'),
    person: payload.subarray(25).toString('utf8'),
  };
  if (now >= claims.expiresAt) throw invalid('has expired');
  return claims;
}

export type AckOutcome =
  | { status: 'acknowledged'; alert: Alert }
  /** Someone (maybe this very link) acknowledged already, or the alert is closed. */
  | { status: 'already'; alert: Alert; by?: string; at?: string };

/** Marker written into the history note, so the same link cannot act twice. */
export function ackReference(nonce: string): string {
  return `ref ${nonce}`;
}

/**
 * Records `acknowledge` (by the person, via the channel) with optimistic concurrency, re-read and
 * retried on conflict. A link used before fails with SB_NOTIFY_ACK_INVALID.
 */
export async function acknowledgeAlert(store: Store, input: { alertId: string; person: string; via: string; at: string; nonce?: string }): Promise<AckOutcome> {
  return withRetry(
    async () => {
      const current = await store.getAlert(input.alertId);
      if (!current) throw new ShaobingError('SB_NOTIFY_ACK_INVALID', `acknowledgement link names an unknown alert ${input.alertId}`);
      const alert = current.value;
      if (input.nonce && alert.history.some((h) => h.note?.includes(ackReference(input.nonce!)))) {
        throw new ShaobingError('SB_NOTIFY_ACK_INVALID', 'acknowledgement link has been used already');
      }
      if (alert.status !== 'open') {
        const last = [...alert.history].reverse().find((h) => h.action === 'acknowledged' || h.action === 'closed');
        return { status: 'already', alert, ...(last ? { by: last.by, at: last.at } : {}) };
      }
      const next = applyAction(alert, {
        action: 'acknowledge',
        by: input.person,
        at: input.at,
        via: input.via,
        ...(input.nonce ? { note: `acknowledged by ${input.via} (${ackReference(input.nonce)})` } : {}),
      });
      const saved = await store.updateAlert(next, current.version);
      return { status: 'acknowledged', alert: saved.value };
    },
    { maxAttempts: 5, initialDelayMs: 20, maxDelayMs: 500, shouldRetry: (err) => isShaobingError(err, 'SB_STORE_CONFLICT') || isShaobingError(err, 'SB_STORE_UNAVAILABLE') },
  );
}

export interface AckRoutesOptions {
  store: Store;
  secret: string;
  log: Logger;
  /** Default Date.now. */
  now?: () => number;
  /** Told after each acknowledgement, so escalation stops at once rather than at the next tick. */
  onAcknowledged?: (alertId: string, person: string) => void;
}

/**
 * `GET /ack/<token>` shows the alert and one button; `POST /ack/<token>` acknowledges. The GET
 * does not act because link previews (WeChat, SMS apps, mail scanners) fetch links nobody tapped;
 * a preview must never stop an escalation.
 *
 * Mounting: the notifier role serves this plugin on its own listener (`notify.ack.host:port`),
 * not on the daemon's server, because phones reach it from outside (through a reverse proxy at
 * `notify.public_url`) while /metrics and /readyz stay internal. It is an ordinary encapsulated
 * fastify plugin, so the console can also register it under a prefix on its own server.
 */
export const ackRoutes: FastifyPluginAsync<AckRoutesOptions> = async (app, options) => {
  const now = options.now ?? Date.now;
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.get<{ Params: { token: string } }>('/ack/:token', async (request, reply) => {
    try {
      const claims = verifyAckToken(request.params.token, options.secret, now());
      const alert = (await options.store.getAlert(claims.alertId))?.value;
      if (!alert) return reply.code(404).type('text/html; charset=utf-8').send(page('未找到', '告警不存在。'));
      if (alert.status !== 'open') return reply.type('text/html; charset=utf-8').send(page('已确认', `${escapeHtml(alert.title)}<br>此告警已被确认或已处置。`));
      return reply
        .type('text/html; charset=utf-8')
        .send(page('确认收到', `${escapeHtml(alert.title)}<form method="post"><button type="submit" style="font-size:1.5em;padding:.5em 2em">确认收到</button></form>`));
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.post<{ Params: { token: string } }>('/ack/:token', async (request, reply) => {
    try {
      const claims = verifyAckToken(request.params.token, options.secret, now());
      const outcome = await acknowledgeAlert(options.store, { alertId: claims.alertId, person: claims.person, via: 'link', at: new Date(now()).toISOString(), nonce: claims.nonce });
      if (outcome.status === 'acknowledged') {
        options.log.info({ alert: claims.alertId, person: claims.person }, 'alert acknowledged by link');
        try {
          options.onAcknowledged?.(claims.alertId, claims.person);
        } catch (err) {
          options.log.warn({ err }, 'acknowledgement listener failed');
        }
        return reply.type('text/html; charset=utf-8').send(page('已确认', `${escapeHtml(outcome.alert.title)}<br>已记录，升级通知停止。`));
      }
      return reply.code(409).type('text/html; charset=utf-8').send(page('已确认', `此告警已由 ${escapeHtml(outcome.by ?? '他人')} 确认或已处置。`));
    } catch (err) {
      return sendError(reply, err);
    }
  });

  function sendError(reply: import('fastify').FastifyReply, err: unknown) {
    if (isShaobingError(err, 'SB_NOTIFY_ACK_INVALID')) {
      const status = /expired|used/.test(err.message) ? 410 : /unknown alert/.test(err.message) ? 404 : 403;
      return reply.code(status).type('text/html; charset=utf-8').send(page('链接无效', escapeHtml(err.message)));
    }
    options.log.error({ err }, 'acknowledgement failed');
    return reply.code(503).type('text/html; charset=utf-8').send(page('暂时无法确认', '请稍后再试，或直接回电值班室。'));
  }
};

function page(title: string, body: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title></head><body><h1>${title}</h1><p>${body}</p></body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
