// Small pieces several pages use.
import { html, useCallback, useEffect, useState } from './lib.js';
import { t } from './i18n.js';
import { safeHref, segments } from './format.js';

/** @param {{ level: number }} props */
export function LevelBadge({ level }) {
  return html`<span class=${`badge level-${level}`}>${t(`level_${level}`)}</span>`;
}

/** @param {{ status: string }} props */
export function StatusBadge({ status }) {
  return html`<span class=${`badge status-${status}`}>${t(`status_${status}`)}</span>`;
}

/**
 * Text with its hits in <mark>: the original characters as text nodes, so markup in scraped text
 * shows as markup, never runs.
 * @param {{ text: string, hits?: ReadonlyArray<{ start: number, end: number, keyword?: string }> }} props
 */
export function Highlighted({ text, hits = [] }) {
  return segments(text, hits).map((piece) => (piece.mark ? html`<mark>${piece.text}</mark>` : piece.text));
}

/** A scraped link, followed only when http(s); otherwise its text is shown. @param {{ url: string, children?: any }} props */
export function ExternalLink({ url, children }) {
  const href = safeHref(url);
  if (!href) return html`<span class="unsafe-link" title=${url}>${children ?? url}</span>`;
  return html`<a href=${href} target="_blank" rel="noopener noreferrer">${children ?? href}</a>`;
}

/** @param {{ kind?: 'error' | 'ok' | 'info', children: any }} props */
export function Notice({ kind = 'info', children }) {
  return html`<p class=${`notice ${kind}`} role=${kind === 'error' ? 'alert' : 'status'}>${children}</p>`;
}

/** An API error said plainly, with its code. @param {{ error: any }} props */
export function ErrorNotice({ error }) {
  if (!error) return null;
  const message = error.code ? `${error.message} (${error.code})` : String(error.message ?? error);
  return html`<${Notice} kind="error">${t('error', { message })}<//>`;
}

/**
 * Loads with `fn` when `deps` change; `reload()` loads again.
 * @template T
 * @param {() => Promise<T>} fn
 * @param {unknown[]} deps
 * @returns {{ data: T | undefined, error: any, loading: boolean, reload: () => Promise<void>, setData: (value: T) => void }}
 */
export function useLoad(fn, deps) {
  const [data, setData] = useState(/** @type {T | undefined} */ (undefined));
  const [error, setError] = useState(/** @type {any} */ (undefined));
  const [loading, setLoading] = useState(true);
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      setData(await fn());
      setError(undefined);
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  }, deps);
  useEffect(() => {
    reload();
  }, [reload]);
  return { data, error, loading, reload, setData };
}
