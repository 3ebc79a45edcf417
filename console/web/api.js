// Every request the UI makes goes through here: JSON in and out, the CSRF token on every change,
// and errors as ApiError carrying the API's stable code.

/** @type {string | undefined} */
let csrfToken;
/** @type {() => void} */
let onSignedOut = () => {};

/** @param {string | undefined} token */
export function setCsrfToken(token) {
  csrfToken = token;
}

/** Called when any request answers 401: the session expired or was revoked. @param {() => void} fn */
export function whenSignedOut(fn) {
  onSignedOut = fn;
}

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message @param {unknown} [details] */
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/**
 * @template [T=any]
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<T>}
 */
export async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response;
  try {
    response = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', String(err));
  }
  const text = await response.text();
  /** @type {any} */
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data?.code ?? `HTTP_${response.status}`, data?.message ?? response.statusText, data?.details);
    if (response.status === 401 && path !== '/api/session') onSignedOut();
    throw error;
  }
  return data;
}

/** A query string from the defined, non-empty values. @param {Record<string, unknown>} params */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    search.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  const s = search.toString();
  return s ? `?${s}` : '';
}
