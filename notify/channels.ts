import { randomUUID } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import { ShaobingError } from '../core/errors';
import type { ChannelsConfig, EmailConfig, RobotConfig, SmsProviderConfig, VoiceConfig, WebhookConfig } from './config';
import { LEVEL_NAMES, maskRecipient, type Message } from './messages';
import type { NotifyChannel } from './policy';
import type { Person } from './roster';
import { aliyunSignedQuery, aliyunTimestamp, dingtalkSign, feishuSign, tc3Sign, webhookSignature } from './signing';

/**
 * One sender per configured provider. A channel of a policy step (`sms`) may have several senders
 * (Alibaba then Tencent): the notifier tries them in order, each with its own timeout and retries.
 * Errors say what the provider answered, never what we sent: no secret, no full number.
 */

export interface Sender {
  readonly channel: NotifyChannel;
  /** e.g. `sms:aliyun`, for logs and the delivery's error text. */
  readonly name: string;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  /** Where this person is reached on this channel, or undefined when the roster has nothing for it. */
  address(person: Person): string | undefined;
  send(message: Message, person: Person, signal: AbortSignal): Promise<void>;
  close?(): void;
}

export interface SenderOptions {
  /** Default Date.now, for signatures' timestamps. */
  now?: () => number;
}

export function createSenders(config: ChannelsConfig, options: SenderOptions = {}): Map<NotifyChannel, Sender[]> {
  const now = options.now ?? Date.now;
  const senders = new Map<NotifyChannel, Sender[]>();
  const add = (s: Sender) => senders.set(s.channel, [...(senders.get(s.channel) ?? []), s]);
  for (const sms of config.sms) add(smsSender(sms, now));
  if (config.voice) add(aliyunVoiceSender(config.voice, now));
  if (config.wecom) add(robotSender(WECOM, config.wecom, now));
  if (config.dingtalk) add(robotSender(DINGTALK, config.dingtalk, now));
  if (config.feishu) add(robotSender(FEISHU, config.feishu, now));
  if (config.email) add(emailSender(config.email));
  if (config.webhook) add(webhookSender(config.webhook, now));
  return senders;
}

function smsSender(config: SmsProviderConfig, now: () => number): Sender {
  switch (config.provider) {
    case 'aliyun':
      return aliyunSmsSender(config, now);
    case 'tencent':
      return tencentSmsSender(config, now);
    case 'http':
      return httpSmsSender(config, now);
  }
}

/** Template variables are short on every provider: a title is cut to 20 characters. */
function short(text: string, max = 20): string {
  return [...text].length > max ? `${[...text].slice(0, max - 1).join('')}…` : text;
}

// ---------------------------------------------------------------- HTTP

interface HttpAnswer {
  status: number;
  body: unknown;
}

async function post(what: string, url: string, init: { body: string; headers: Record<string, string> }, timeoutMs: number, signal: AbortSignal): Promise<HttpAnswer> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', body: init.body, headers: init.headers, signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) });
  } catch (err) {
    const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : ((err as Error & { cause?: Error }).cause?.message ?? (err as Error).message);
    throw new ShaobingError('SB_NOTIFY_SEND_FAILED', `${what}: ${maskRecipient(url)} unreachable: ${reason}`, { cause: err });
  }
  const text = await response.text().catch(() => '');
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: kept as text for the error
  }
  if (response.status >= 500 || response.status === 429) {
    throw new ShaobingError('SB_NOTIFY_SEND_FAILED', `${what}: HTTP ${response.status}: ${text.slice(0, 200)}`);
  }
  if (response.status >= 400) {
    throw new ShaobingError('SB_NOTIFY_REJECTED', `${what}: HTTP ${response.status}: ${text.slice(0, 200)}`);
  }
  return { status: response.status, body };
}

/** A provider's own error code in a 200 answer: throttling is worth a retry, anything else is not. */
function providerError(what: string, code: string, message: string): ShaobingError {
  const throttled = /limit|throttl|busy|frequency/i.test(code);
  return new ShaobingError(throttled ? 'SB_NOTIFY_SEND_FAILED' : 'SB_NOTIFY_REJECTED', `${what}: ${code}: ${message}`.slice(0, 300));
}

// ---------------------------------------------------------------- Alibaba Cloud

async function aliyunCall(
  what: string,
  config: { access_key_id: string; access_key_secret: string; region_id: string; endpoint: string; timeout_ms: number },
  action: Record<string, string>,
  now: () => number,
  signal: AbortSignal,
): Promise<Record<string, unknown>> {
  const params: Record<string, string> = {
    AccessKeyId: config.access_key_id,
    Format: 'JSON',
    RegionId: config.region_id,
    SignatureMethod: 'HMAC-SHA1',
    SignatureNonce: randomUUID(),
    SignatureVersion: '1.0',
    Timestamp: aliyunTimestamp(now()),
    Version: '2017-05-25',
    ...action,
  };
  const answer = await post(what, config.endpoint, {
    body: aliyunSignedQuery('POST', params, config.access_key_secret),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  }, config.timeout_ms, signal);
  const body = (answer.body ?? {}) as Record<string, unknown>;
  if (body.Code !== 'OK') throw providerError(what, String(body.Code ?? 'unknown'), String(body.Message ?? ''));
  return body;
}

function aliyunSmsSender(config: Extract<SmsProviderConfig, { provider: 'aliyun' }>, now: () => number): Sender {
  return {
    channel: 'sms',
    name: 'sms:aliyun',
    timeoutMs: config.timeout_ms,
    maxAttempts: config.max_attempts,
    address: (p) => p.mobile,
    async send(message, person, signal) {
      await aliyunCall('aliyun sms', config, {
        Action: 'SendSms',
        PhoneNumbers: person.mobile!.replace(/^\+86/, ''),
        SignName: config.sign_name,
        TemplateCode: config.template_code,
        TemplateParam: JSON.stringify({ level: LEVEL_NAMES[message.level], title: short(message.title), link: message.link ?? '' }),
      }, now, signal);
    },
  };
}

function aliyunVoiceSender(config: VoiceConfig, now: () => number): Sender {
  return {
    channel: 'voice',
    name: 'voice:aliyun',
    timeoutMs: config.timeout_ms,
    maxAttempts: config.max_attempts,
    address: (p) => p.mobile,
    async send(message, person, signal) {
      await aliyunCall('aliyun voice', config, {
        Action: 'SingleCallByTts',
        CalledNumber: person.mobile!.replace(/^\+86/, ''),
        CalledShowNumber: config.called_show_number,
        TtsCode: config.tts_code,
        TtsParam: JSON.stringify({ level: LEVEL_NAMES[message.level], title: short(message.title) }),
      }, now, signal);
    },
  };
}

// ---------------------------------------------------------------- Tencent Cloud

function tencentSmsSender(config: Extract<SmsProviderConfig, { provider: 'tencent' }>, now: () => number): Sender {
  const url = new URL(config.endpoint);
  return {
    channel: 'sms',
    name: 'sms:tencent',
    timeoutMs: config.timeout_ms,
    maxAttempts: config.max_attempts,
    address: (p) => p.mobile,
    async send(message, person, signal) {
      const mobile = person.mobile!;
      const payload = JSON.stringify({
        PhoneNumberSet: [mobile.startsWith('+') ? mobile : `+86${mobile}`],
        SmsSdkAppId: config.sdk_app_id,
        SignName: config.sign_name,
        TemplateId: config.template_id,
        TemplateParamSet: [LEVEL_NAMES[message.level], short(message.title), message.link ?? ''],
      });
      const timestamp = Math.floor(now() / 1000);
      const signed = tc3Sign({ secretId: config.secret_id, secretKey: config.secret_key, service: 'sms', host: url.host, timestamp, payload });
      const answer = await post('tencent sms', config.endpoint, {
        body: payload,
        headers: {
          authorization: signed.authorization,
          'content-type': 'application/json; charset=utf-8',
          host: url.host,
          'x-tc-action': 'SendSms',
          'x-tc-timestamp': String(timestamp),
          'x-tc-version': '2021-01-11',
          'x-tc-region': config.region,
        },
      }, config.timeout_ms, signal);
      const response = ((answer.body ?? {}) as { Response?: { Error?: { Code: string; Message: string }; SendStatusSet?: Array<{ Code: string; Message: string }> } }).Response;
      if (response?.Error) throw providerError('tencent sms', response.Error.Code, response.Error.Message);
      const status = response?.SendStatusSet?.[0];
      if (!status) throw new ShaobingError('SB_NOTIFY_REJECTED', 'tencent sms: answer without SendStatusSet');
      if (status.Code !== 'Ok') throw providerError('tencent sms', status.Code, status.Message);
    },
  };
}

// ---------------------------------------------------------------- generic HTTP SMS and webhook

function httpSmsSender(config: Extract<SmsProviderConfig, { provider: 'http' }>, now: () => number): Sender {
  return {
    channel: 'sms',
    name: 'sms:http',
    timeoutMs: config.timeout_ms,
    maxAttempts: config.max_attempts,
    address: (p) => p.mobile,
    async send(message, person, signal) {
      const body = JSON.stringify({ mobile: person.mobile, text: message.text });
      const timestamp = Math.floor(now() / 1000);
      await post('http sms', config.url, {
        body,
        headers: {
          'content-type': 'application/json',
          ...(config.token ? { authorization: `Bearer ${config.token}` } : {}),
          ...(config.secret ? { 'x-shaobing-timestamp': String(timestamp), 'x-shaobing-signature': webhookSignature(timestamp, body, config.secret) } : {}),
        },
      }, config.timeout_ms, signal);
    },
  };
}

function webhookSender(config: WebhookConfig, now: () => number): Sender {
  return {
    channel: 'webhook',
    name: 'webhook',
    timeoutMs: config.timeout_ms,
    maxAttempts: config.max_attempts,
    address: (p) => `person:${p.id}`,
    async send(message, person, signal) {
      const body = JSON.stringify({ ...message, person: { id: person.id, name: person.name } });
      const timestamp = Math.floor(now() / 1000);
      await post('webhook', config.url, {
        body,
        headers: { 'content-type': 'application/json', 'x-shaobing-timestamp': String(timestamp), 'x-shaobing-signature': webhookSignature(timestamp, body, config.secret) },
      }, config.timeout_ms, signal);
    },
  };
}

// ---------------------------------------------------------------- group robots

/**
 * What differs between the group robots: where to post (DingTalk signs in the URL), the JSON they
 * take (each @mentions its own way; Feishu signs in the body), and how they say "ok".
 */
interface RobotDialect {
  channel: 'wecom' | 'dingtalk' | 'feishu';
  label: string;
  url(config: RobotConfig, now: number): string;
  body(text: string, person: Person, config: RobotConfig, now: number): unknown;
  /** The provider's error code and message, or undefined when it accepted the message. */
  refusal(answer: Record<string, unknown>): { code: string; message: string } | undefined;
}

/** errcode/errmsg, as WeCom and DingTalk answer. */
const errcode = (answer: Record<string, unknown>) =>
  answer.errcode === 0 ? undefined : { code: String(answer.errcode), message: String(answer.errmsg ?? '') };

const WECOM: RobotDialect = {
  channel: 'wecom',
  label: 'wecom robot',
  url: (config) => config.webhook,
  body: (text, person) => {
    const id = person.wecom;
    const mention = id ? (/^\+?\d{6,15}$/.test(id) ? { mentioned_mobile_list: [id] } : { mentioned_list: [id] }) : {};
    return { msgtype: 'text', text: { content: text, ...mention } };
  },
  refusal: errcode,
};

const DINGTALK: RobotDialect = {
  channel: 'dingtalk',
  label: 'dingtalk robot',
  url: (config, now) => {
    const url = new URL(config.webhook);
    if (config.secret) {
      url.searchParams.set('timestamp', String(now));
      url.searchParams.set('sign', dingtalkSign(now, config.secret));
    }
    return url.toString();
  },
  body: (text, person) => {
    const at = person.dingtalk;
    return { msgtype: 'text', text: { content: at ? `${text}\n@${at}` : text }, at: { atMobiles: at ? [at] : [], isAtAll: false } };
  },
  refusal: errcode,
};

const FEISHU: RobotDialect = {
  channel: 'feishu',
  label: 'feishu bot',
  url: (config) => config.webhook,
  body: (text, person, config, now) => {
    const seconds = Math.floor(now / 1000);
    return {
      ...(config.secret ? { timestamp: String(seconds), sign: feishuSign(seconds, config.secret) } : {}),
      msg_type: 'text',
      content: { text: person.feishu ? `${text}\n<at user_id="${person.feishu}">${person.name}</at>` : text },
    };
  },
  refusal: (answer) => {
    const code = answer.code ?? answer.StatusCode;
    return code === 0 ? undefined : { code: String(code), message: String(answer.msg ?? '') };
  },
};

/** A group robot reaches the person through the group, with an @mention when the roster has their id. */
function robotSender(dialect: RobotDialect, config: RobotConfig, now: () => number): Sender {
  return {
    channel: dialect.channel,
    name: dialect.channel,
    timeoutMs: config.timeout_ms,
    maxAttempts: config.max_attempts,
    address: () => maskRecipient(config.webhook),
    async send(message, person, signal) {
      const at = now();
      const answer = await post(dialect.label, dialect.url(config, at), {
        body: JSON.stringify(dialect.body(message.text, person, config, at)),
        headers: { 'content-type': 'application/json' },
      }, config.timeout_ms, signal);
      const refused = dialect.refusal((answer.body ?? {}) as Record<string, unknown>);
      if (refused) throw providerError(dialect.label, refused.code, refused.message);
    },
  };
}

// ---------------------------------------------------------------- email

/** The SMTP transport of `notify.channels.email`, shared by the duty sender and the console's briefing mail. */
export function createMailTransport(config: EmailConfig): Transporter {
  return nodemailer.createTransport({
    host: config.host,
    port: config.port,
    secure: config.secure,
    ...(config.user ? { auth: { user: config.user, pass: config.password ?? '' } } : {}),
    connectionTimeout: config.timeout_ms,
    greetingTimeout: config.timeout_ms,
    socketTimeout: config.timeout_ms,
  });
}

/** What an SMTP failure means: 5xx replies are permanent (mailbox unknown, refused); anything else may pass later. */
export function mailError(err: unknown): ShaobingError {
  const e = err as Error & { responseCode?: number; code?: string };
  const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
  return new ShaobingError(permanent ? 'SB_NOTIFY_REJECTED' : 'SB_NOTIFY_SEND_FAILED', `email: ${e.code ?? ''} ${e.message}`.trim().slice(0, 300), { cause: err });
}

function emailSender(config: EmailConfig): Sender {
  const transport = createMailTransport(config);
  return {
    channel: 'email',
    name: 'email',
    timeoutMs: config.timeout_ms,
    maxAttempts: config.max_attempts,
    address: (p) => p.email,
    async send(message, person) {
      try {
        await transport.sendMail({
          from: config.from,
          to: person.email!,
          subject: message.kind === 'page' || message.kind === 'drill' ? `【${LEVEL_NAMES[message.level]}】${message.title}` : message.title,
          text: message.text,
        });
      } catch (err) {
        throw mailError(err);
      }
    },
    close: () => transport.close(),
  };
}
