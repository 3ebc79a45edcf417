// 管理 (admin only): users (add, role, disable, reset password) and the audit log.
import { html, useState } from '../lib.js';
import { api, query } from '../api.js';
import { t } from '../i18n.js';
import { formatTime } from '../format.js';
import { ErrorNotice, Notice, useLoad } from '../components.js';

const ROLES = ['duty', 'analyst', 'admin'];
const AUDIT_PAGE = 50;

/** @param {{ session: any }} props */
export function AdminPage({ session }) {
  // Each change made here is audited: the log below reloads after it.
  const [changes, setChanges] = useState(0);
  if (session.user.role !== 'admin') return html`<${Notice} kind="error">${t('notFound')}<//>`;
  return html`<section class="admin">
    <${Users} me=${session.user.name} onChanged=${() => setChanges((n) => n + 1)} />
    <${Audit} changes=${changes} />
  </section>`;
}

/** @param {{ me: string, onChanged: () => void }} props */
function Users({ me, onChanged }) {
  const list = useLoad(() => api('GET', '/api/users'), []);
  const [form, setForm] = useState({ name: '', display_name: '', role: 'duty', password: '' });
  const [error, setError] = useState(/** @type {any} */ (undefined));
  /** @type {any[]} */
  const users = Array.isArray(list.data) ? list.data : (list.data?.users ?? list.data?.items ?? []);

  /** @param {() => Promise<unknown>} fn */
  const run = async (fn) => {
    setError(undefined);
    try {
      await fn();
      await list.reload();
      onChanged();
      return true;
    } catch (err) {
      setError(err);
      return false;
    }
  };
  /** @param {Event} event */
  const add = async (event) => {
    event.preventDefault();
    const body = { name: form.name.trim(), role: form.role, password: form.password, ...(form.display_name.trim() ? { display_name: form.display_name.trim() } : {}) };
    if (await run(() => api('POST', '/api/users', body))) setForm({ name: '', display_name: '', role: 'duty', password: '' });
  };
  /** @param {string} name @param {Record<string, unknown>} change */
  const patch = (name, change) => run(() => api('PATCH', `/api/users/${encodeURIComponent(name)}`, change));
  /** @param {string} key @returns {(e: any) => void} */
  const field = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.value });

  return html`<div class="panel">
    <h2>${t('users')}</h2>
    <${ErrorNotice} error=${error || list.error} />
    <table class="table" data-users>
      <thead><tr><th>${t('userName')}</th><th>${t('displayName')}</th><th>${t('role')}</th><th>${t('status')}</th><th></th></tr></thead>
      <tbody>
        ${users.map(
          (u) => html`<tr data-user-row=${u.name}>
            <td>${u.name}</td>
            <td>${u.display_name ?? ''}</td>
            <td>
              <select value=${u.role} disabled=${u.name === me} onChange=${(/** @type {any} */ e) => patch(u.name, { role: e.currentTarget.value })}>
                ${ROLES.map((r) => html`<option value=${r}>${t(`role_${r}`)}</option>`)}
              </select>
            </td>
            <td class=${u.disabled ? 'neg' : 'pos'}>${u.disabled ? t('disabled') : t('active')}</td>
            <td>${u.name === me ? null : html`<button class="link" onClick=${() => patch(u.name, { disabled: !u.disabled })}>${u.disabled ? t('enable') : t('disable')}</button>`}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    <form class="inline" onSubmit=${add} data-add-user>
      <label>${t('userName')}<input name="name" required value=${form.name} onInput=${field('name')} /></label>
      <label>${t('displayName')}<input name="display_name" value=${form.display_name} onInput=${field('display_name')} /></label>
      <label>${t('role')}<select name="role" value=${form.role} onChange=${field('role')}>${ROLES.map((r) => html`<option value=${r}>${t(`role_${r}`)}</option>`)}</select></label>
      <label>${t('password')}<input name="password" type="password" autocomplete="new-password" required value=${form.password} onInput=${field('password')} /></label>
      <button class="primary" type="submit">${t('addUser')}</button>
    </form>
  </div>`;
}

/** @param {{ changes: number }} props */
function Audit({ changes }) {
  const [filters, setFilters] = useState({ user: '', action: '', target: '' });
  const [draft, setDraft] = useState(filters);
  const [offset, setOffset] = useState(0);
  const load = useLoad(() => api('GET', `/api/audit${query({ ...filters, size: AUDIT_PAGE, offset })}`), [filters, offset, changes]);
  /** @type {any[]} */
  const items = load.data?.items ?? [];
  const total = load.data?.total ?? 0;
  /** @param {string} key @returns {(e: any) => void} */
  const field = (key) => (e) => setDraft({ ...draft, [key]: e.currentTarget.value });
  return html`<div class="panel">
    <h2>${t('audit')}</h2>
    <form class="inline" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      setOffset(0);
      setFilters(draft);
    }}>
      <label>${t('auditUser')}<input name="user" value=${draft.user} onInput=${field('user')} /></label>
      <label>${t('auditAction')}<input name="action" value=${draft.action} onInput=${field('action')} /></label>
      <label>${t('auditTarget')}<input name="target" value=${draft.target} onInput=${field('target')} /></label>
      <button type="submit">${t('filter')}</button>
    </form>
    <${ErrorNotice} error=${load.error} />
    <table class="table" data-audit>
      <thead><tr><th>${t('at')}</th><th>${t('auditUser')}</th><th>${t('auditAction')}</th><th>${t('auditTarget')}</th><th>${t('note')}</th></tr></thead>
      <tbody>
        ${items.map(
          (a) => html`<tr>
            <td>${formatTime(a.at, { seconds: true })}</td><td>${a.user}</td><td><code>${a.action}</code></td><td><code>${a.target}</code></td>
            <td>${a.note ?? ''}${a.ip ? html` <span class="muted small">${a.ip}</span>` : null}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    <div class="pager">
      <button disabled=${offset === 0} onClick=${() => setOffset(Math.max(0, offset - AUDIT_PAGE))}>${t('prev')}</button>
      <span class="muted">${total ? `${offset + 1}–${Math.min(offset + AUDIT_PAGE, total)} / ${total}` : ''}</span>
      <button disabled=${offset + AUDIT_PAGE >= total} onClick=${() => setOffset(offset + AUDIT_PAGE)}>${t('next')}</button>
    </div>
  </div>`;
}
