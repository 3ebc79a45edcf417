import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Logger } from '../core/logger';
import type { Store } from '../store/types';
import { acknowledgeAlert } from './ack';
import { maskRecipient } from './messages';
import { parsePageKey } from './notifier';
import type { Person, Roster } from './roster';
import { sameSignature, webhookSignature } from './signing';

/**
 * Acknowledge by replying to the alert SMS with "1", "确认" or "收到". Each provider posts the
 * replies it receives to a callback URL on the acknowledgement server:
 *
 * - Tencent Cloud (短信回复回调, one URL per account in the SMS console): POST, JSON
 *   `{"extend": "", "mobile": "13800000001", "nationcode": "86", "sign": "签名", "text": "1", "time": 1457336869}`,
 *   answered `{"result": 0, "errmsg": "OK"}`. Our URL: `/sms-reply/tencent/<notify.ack.reply_token>`.
 * - Alibaba Cloud (上行消息 SmsUp, HTTP 批量推送): POST, a JSON array, possibly of several replies,
 *   `[{"phone_number": "13800000001", "content": "1", "send_time": "2017-09-01 00:00:00", "dest_code": "1234", "sequence_id": 1234567890}]`,
 *   answered `{"code": 0, "msg": "接收成功"}`; anything but HTTP 200 is pushed again. Our URL: `/sms-reply/aliyun/<reply_token>`.
 * - The generic HTTP gateway (our own shape): POST `{"mobile": "13800000001", "text": "1"}` to
 *   `/sms-reply/http`, signed like the webhook (`X-Shaobing-Timestamp`, `X-Shaobing-Signature`) with
 *   the `secret` of the `http` SMS provider, within 5 minutes of its timestamp.
 *
 * Neither Tencent nor Alibaba signs these callbacks, so for them the URL itself is the secret.
 * A reply is matched to the person whose roster mobile sent it, then to the most recent alert paged
 * to that person by SMS within the link lifetime, and recorded as `acknowledged` `via: sms-reply`.
 * Replies that acknowledge nothing (another text, an unknown number, nothing paged lately) are
 * answered as received, so the provider does not push them again, and logged.
 */

export interface SmsReplyRoutesOptions {
  store: Store;
  log: Logger;
  /** The roster in force (it reloads). */
  roster: () => Roster;
  /** notify.ack.reply_token; without it the Tencent and Alibaba callbacks answer 404. */
  token?: string;
  /** The `secret` of the `http` SMS provider; without it the generic callback answers 404. */
  httpSecret?: string;
  /** How far back a page can be acknowledged by reply: the link lifetime. */
  ttlMs: number;
  /** Default Date.now. */
  now?: () => number;
  onAcknowledged?: (alertId: string, person: string) => void;
}

const TencentReply = z.object({
  mobile: z.string().min(1),
  nationcode: z.string().optional(),
  text: z.string(),
  sign: z.string().optional(),
  time: z.number().optional(),
  extend: z.string().optional(),
});

const AliyunReplies = z.array(
  z.object({
    phone_number: z.string().min(1),
    content: z.string(),
    send_time: z.string().optional(),
    dest_code: z.string().optional(),
    sequence_id: z.union([z.number(), z.string()]).optional(),
    sign_name: z.string().optional(),
  }),
);

const HttpReply = z.strictObject({ mobile: z.string().min(1), text: z.string() });

const ACK_WORDS = new Set(['1', '确认', '收到']);
const SIGNATURE_WINDOW_S = 300;

export type ReplyOutcome = 'acknowledged' | 'already' | 'not-an-acknowledgement' | 'unknown-number' | 'nothing-paged';

/** "1", "确认", "收到", full-width or with trailing punctuation and spaces. */
export function isAcknowledgement(text: string): boolean {
  return ACK_WORDS.has(text.normalize('NFKC').trim().replace(/[\s.,!。，！~]+$/u, ''));
}

/** Digits of a number without its +86 / 0086 / 86 prefix, so the roster's and the provider's forms compare. */
export function nationalNumber(raw: string): string {
  const digits = raw.replace(/\D/g, '');
  if (digits.startsWith('0086')) return digits.slice(4);
  if (digits.startsWith('86') && digits.length === 13) return digits.slice(2);
  return digits;
}

export const smsReplyRoutes: FastifyPluginAsync<SmsReplyRoutesOptions> = async (app, options) => {
  const now = options.now ?? Date.now;
  // Raw text, parsed here: the generic gateway's signature covers the exact bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  /** One reply: the person by number, their most recent SMS page within the TTL, the acknowledgement. */
  async function handle(provider: string, mobile: string, text: string): Promise<ReplyOutcome> {
    const log = options.log.child({ provider, component: 'sms-reply' });
    if (!isAcknowledgement(text)) {
      log.info({ text: text.slice(0, 40) }, 'SMS reply is not an acknowledgement; ignored');
      return 'not-an-acknowledgement';
    }
    const number = nationalNumber(mobile);
    const person: Person | undefined = options.roster().people.find((p) => p.mobile && nationalNumber(p.mobile) === number);
    if (!person) {
      log.warn({ mobile: maskRecipient(number) }, 'SMS reply from a number not in the roster; ignored');
      return 'unknown-number';
    }
    await options.store.refresh();
    const recent = await options.store.searchDeliveries({
      person: [person.id],
      channel: ['sms'],
      status: ['sent'],
      time: { from: new Date(now() - options.ttlMs).toISOString() },
      order: 'desc',
      size: 50,
    });
    const page = recent.items.find((d) => parsePageKey(d.event_id));
    if (!page) {
      log.info({ person: person.id }, 'SMS reply with no page sent to this person within the link lifetime; ignored');
      return 'nothing-paged';
    }
    const outcome = await acknowledgeAlert(options.store, { alertId: page.alert_id, person: person.id, via: 'sms-reply', at: new Date(now()).toISOString() });
    if (outcome.status !== 'acknowledged') {
      log.info({ alert: page.alert_id, person: person.id, by: outcome.by }, 'SMS reply for an alert acknowledged or closed already');
      return 'already';
    }
    log.info({ alert: page.alert_id, person: person.id }, 'alert acknowledged by SMS reply');
    try {
      options.onAcknowledged?.(page.alert_id, person.id);
    } catch (err) {
      log.warn({ err }, 'acknowledgement listener failed');
    }
    return 'acknowledged';
  }

  /** The body as JSON checked by `schema`, or a 400 saying what is wrong. */
  function parse<S extends z.ZodType>(reply: FastifyReply, body: unknown, schema: S): z.output<S> | undefined {
    let json: unknown;
    try {
      json = JSON.parse(typeof body === 'string' ? body : '');
    } catch {
      void reply.code(400).send({ error: 'SB_RECORD_INVALID', message: 'body is not JSON' });
      return undefined;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      void reply.code(400).send({ error: 'SB_RECORD_INVALID', message: `${issue.path.join('.') || 'body'}: ${issue.message}` });
      return undefined;
    }
    return parsed.data;
  }

  const tokenOk = (token: string) => options.token !== undefined && sameSignature(token, options.token);

  app.post<{ Params: { token: string } }>('/sms-reply/tencent/:token', async (request, reply) => {
    if (!tokenOk(request.params.token)) return reply.code(404).send({ result: 404, errmsg: 'not found' });
    const body = parse(reply, request.body, TencentReply);
    if (!body) return reply;
    const cn = !body.nationcode || body.nationcode === '86';
    const outcome = await handle('tencent', cn ? body.mobile : `+${body.nationcode}${body.mobile}`, body.text);
    return { result: 0, errmsg: 'OK', shaobing: outcome };
  });

  app.post<{ Params: { token: string } }>('/sms-reply/aliyun/:token', async (request, reply) => {
    if (!tokenOk(request.params.token)) return reply.code(404).send({ code: 404, msg: 'not found' });
    const body = parse(reply, request.body, AliyunReplies);
    if (!body) return reply;
    const outcomes: ReplyOutcome[] = [];
    for (const item of body) outcomes.push(await handle('aliyun', item.phone_number, item.content));
    return { code: 0, msg: '接收成功', shaobing: outcomes };
  });

  app.post('/sms-reply/http', async (request, reply) => {
    if (!options.httpSecret) return reply.code(404).send({ error: 'not found' });
    const timestamp = Number(request.headers['x-shaobing-timestamp']);
    const signature = String(request.headers['x-shaobing-signature'] ?? '');
    const raw = typeof request.body === 'string' ? request.body : '';
    if (!Number.isFinite(timestamp) || Math.abs(now() / 1000 - timestamp) > SIGNATURE_WINDOW_S) {
      return reply.code(401).send({ error: 'SB_NOTIFY_ACK_INVALID', message: 'X-Shaobing-Timestamp missing or more than 5 minutes off' });
    }
    if (!sameSignature(webhookSignature(timestamp, raw, options.httpSecret), signature)) {
      return reply.code(401).send({ error: 'SB_NOTIFY_ACK_INVALID', message: 'X-Shaobing-Signature does not match' });
    }
    const body = parse(reply, raw, HttpReply);
    if (!body) return reply;
    return { ok: true, outcome: await handle('http', body.mobile, body.text) };
  });
};
