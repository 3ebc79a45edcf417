// 简报: generated briefings with their downloads; analysts and admins generate one on demand.
import { html, useState } from '../lib.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { formatTime, zonedToIso } from '../format.js';
import { ErrorNotice, Notice, useLoad } from '../components.js';

const PAGE = 50;

/** @param {{ session: any }} props */
export function BriefingsPage({ session }) {
  const [size, setSize] = useState(PAGE);
  const list = useLoad(() => api('GET', `/api/briefings?size=${size}`), [size]);
  /** @type {any[]} */
  const items = list.data?.items ?? [];
  const canGenerate = session.user.role !== 'duty';
  return html`<section class="briefings">
    <h1>${t('briefings')}</h1>
    ${canGenerate ? html`<${Generate} onGenerated=${list.reload} />` : null}
    <${ErrorNotice} error=${list.error} />
    ${list.data && items.length === 0 ? html`<p class="empty">${t('noBriefings')}</p>` : null}
    <table class="table" data-briefings>
      <tbody>
        ${items.map(
          (b) => html`<tr data-briefing=${b.id}>
            <td><span class="tag">${t(`kind_${b.kind}`)}</span></td>
            <td>${b.title}${b.summary ? html`<p class="muted small">${b.summary}</p>` : null}</td>
            <td class="muted small">${t('created')} ${formatTime(b.generated_at)}${b.generated_by ? ` · ${b.generated_by}` : ''}</td>
            <td class="downloads">
              ${b.formats.map(
                (/** @type {string} */ f) => html`<a href=${`/api/briefings/${encodeURIComponent(b.id)}/file.${f}?download=1`} download data-download=${f}>${f.toUpperCase()}</a>`,
              )}
              ${b.formats.includes('html') ? html`<a href=${`/api/briefings/${encodeURIComponent(b.id)}/file.html`} target="_blank" rel="noopener noreferrer">${t('view')}</a>` : null}
              ${b.errors ? html`<span class="neg small" title=${Object.values(b.errors).join('; ')}>⚠</span>` : null}
            </td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${list.data && list.data.total > items.length ? html`<button class="more" onClick=${() => setSize(size + PAGE)}>${t('more')}</button>` : null}
  </section>`;
}

/** @param {{ onGenerated: () => void }} props */
function Generate({ onGenerated }) {
  const [kind, setKind] = useState('daily');
  const [date, setDate] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [error, setError] = useState(/** @type {any} */ (undefined));
  const [done, setDone] = useState(/** @type {string | undefined} */ (undefined));
  const [busy, setBusy] = useState(false);

  /** @param {Event} event */
  const generate = async (event) => {
    event.preventDefault();
    setError(undefined);
    setDone(undefined);
    setBusy(true);
    try {
      /** @type {Record<string, string | undefined>} */
      const body = { kind };
      // Dates and times are read in the console's zone, not the browser's.
      if (kind === 'custom') Object.assign(body, { from: zonedToIso(from), to: zonedToIso(to) });
      else if (date) body.date = date;
      const { briefing } = await api('POST', '/api/briefings', body);
      setDone(briefing.title);
      onGenerated();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  /** @param {(v: string) => void} set @returns {(e: any) => void} */
  const input = (set) => (e) => set(e.currentTarget.value);
  return html`<form class="inline panel" onSubmit=${generate} data-briefing-form>
    <label>${t('period')}
      <select name="kind" value=${kind} onChange=${input(setKind)}>
        ${['daily', 'weekly', 'custom'].map((k) => html`<option value=${k}>${t(`kind_${k}`)}</option>`)}
      </select>
    </label>
    ${kind === 'custom'
      ? html`<label>${t('from')}<input type="datetime-local" name="from" required value=${from} onInput=${input(setFrom)} /></label>
          <label>${t('to')}<input type="datetime-local" name="to" required value=${to} onInput=${input(setTo)} /></label>`
      : html`<label>${t('briefingDate')}<input type="date" name="date" value=${date} onInput=${input(setDate)} /></label>`}
    <button class="primary" type="submit" disabled=${busy}>${busy ? t('generating') : t('generate')}</button>
    ${done ? html`<${Notice} kind="ok">${t('generated', { title: done })}<//>` : null}
    <${ErrorNotice} error=${error} />
  </form>`;
}
