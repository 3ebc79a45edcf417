import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Request signatures of the providers, to their published specifications. Pure functions: the
 * tests check them against the providers' documented examples, and the local test servers verify
 * requests with them.
 */

/** RFC 3986 percent-encoding as Alibaba Cloud's RPC signature requires: space %20, `*` %2A, `~` kept. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Alibaba Cloud RPC signature (SignatureMethod HMAC-SHA1, SignatureVersion 1.0): parameters sorted
 * by name, each name and value percent-encoded, joined with & into the canonicalized query;
 * StringToSign = METHOD & %2F & percentEncode(canonicalized); Signature = Base64(HMAC-SHA1(secret + "&", StringToSign)).
 */
export function aliyunRpcSignature(method: 'GET' | 'POST', params: Record<string, string>, accessKeySecret: string): string {
  const canonical = Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k]!)}`)
    .join('&');
  const stringToSign = `${method}&${percentEncode('/')}&${percentEncode(canonical)}`;
  return createHmac('sha1', `${accessKeySecret}&`).update(stringToSign, 'utf8').digest('base64');
}

/** The query (or form body) of a signed Alibaba Cloud RPC request. */
export function aliyunSignedQuery(method: 'GET' | 'POST', params: Record<string, string>, accessKeySecret: string): string {
  const signature = aliyunRpcSignature(method, params, accessKeySecret);
  return [...Object.entries(params), ['Signature', signature] as const].map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
}

/** Alibaba's Timestamp: ISO 8601 in UTC without milliseconds. */
export function aliyunTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface Tc3Input {
  secretId: string;
  secretKey: string;
  /** e.g. sms (the first label of the host). */
  service: string;
  host: string;
  /** Epoch seconds (X-TC-Timestamp). */
  timestamp: number;
  payload: string;
  /** Default `application/json; charset=utf-8`. */
  contentType?: string;
  method?: 'POST' | 'GET';
  query?: string;
}

export interface Tc3Result {
  authorization: string;
  signature: string;
  canonicalRequest: string;
  stringToSign: string;
}

/**
 * Tencent Cloud API 3.0 signature v3 (TC3-HMAC-SHA256): canonical request over content-type and
 * host, string to sign with the UTC date's credential scope, key derived as
 * HMAC(HMAC(HMAC("TC3" + key, date), service), "tc3_request").
 */
export function tc3Sign(input: Tc3Input): Tc3Result {
  const contentType = input.contentType ?? 'application/json; charset=utf-8';
  const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
  const hmac = (key: string | Buffer, msg: string) => createHmac('sha256', key).update(msg, 'utf8').digest();
  const canonicalRequest = [
    input.method ?? 'POST',
    '/',
    input.query ?? '',
    `content-type:${contentType}\nhost:${input.host}\n`,
    'content-type;host',
    sha256(input.payload),
  ].join('\n');
  const date = new Date(input.timestamp * 1000).toISOString().slice(0, 10);
  const scope = `${date}/${input.service}/tc3_request`;
  const stringToSign = `TC3-HMAC-SHA256\n${input.timestamp}\n${scope}\n${sha256(canonicalRequest)}`;
  const signing = hmac(hmac(hmac(`TC3${input.secretKey}`, date), input.service), 'tc3_request');
  const signature = createHmac('sha256', signing).update(stringToSign, 'utf8').digest('hex');
  return {
    authorization: `TC3-HMAC-SHA256 Credential=${input.secretId}/${scope}, SignedHeaders=content-type;host, Signature=${signature}`,
    signature,
    canonicalRequest,
    stringToSign,
  };
}

/** DingTalk robot `sign`: Base64(HMAC-SHA256(key = secret, timestamp_ms + "\n" + secret)), URL-encoded by the caller's query builder. */
export function dingtalkSign(timestampMs: number, secret: string): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

/** Feishu bot `sign`: Base64(HMAC-SHA256(key = timestamp_s + "\n" + secret, empty message)). */
export function feishuSign(timestampSeconds: number, secret: string): string {
  return createHmac('sha256', `${timestampSeconds}\n${secret}`).update(Buffer.alloc(0)).digest('base64');
}

/**
 * Shaobing's generic webhook: `X-Shaobing-Timestamp` (epoch seconds) and
 * `X-Shaobing-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`, as Stripe and
 * GitHub do, so a receiver can refuse replays older than a few minutes.
 */
export function webhookSignature(timestampSeconds: number, body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex')}`;
}

/** Constant-time comparison of two signatures. */
export function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
