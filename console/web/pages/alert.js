// 告警详情: the alert, why it got its level, its documents with the keywords marked, the spread
// timeline, deliveries, the handling record and the actions; the review once it is closed.
import { html, useEffect, useMemo, useState } from '../lib.js';
import { api, ApiError, query } from '../api.js';
import { t } from '../i18n.js';
import { formatBucket, formatDuration, formatTime, sentimentClass, sentimentLabel } from '../format.js';
import { ErrorNotice, ExternalLink, Highlighted, LevelBadge, Notice, StatusBadge, useLoad } from '../components.js';
import { Chart, COLORS } from '../charts.js';
import { onAlert } from '../stream.js';

/** @typedef {import('../types').Alert} Alert */
/** @typedef {import('../types').AlertDocument} AlertDocument */
/** @typedef {import('../types').Bucket} Bucket */

const DOC_PAGE = 20;

/** @param {{ id: string, session: any }} props */
export function AlertPage({ id }) {
  const path = `/api/alerts/${encodeURIComponent(id)}`;
  const record = useLoad(() => api('GET', path), [id]);
  const [notice, setNotice] = useState(/** @type {{ kind: 'ok' | 'error' | 'info', text: string } | undefined} */ (undefined));

  // Someone else's change arrives on the stream: show it at once (our own actions come back too).
  useEffect(
    () =>
      onAlert((changed) => {
        if (changed.id === id && changed.version && changed.version !== record.data?.version) record.reload();
      }),
    [id, record.data?.version],
  );

  if (record.error) {
    return html`<section><a href="#/alerts">${t('backToQueue')}</a><${ErrorNotice} error=${record.error} /></section>`;
  }
  if (!record.data) return html`<p class="boot">${t('loading')}</p>`;
  /** @type {Alert} */
  const alert = record.data.alert;
  const version = record.data.version;

  /** @param {Record<string, unknown>} body */
  const act = async (body) => {
    setNotice(undefined);
    try {
      record.setData(await api('POST', `${path}/actions`, { ...body, version }));
      setNotice({ kind: 'ok', text: t('actionDone') });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        await record.reload();
        setNotice({ kind: 'error', text: t('conflictReloaded') });
      } else {
        setNotice({ kind: 'error', text: t('error', { message: `${/** @type {any} */ (err).message} (${/** @type {any} */ (err).code})` }) });
      }
      return false;
    }
  };

  return html`<article class="alert-page" data-alert=${alert.id} data-status=${alert.status} data-level=${alert.level}>
    <a class="back" href="#/alerts">${t('backToQueue')}</a>
    <header class="alert-head">
      <div class="badges"><${LevelBadge} level=${alert.level} /><${StatusBadge} status=${alert.status} /></div>
      <h1 data-alert-title>${alert.title}</h1>
      <dl class="facts">
        <div><dt>${t('topic')}</dt><dd>${alert.topic_name || alert.topic}</dd></div>
        <div><dt>${t('docs')}</dt><dd>${alert.doc_count}</dd></div>
        <div><dt>${t('reposts')}</dt><dd>${alert.total_reposts}</dd></div>
        <div><dt>${t('sentiment')}</dt><dd class=${sentimentClass(alert.sentiment)}>${sentimentLabel(alert.sentiment)}</dd></div>
        <div><dt>${t('opened')}</dt><dd>${formatTime(alert.opened_at)}</dd></div>
        <div><dt>${t('lastSeen')}</dt><dd>${formatTime(alert.last_seen_at)}</dd></div>
        ${alert.assignee ? html`<div><dt>${t('assignee')}</dt><dd data-assignee>${alert.assignee}</dd></div>` : null}
        <div class="wide"><dt>${t('sources')}</dt><dd>${alert.sources.join('、')}</dd></div>
        <div class="wide"><dt>${t('platforms')}</dt><dd>${alert.platforms.map((p) => t(`platform_${p}`)).join('、')}</dd></div>
      </dl>
    </header>

    <${Actions} alert=${alert} act=${act} notice=${notice} />

    ${alert.level_reasons?.length || alert.severity_words?.length || alert.growth_per_hour
      ? html`<section class="panel reasons">
          <h2>${t('levelReasons')}</h2>
          <ul data-level-reasons>${(alert.level_reasons ?? []).map((r) => html`<li>${r}</li>`)}</ul>
          ${alert.severity_words?.length ? html`<p class="muted">${t('severityWords')}: ${alert.severity_words.join('、')}</p>` : null}
          ${alert.growth_per_hour ? html`<p class="muted">${t('growth', { n: alert.growth_per_hour })}</p>` : null}
        </section>`
      : null}

    <${History} alert=${alert} />
    ${alert.status === 'closed' ? html`<${ReviewPanel} path=${path} version=${version} />` : null}
    <${Timeline} path=${path} version=${version} />
    <${Documents} path=${path} />
    <${Deliveries} path=${path} version=${version} />
  </article>`;
}

/** @type {Record<string, string>} */
const BUTTON = { note: 'note', assign: 'assign', level: 'changeLevel', close: 'close', reopen: 'reopen' };

/** What the text box of an action is for; every action but assign needs it. @param {string | undefined} action */
function noteLabel(action) {
  return action === 'close' ? t('summaryRequired') : action === 'level' || action === 'reopen' ? t('reasonRequired') : t('note');
}

/** @param {{ alert: Alert, act: (body: Record<string, unknown>) => Promise<boolean>, notice: any }} props */
function Actions({ alert, act, notice }) {
  const [open, setOpen] = useState(/** @type {string | undefined} */ (undefined));
  const [note, setNote] = useState('');
  const [assignee, setAssignee] = useState('');
  const [level, setLevel] = useState(/** @type {number} */ (alert.level));
  const [missing, setMissing] = useState('');
  const [busy, setBusy] = useState(false);

  /** @param {string} name */
  const choose = (name) => {
    setOpen(open === name ? undefined : name);
    setMissing('');
    // Offer the next level up (down from 一级): the usual reason to change one.
    setLevel(alert.level > 1 ? alert.level - 1 : 2);
  };
  /** @param {Event} event */
  const submit = async (event) => {
    event.preventDefault();
    const text = note.trim();
    if (open !== 'assign' && !text) return setMissing(t('fieldRequired', { field: noteLabel(open) }));
    if (open === 'assign' && !assignee.trim()) return setMissing(t('fieldRequired', { field: t('assignee') }));
    /** @type {Record<string, unknown>} */
    const body = { action: open };
    if (open === 'close') body.summary = text;
    else if (text) body.note = text;
    if (open === 'assign') body.assignee = assignee.trim();
    if (open === 'level') body.level = Number(level);
    setBusy(true);
    const done = await act(body);
    setBusy(false);
    if (done) {
      setOpen(undefined);
      setNote('');
      setAssignee('');
    }
  };
  const quick = async () => {
    setBusy(true);
    await act({ action: 'acknowledge' });
    setBusy(false);
  };

  const closed = alert.status === 'closed';
  return html`<section class="panel actions" data-actions>
    <div class="action-buttons">
      ${alert.status === 'open' ? html`<button class="primary" data-action="acknowledge" disabled=${busy} onClick=${quick}>${t('acknowledge')}</button>` : null}
      ${(closed ? ['note', 'reopen'] : ['note', 'assign', 'level', 'close']).map(
        (name) => html`<button class=${open === name ? 'on' : ''} data-action=${name} onClick=${() => choose(name)}>${t(BUTTON[name] ?? name)}</button>`,
      )}
    </div>
    ${open
      ? html`<form class="action-form" data-action-form=${open} onSubmit=${submit}>
          ${open === 'assign'
            ? html`<label>${t('assignee')}<input name="assignee" placeholder=${t('assigneePlaceholder')} value=${assignee} onInput=${(/** @type {any} */ e) => setAssignee(e.currentTarget.value)} /></label>`
            : null}
          ${open === 'level'
            ? html`<label>${t('level')}
                <select name="level" value=${level} onChange=${(/** @type {any} */ e) => setLevel(Number(e.currentTarget.value))}>
                  ${[1, 2, 3].map((l) => html`<option value=${l} disabled=${l === alert.level}>${t(`level_${l}`)}</option>`)}
                </select>
              </label>`
            : null}
          <label>${noteLabel(open)}
            <textarea name="note" rows="3" placeholder=${t('notePlaceholder')} value=${note} onInput=${(/** @type {any} */ e) => setNote(e.currentTarget.value)}></textarea>
          </label>
          ${missing ? html`<${Notice} kind="error">${missing}<//>` : null}
          <div class="buttons">
            <button class="primary" type="submit" disabled=${busy || (open === 'level' && level === alert.level)}>${t('submit')}</button>
            <button type="button" class="link" onClick=${() => setOpen(undefined)}>${t('cancel')}</button>
          </div>
        </form>`
      : null}
    ${notice ? html`<${Notice} kind=${notice.kind}>${notice.text}<//>` : null}
  </section>`;
}

/** @param {{ alert: Alert }} props */
function History({ alert }) {
  const entries = [...alert.history].reverse();
  return html`<section class="panel history">
    <h2>${t('history')}</h2>
    <ol class="history-list" data-history>
      ${entries.map(
        (entry) => html`<li data-history-action=${entry.action}>
          <time datetime=${entry.at}>${formatTime(entry.at, { seconds: true })}</time>
          <span class="by">${entry.by}</span>
          <strong>${t(`action_${entry.action}`)}</strong>
          ${entry.from_level && entry.to_level ? html`<span>${t(`level_${entry.from_level}`)} → ${t(`level_${entry.to_level}`)}</span>` : null}
          ${entry.via ? html`<span class="muted">(${entry.via})</span>` : null}
          ${entry.note ? html`<p class="note">${entry.note}</p>` : null}
        </li>`,
      )}
    </ol>
  </section>`;
}

/** @param {{ buckets: Bucket[], interval: 'hour' | 'day', label: string, marks?: { name: string, at: string }[] }} props */
function SpreadChart({ buckets, interval, label, marks = [] }) {
  const option = useMemo(
    () => ({
      grid: { left: 40, right: 16, top: 32, bottom: 28 },
      legend: { data: [t('documents'), t('reposts')], top: 0 },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'category', data: buckets.map((b) => formatBucket(b.key, interval)) },
      yAxis: [{ type: 'value', minInterval: 1 }, { type: 'value', minInterval: 1, splitLine: { show: false } }],
      series: [
        {
          name: t('documents'),
          type: 'bar',
          data: buckets.map((b) => b.documents),
          itemStyle: { color: COLORS.documents },
          markLine: marks.length
            ? {
                symbol: 'none',
                label: { formatter: '{b}', position: 'insideEndTop' },
                data: marks
                  .map((m) => ({ name: m.name, xAxis: nearestBucket(buckets, m.at, interval) }))
                  .filter((m) => m.xAxis !== undefined),
              }
            : undefined,
        },
        { name: t('reposts'), type: 'line', yAxisIndex: 1, smooth: true, data: buckets.map((b) => b.reposts), itemStyle: { color: COLORS.reposts } },
      ],
    }),
    [buckets, marks],
  );
  return html`<${Chart} option=${option} label=${label} empty=${buckets.length === 0} />`;
}

/** The axis label of the bucket holding `at`. @param {Bucket[]} buckets @param {string} at @param {'hour' | 'day'} interval */
function nearestBucket(buckets, at, interval) {
  const time = new Date(at).getTime();
  let found;
  for (const bucket of buckets) if (new Date(bucket.key).getTime() <= time) found = bucket;
  return found ? formatBucket(found.key, interval) : undefined;
}

/** @param {{ path: string, version: string }} props */
function Timeline({ path, version }) {
  const [interval, setSpan] = useState(/** @type {'hour' | 'day'} */ ('hour'));
  const load = useLoad(() => api('GET', `${path}/timeline${query({ interval })}`), [path, interval, version]);
  return html`<section class="panel timeline" data-timeline>
    <h2>${t('timeline')}
      <span class="switch">
        ${/** @type {const} */ (['hour', 'day']).map(
          (i) => html`<button class=${`link ${interval === i ? 'current' : ''}`} onClick=${() => setSpan(i)}>${i === 'hour' ? '时 / h' : '日 / d'}</button>`,
        )}
      </span>
    </h2>
    <${ErrorNotice} error=${load.error} />
    ${load.data ? html`<${SpreadChart} buckets=${load.data.buckets} interval=${interval} label=${t('timeline')} />` : null}
  </section>`;
}

/** @param {{ doc: AlertDocument }} props */
function DocumentItem({ doc }) {
  const [full, setFull] = useState(false);
  const textHits = doc.hits.filter((h) => h.field === 'text');
  const long = doc.text.length > 400;
  // A long text is cut after its first hit's neighbourhood unless expanded; hits stay aligned because
  // the cut keeps the start of the original string.
  const cut = long && !full ? Math.max(400, (textHits[0]?.end ?? 0) + 120) : doc.text.length;
  const shown = doc.text.slice(0, cut);
  return html`<li class="doc" data-doc=${doc.id}>
    <h3 data-doc-title><${Highlighted} text=${doc.title} hits=${doc.hits.filter((h) => h.field === 'title')} /></h3>
    <p class="meta">
      <span>${t(`platform_${doc.platform}`)}</span>
      <span data-doc-source>${doc.source}</span>
      ${doc.author ? html`<span data-doc-author>${t('author')}: ${doc.author}</span>` : null}
      <time datetime=${doc.published_at}>${formatTime(doc.published_at)}</time>
      ${doc.metrics?.reposts ? html`<span>${t('reposts')} ${doc.metrics.reposts}</span>` : null}
      ${doc.sentiment !== undefined ? html`<span class=${sentimentClass(doc.sentiment)}>${sentimentLabel(doc.sentiment)}</span>` : null}
      ${doc.parent_id ? html`<span class="tag">${t('repostOf')}</span>` : null}
      <${ExternalLink} url=${doc.url}>${t('openOriginal')}<//>
    </p>
    <p class="text" data-doc-text><${Highlighted} text=${shown} hits=${textHits} />${cut < doc.text.length ? '…' : ''}</p>
    ${long ? html`<button class="link" onClick=${() => setFull(!full)}>${full ? t('showLess') : t('showAll')}</button>` : null}
  </li>`;
}

/** @param {{ path: string }} props */
function Documents({ path }) {
  const [size, setSize] = useState(DOC_PAGE);
  const load = useLoad(() => api('GET', `${path}/documents${query({ size })}`), [path, size]);
  /** @type {{ total: number, items: AlertDocument[] } | undefined} */
  const data = load.data;
  return html`<section class="panel documents">
    <h2>${t('docs')} ${data ? html`<span class="muted">(${data.total})</span>` : null}</h2>
    <${ErrorNotice} error=${load.error} />
    <ul class="doc-list" data-documents>${(data?.items ?? []).map((doc) => html`<${DocumentItem} key=${doc.id} doc=${doc} />`)}</ul>
    ${data && data.total > data.items.length ? html`<button class="more" onClick=${() => setSize(size + DOC_PAGE)}>${t('more')}</button>` : null}
  </section>`;
}

/** @param {{ path: string, version: string }} props */
function Deliveries({ path, version }) {
  const load = useLoad(() => api('GET', `${path}/deliveries`), [path, version]);
  /** @type {import('../types').Delivery[]} */
  const items = Array.isArray(load.data) ? load.data : (load.data?.items ?? []);
  return html`<section class="panel deliveries">
    <h2>${t('deliveries')}</h2>
    <${ErrorNotice} error=${load.error} />
    ${load.data && items.length === 0 ? html`<p class="muted">${t('noDeliveries')}</p>` : null}
    ${items.length
      ? html`<table class="table" data-deliveries>
          <tbody>
            ${items.map(
              (d) => html`<tr>
                <td>${formatTime(d.at, { seconds: true })}</td><td>${d.person}</td><td>${d.channel}</td><td>${d.recipient}</td>
                <td class=${d.status === 'sent' ? 'pos' : d.status === 'held' ? 'muted' : 'neg'}>${t(`delivery_${d.status}`)}${d.error ? html` <span class="muted">${d.error}</span>` : null}</td>
              </tr>`,
            )}
          </tbody>
        </table>`
      : null}
  </section>`;
}

const MOMENTS = ['first_published', 'first_seen', 'opened', 'first_notified', 'acknowledged', 'closed'];
const DURATIONS = ['detect', 'notify', 'acknowledge', 'close'];

/** @param {{ path: string, version: string }} props */
function ReviewPanel({ path, version }) {
  const load = useLoad(() => api('GET', `${path}/review`), [path, version]);
  /** @type {import('../types').Review | undefined} */
  const review = load.data;
  const marks = useMemo(
    () => MOMENTS.flatMap((m) => (review?.moments[m] ? [{ name: t(`moment_${m}`), at: /** @type {string} */ (review.moments[m]) }] : [])),
    [review],
  );
  return html`<section class="panel review" data-review>
    <h2>${t('review')}</h2>
    <${ErrorNotice} error=${load.error} />
    ${review
      ? html`<div class="review-grid">
            <dl class="facts">
              ${DURATIONS.map((d) => html`<div><dt>${t(`duration_${d}`)}</dt><dd data-duration=${d}>${formatDuration(review.durations_ms[d])}</dd></div>`)}
            </dl>
            <dl class="facts">
              ${MOMENTS.map((m) => html`<div><dt>${t(`moment_${m}`)}</dt><dd>${formatTime(review.moments[m], { seconds: true })}</dd></div>`)}
            </dl>
          </div>
          <${SpreadChart} buckets=${review.curve} interval=${review.interval ?? 'hour'} label=${t('review')} marks=${marks} />`
      : null}
  </section>`;
}
