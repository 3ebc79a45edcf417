import { z } from 'zod';
import { DEFAULT_CHANNELS, NOTIFY_CHANNELS, PolicySchema } from './policy';

/**
 * `notify:` in shaobing.yaml: where the roster is, the escalation policies, the channels and their
 * credentials. Secrets belong in the environment (`access_key_secret: ${ALIYUN_SMS_SECRET}`); they
 * are never logged (core/logger.ts redacts these key names) nor stored (deliveries keep masked
 * recipients only).
 */

const Clock = z.string().regex(/^([01]\d|2[0-3]):([0-5]\d)$/, 'a time of day as "HH:MM"');

const Common = {
  /** Per request; default 10000. */
  timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
  /** Attempts per message on this channel before failing over to the next; default 3. */
  max_attempts: z.number().int().min(1).max(10).default(3),
};

/** Alibaba Cloud SMS (dysmsapi SendSms). The template receives `level`, `title` and `link`. */
const AliyunSms = z.strictObject({
  provider: z.literal('aliyun'),
  access_key_id: z.string().min(1),
  access_key_secret: z.string().min(1),
  sign_name: z.string().min(1),
  template_code: z.string().min(1),
  region_id: z.string().default('cn-hangzhou'),
  endpoint: z.url().default('https://dysmsapi.aliyuncs.com/'),
  ...Common,
});

/** Tencent Cloud SMS (SendSms 2021-01-11). The template's parameters are, in order: level, title, link. */
const TencentSms = z.strictObject({
  provider: z.literal('tencent'),
  secret_id: z.string().min(1),
  secret_key: z.string().min(1),
  sdk_app_id: z.string().min(1),
  sign_name: z.string().min(1),
  template_id: z.string().min(1),
  region: z.string().default('ap-guangzhou'),
  endpoint: z.url().default('https://sms.tencentcloudapi.com/'),
  ...Common,
});

/** Any other gateway: POST {"mobile": "...", "text": "..."} as JSON; any 2xx is success. */
const HttpSms = z.strictObject({
  provider: z.literal('http'),
  url: z.url(),
  /** Sent as `Authorization: Bearer <token>`. */
  token: z.string().optional(),
  /** When set, the body is signed like the generic webhook (X-Shaobing-Signature). */
  secret: z.string().optional(),
  ...Common,
});

export const SmsProviderSchema = z.discriminatedUnion('provider', [AliyunSms, TencentSms, HttpSms]);
export type SmsProviderConfig = z.output<typeof SmsProviderSchema>;

/** Alibaba Cloud voice notification (dyvmsapi SingleCallByTts). The TTS template receives `level` and `title`. */
const AliyunVoice = z.strictObject({
  provider: z.literal('aliyun'),
  access_key_id: z.string().min(1),
  access_key_secret: z.string().min(1),
  called_show_number: z.string().min(1),
  tts_code: z.string().min(1),
  region_id: z.string().default('cn-hangzhou'),
  endpoint: z.url().default('https://dyvmsapi.aliyuncs.com/'),
  ...Common,
});
export type VoiceConfig = z.output<typeof AliyunVoice>;

const Robot = z.strictObject({
  /** The robot's webhook URL as the group settings show it (with its key or access_token). */
  webhook: z.url(),
  /** DingTalk 加签 / Feishu 签名校验 secret; WeCom robots have none. */
  secret: z.string().optional(),
  ...Common,
});
export type RobotConfig = z.output<typeof Robot>;

const Email = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(465),
  /** TLS from the start (465); false: STARTTLS when offered (587, 25). */
  secure: z.boolean().default(true),
  user: z.string().optional(),
  password: z.string().optional(),
  from: z.string().min(3),
  ...Common,
});
export type EmailConfig = z.output<typeof Email>;

const Webhook = z.strictObject({
  url: z.url(),
  secret: z.string().min(16),
  ...Common,
});
export type WebhookConfig = z.output<typeof Webhook>;

export const ChannelsSchema = z.strictObject({
  /** Tried in order: the second provider takes over when the first fails. */
  sms: z.array(SmsProviderSchema).default([]),
  voice: AliyunVoice.optional(),
  wecom: Robot.optional(),
  dingtalk: Robot.optional(),
  feishu: Robot.optional(),
  email: Email.optional(),
  webhook: Webhook.optional(),
});
export type ChannelsConfig = z.output<typeof ChannelsSchema>;

export const NotifySchema = z.strictObject({
  /** The duty roster file (notify/roster.ts documents it); without it the notifier idles. Relative to this file. */
  roster: z.string().optional(),
  /** Consumer group of the alert_events topic. */
  group: z.string().min(1).default('shaobing-notifier'),
  /** How often escalations are re-examined; default 15 s. */
  tick_seconds: z.number().min(0.05).max(300).default(15),
  /** Where phones reach the acknowledgement links, e.g. https://duty.example.cn (a reverse proxy to `ack.host:ack.port`). Without it messages carry no link. */
  public_url: z.url().optional(),
  ack: z
    .strictObject({
      /** Signs acknowledgement links; at least 32 characters, e.g. `${SHAOBING_ACK_SECRET}`. */
      secret: z.string().min(32).optional(),
      /** How long a link works; default 24 h. */
      ttl_minutes: z.number().int().min(1).default(1440),
      /** The link server listens here, apart from /metrics and /readyz; default 127.0.0.1:8721. */
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8721),
      /**
       * The last path segment of the SMS reply callback URLs given to Tencent Cloud and Alibaba Cloud
       * (`<public_url>/sms-reply/tencent/<reply_token>`): neither signs its callbacks, so the URL is the
       * secret. At least 16 characters; without it those two callbacks are refused.
       */
      reply_token: z.string().min(16).optional(),
    })
    .prefault({}),
  limits: z
    .strictObject({
      /** A reopened alert within this many minutes of its last page is not paged again; default 30. */
      realert_minutes: z.number().min(0).default(30),
      /** Messages per person per hour beyond which 二级/三级 are held and summarised (一级 never is); default 20. */
      per_person_per_hour: z.number().int().min(1).default(20),
    })
    .prefault({}),
  /** Local hours (roster time zone) when 三级 digests wait; 一级 and 二级 are never held. */
  quiet_hours: z.strictObject({ from: Clock, to: Clock }).optional(),
  /** Roster ids of the people told when every channel failed for someone, or a collector source fails. */
  operators: z.array(z.string()).default([]),
  /** Channels operator messages go through, in failover order; default sms, email, then the group robots and the webhook. */
  operator_channels: z.array(z.enum(NOTIFY_CHANNELS)).min(1).default([...DEFAULT_CHANNELS]),
  /** By name, as topics' `policy` names them; `default` is built in (notify/policy.ts). */
  policies: z.record(z.string(), PolicySchema).default({}),
  channels: ChannelsSchema.prefault({}),
});
export type NotifyConfig = z.output<typeof NotifySchema>;
