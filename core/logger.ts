import pino, { type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** pino level; default `info`, or `SHAOBING_LOG_LEVEL` when the caller passes it through. */
  level?: string;
  /** Defaults to stderr so stdout stays free for command output (`collect --output -`, `--json`). */
  destination?: NodeJS.WritableStream | number;
}

/** Secrets must never reach a log line, whatever object a caller hands pino. */
const REDACT = [
  'password', '*.password', 'secret', '*.secret', 'token', '*.token', 'cookie', '*.cookie',
  'authorization', '*.authorization', 'headers.authorization', 'access_key_secret', '*.access_key_secret',
  'secret_key', '*.secret_key', 'api_key', '*.api_key',
  // Robot webhook URLs carry their access token (DingTalk access_token, WeCom key).
  'webhook', '*.webhook', 'access_token', '*.access_token',
];

export function createLogger(options: LoggerOptions = {}): Logger {
  const dest = options.destination ?? 2;
  const stream = typeof dest === 'number' ? pino.destination({ fd: dest, sync: true }) : dest;
  return pino(
    {
      name: 'shaobing',
      level: options.level ?? 'info',
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}

/** A logger that drops everything: for library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
