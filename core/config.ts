import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { CollectorsSchema, SourcesSchema } from '../collectors/config';
import { ConsoleSchema } from '../console/config';
import { NotifySchema } from '../notify/config';
import { LevelPolicySchema } from '../rules/level';
import { TOKENIZER_KINDS, type TokenizerKind } from '../rules/tokenizer';
import { loadYamlFile } from './yaml-file';

/**
 * shaobing.yaml. One strict schema: an unknown key is an error, never silently ignored.
 * Defaults live here and nowhere else. Relative paths are resolved against the config file's folder.
 */

const TopicSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'Kafka topic names use letters, digits, ".", "_" and "-"'),
  partitions: z.number().int().min(1).max(1000),
  replication_factor: z.number().int().min(1).max(7).default(1),
});

const TopicsSchema = z.strictObject({
  /** Raw documents from the collectors, keyed by document id. */
  documents: TopicSchema.prefault({ name: 'shaobing.documents', partitions: 6 }),
  /** Alert lifecycle events for the duty notifier, keyed by alert id. */
  alert_events: TopicSchema.prefault({ name: 'shaobing.alert-events', partitions: 3 }),
  /** Messages no stage could process, with the reason. */
  dead_letters: TopicSchema.prefault({ name: 'shaobing.dead-letters', partitions: 1 }),
  /** Operator notices (a source failing, blocked, recovered) from the collectors to the notifier, keyed by source. */
  operator_notices: TopicSchema.prefault({ name: 'shaobing.operator-notices', partitions: 1 }),
});

const KafkaSchema = z.strictObject({
  brokers: z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port')).min(1),
  client_id: z.string().min(1).default('shaobing'),
  ssl: z.boolean().default(false),
  sasl: z
    .strictObject({
      mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
      username: z.string().min(1),
      password: z.string().min(1),
    })
    .optional(),
  connection_timeout_ms: z.number().int().positive().default(3000),
  request_timeout_ms: z.number().int().positive().default(30000),
  /**
   * A consumer that stops heartbeating (killed, frozen) keeps its partitions this long before the
   * group hands them to another member or to its own restart. Kafka accepts 6000–300000 by default.
   */
  session_timeout_ms: z.number().int().min(1000).default(30000),
});

const ElasticsearchSchema = z.strictObject({
  /** One URL or several of the same cluster. */
  node: z.union([z.url(), z.array(z.url()).min(1)]),
  index_prefix: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, "_" and "-"').default('shaobing'),
  username: z.string().optional(),
  password: z.string().optional(),
  api_key: z.string().optional(),
  /** PEM file of the CA that signed the cluster's certificate. */
  ca_file: z.string().optional(),
  request_timeout_ms: z.number().int().positive().default(30000),
  number_of_shards: z.number().int().min(1).default(1),
  number_of_replicas: z.number().int().min(0).default(0),
});

export const ConfigSchema = z.strictObject({
  /** Where the embedded backends and collector state live. */
  data_dir: z.string().default('./var'),
  log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') }).prefault({}),
  /** The daemon's HTTP server: /healthz, /readyz, /metrics (and later the console). */
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8720),
      /**
       * Reverse proxies (addresses or CIDRs) in front of the daemon whose X-Forwarded-For is believed,
       * so sign-in limits and the audit log see the client's address rather than the proxy's.
       */
      trust_proxy: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  bus: z
    .strictObject({
      /** Without it the embedded bus is used: a durable log in data_dir, for one process. */
      kafka: KafkaSchema.optional(),
      topics: TopicsSchema.prefault({}),
      /** How long messages are kept (Kafka's retention.ms for topics Shaobing creates; the embedded log's too). */
      retention_hours: z.number().int().min(1).default(168),
      /** Largest message a topic Shaobing creates accepts (Kafka's max.message.bytes; its default is 1 MiB). */
      max_message_bytes: z.number().int().min(65_536).default(4 * 1024 * 1024),
    })
    .prefault({}),
  store: z
    .strictObject({
      /** Without it the embedded store is used: PostgreSQL (PGlite) files in data_dir. */
      elasticsearch: ElasticsearchSchema.optional(),
    })
    .prefault({}),
  /** Analysts' topic files and how documents are scored against them (rules/). */
  rules: z
    .strictObject({
      /** Topic files, or folders whose *.yaml files are topic files; relative to this file. */
      paths: z.array(z.string().min(1)).default([]),
      /** Reload when a topic file changes; a broken edit keeps the last good set. */
      watch: z.boolean().default(true),
      tokenizer: z.enum(TOKENIZER_KINDS as [TokenizerKind, ...TokenizerKind[]]).default('node-rs-jieba'),
      /** How the warning level is raised from a topic's base level (rules/level.ts documents each rule). */
      level_policy: LevelPolicySchema.prefault({}),
    })
    .prefault({}),
  pipeline: z
    .strictObject({
      /** Consumer group: pipeline processes with the same group share the documents' partitions. */
      group: z.string().min(1).default('shaobing-pipeline'),
      /** Documents handled (and committed) together; default 500. */
      batch_size: z.number().int().min(1).max(10_000).default(500),
      /** Messages larger than this go to the dead-letter topic unread. */
      max_message_bytes: z.number().int().min(1024).default(2 * 1024 * 1024),
      cluster: z
        .strictObject({
          /** Copies further apart in time than this are different events. */
          window_hours: z.number().min(1).default(72),
          /** Least similarity (shared character trigrams, 0..1) of two copies of one story. */
          min_similarity: z.number().min(0.3).max(1).default(0.6),
        })
        .prefault({}),
      /** A closed alert reopens once its cluster has grown by this many documents. */
      reopen_after_docs: z.number().int().min(1).default(5),
    })
    .prefault({}),
  /** What the collectors watch: RSS/Atom feeds, news sites, Weibo, WeChat accounts (collectors/config.ts). */
  sources: SourcesSchema.default([]),
  /** Settings shared by every source: HTTP, schedules, health alerts, state. */
  collectors: CollectorsSchema.prefault({}),
  /** Duty alerting: roster file, escalation policies, channels and their credentials (notify/config.ts). */
  notify: NotifySchema.prefault({}),
  /** The web console and its API: users, briefings, rule history (console/config.ts). */
  console: ConsoleSchema.prefault({}),
});

export type Config = z.output<typeof ConfigSchema>;
export type KafkaConfig = z.output<typeof KafkaSchema>;
export type ElasticsearchConfig = z.output<typeof ElasticsearchSchema>;
export type TopicsConfig = z.output<typeof TopicsSchema>;
export type TopicRole = keyof TopicsConfig;

export const CONFIG_ENV_PREFIX = 'SHAOBING__';
export const DEFAULT_CONFIG_FILE = 'shaobing.yaml';

/** `--config`, else `SHAOBING_CONFIG`, else ./shaobing.yaml. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env.SHAOBING_CONFIG ?? DEFAULT_CONFIG_FILE);
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const config = loadYamlFile(file, ConfigSchema, { env, overridePrefix: CONFIG_ENV_PREFIX });
  const base = dirname(resolve(file));
  const at = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const consoleSettings = config.console;
  return {
    ...config,
    data_dir: at(config.data_dir),
    console: {
      ...consoleSettings,
      ...(consoleSettings.users_file ? { users_file: at(consoleSettings.users_file) } : {}),
      ...(consoleSettings.rules_history_dir ? { rules_history_dir: at(consoleSettings.rules_history_dir) } : {}),
      briefings: { ...consoleSettings.briefings, ...(consoleSettings.briefings.dir ? { dir: at(consoleSettings.briefings.dir) } : {}) },
    },
    rules: { ...config.rules, paths: config.rules.paths.map(at) },
    notify: config.notify.roster ? { ...config.notify, roster: at(config.notify.roster) } : config.notify,
    store: config.store.elasticsearch?.ca_file
      ? { elasticsearch: { ...config.store.elasticsearch, ca_file: at(config.store.elasticsearch.ca_file) } }
      : config.store,
  };
}

/** The same defaults a file with no keys gets, for tools and tests that build config in code. */
export function defaultConfig(overrides: z.input<typeof ConfigSchema> = {}): Config {
  return ConfigSchema.parse(overrides);
}
