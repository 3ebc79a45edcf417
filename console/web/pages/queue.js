// 告警 queue: filters, most severe and newest first, refreshed as the stream reports changes.
import { html, useEffect, useRef, useState } from '../lib.js';
import { api, query } from '../api.js';
import { t } from '../i18n.js';
import { formatTime } from '../format.js';
import { ErrorNotice, LevelBadge, StatusBadge, useLoad } from '../components.js';
import { onAlert } from '../stream.js';

/** @typedef {import('../types').Alert} Alert */

const RANGES = /** @type {const} */ ({ '24h': 24, '3d': 72, '7d': 168, '30d': 720, all: 0 });
const PLATFORMS = ['news', 'rss', 'weibo', 'wechat'];
const PAGE = 50;

/** @typedef {{ level: number[], status: string[], topic: string, platform: string, range: keyof typeof RANGES, q: string, order: 'severity' | 'recent' }} Filters */

/** @type {Filters} */
const DEFAULTS = { level: [], status: ['open', 'acknowledged'], topic: '', platform: '', range: '7d', q: '', order: 'severity' };

// Kept across visits to an alert and back, for the length of the page.
let remembered = DEFAULTS;

/**
 * @template T
 * @param {T[]} list @param {T} value
 */
function toggle(list, value) {
  return list.includes(value) ? list.filter((v) => v !== value) : [...list, value];
}

/** @param {{ session: any }} _props */
export function QueuePage(_props) {
  const [filters, setFilters] = useState(remembered);
  const [draftQ, setDraftQ] = useState(remembered.q);
  const [size, setSize] = useState(PAGE);
  const [fresh, setFresh] = useState(/** @type {Set<string>} */ (new Set()));
  remembered = filters;

  const hours = RANGES[filters.range];
  const load = useLoad(
    () =>
      api('GET', `/api/alerts${query({
        level: filters.level,
        status: filters.status,
        topic: filters.topic,
        platform: filters.platform,
        from: hours ? new Date(Date.now() - hours * 3600_000).toISOString() : undefined,
        q: filters.q,
        order: filters.order,
        size,
      })}`),
    [filters, size],
  );
  const topics = useLoad(() => api('GET', '/api/rules').catch(() => undefined), []);

  // A change on the stream refetches (debounced): the server applies the filters and the order.
  const timer = useRef(/** @type {any} */ (undefined));
  useEffect(
    () =>
      onAlert((alert) => {
        setFresh((set) => new Set(set).add(alert.id));
        clearTimeout(timer.current);
        timer.current = setTimeout(() => load.reload(), 300);
      }),
    [load.reload],
  );
  useEffect(() => () => clearTimeout(timer.current), []);

  /** @param {Partial<Filters>} change */
  const update = (change) => {
    setSize(PAGE);
    setFilters({ ...filters, ...change });
  };
  /** @type {{ id: string, name?: string }[]} */
  const topicList = (topics.data?.files ?? []).flatMap((/** @type {any} */ f) => f.topics ?? []);
  /** @type {{ total: number, items: Alert[] } | undefined} */
  const data = load.data;

  return html`<section class="queue">
    <form class="filters" data-filters onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      update({ q: draftQ.trim() });
    }}>
      <fieldset class="chips">
        <legend>${t('level')}</legend>
        ${[1, 2, 3].map(
          (level) => html`<label class=${`chip level-${level} ${filters.level.includes(level) ? 'on' : ''}`}>
            <input type="checkbox" name="level" value=${level} checked=${filters.level.includes(level)} onChange=${() => update({ level: toggle(filters.level, level) })} />${t(`level_${level}`)}
          </label>`,
        )}
      </fieldset>
      <fieldset class="chips">
        <legend>${t('status')}</legend>
        ${['open', 'acknowledged', 'closed'].map(
          (status) => html`<label class=${`chip ${filters.status.includes(status) ? 'on' : ''}`}>
            <input type="checkbox" name="status" value=${status} checked=${filters.status.includes(status)} onChange=${() => update({ status: toggle(filters.status, status) })} />${t(`status_${status}`)}
          </label>`,
        )}
      </fieldset>
      <label>${t('topic')}
        <select name="topic" value=${filters.topic} onChange=${(/** @type {any} */ e) => update({ topic: e.currentTarget.value })}>
          <option value="">${t('all')}</option>
          ${topicList.map((tp) => html`<option value=${tp.id}>${tp.name || tp.id}</option>`)}
          ${filters.topic && !topicList.some((tp) => tp.id === filters.topic) ? html`<option value=${filters.topic}>${filters.topic}</option>` : null}
        </select>
      </label>
      <label>${t('platform')}
        <select name="platform" value=${filters.platform} onChange=${(/** @type {any} */ e) => update({ platform: e.currentTarget.value })}>
          <option value="">${t('all')}</option>
          ${PLATFORMS.map((p) => html`<option value=${p}>${t(`platform_${p}`)}</option>`)}
        </select>
      </label>
      <label>${t('timeRange')}
        <select name="range" value=${filters.range} onChange=${(/** @type {any} */ e) => update({ range: e.currentTarget.value })}>
          ${Object.keys(RANGES).map((r) => html`<option value=${r}>${t(`range_${r}`)}</option>`)}
        </select>
      </label>
      <label>${t('order')}
        <select name="order" value=${filters.order} onChange=${(/** @type {any} */ e) => update({ order: e.currentTarget.value })}>
          <option value="severity">${t('order_severity')}</option>
          <option value="recent">${t('order_recent')}</option>
        </select>
      </label>
      <label class="grow">${t('search')}
        <input type="search" name="q" placeholder=${t('searchPlaceholder')} value=${draftQ} onInput=${(/** @type {any} */ e) => setDraftQ(e.currentTarget.value)} />
      </label>
      <div class="buttons">
        <button type="submit">${t('search')}</button>
        <button type="button" class="link" onClick=${() => {
          setDraftQ('');
          update(DEFAULTS);
        }}>${t('reset')}</button>
      </div>
    </form>
    <${ErrorNotice} error=${load.error} />
    ${data ? html`<p class="muted small" data-total=${data.total}>${t('alertsTotal', { total: data.total })}</p>` : null}
    ${data && data.items.length === 0 ? html`<p class="empty">${t('noAlerts')}</p>` : null}
    <ul class="alert-list" data-alert-list>
      ${(data?.items ?? []).map(
        (alert) => html`<li key=${alert.id} class=${`alert-row level-${alert.level} ${fresh.has(alert.id) ? 'fresh' : ''}`} data-alert-id=${alert.id}>
          <a href=${`#/alerts/${encodeURIComponent(alert.id)}`}>
            <span class="badges"><${LevelBadge} level=${alert.level} /><${StatusBadge} status=${alert.status} /></span>
            <span class="title">${alert.title}</span>
            <span class="meta">
              <span>${alert.topic_name || alert.topic}</span>
              <span>${t('docCount', { n: alert.doc_count })}</span>
              <span>${alert.sources.slice(0, 3).join('、')}${alert.sources.length > 3 ? '…' : ''}</span>
              ${alert.assignee ? html`<span>${t('assignee')}: ${alert.assignee}</span>` : null}
              <time datetime=${alert.last_seen_at}>${formatTime(alert.last_seen_at)}</time>
            </span>
          </a>
        </li>`,
      )}
    </ul>
    ${data && data.total > data.items.length ? html`<button class="more" onClick=${() => setSize(size + PAGE)}>${t('more')}</button>` : null}
  </section>`;
}
