import { html, useState } from '../lib.js';
import { api } from '../api.js';
import { getLanguage, t } from '../i18n.js';
import { Notice } from '../components.js';

/** @param {{ expired: boolean, version: string, onLanguage: (lang: string) => void, onSignedIn: (session: any) => void }} props */
export function LoginPage({ expired, version, onLanguage, onSignedIn }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  /** @param {Event} event */
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      onSignedIn(await api('POST', '/api/session', { name, password }));
    } catch (err) {
      setError(t('signInFailed', { message: /** @type {any} */ (err).message }));
    } finally {
      setBusy(false);
    }
  };

  return html`<div class="login">
    <form class="card" onSubmit=${submit} data-login>
      <h1><img src="/assets/app/icon.svg" alt="" width="28" height="28" />${t('app')}</h1>
      ${expired ? html`<${Notice}>${t('sessionExpired')}<//>` : null}
      <label>${t('userName')}<input name="name" autocomplete="username" required value=${name} onInput=${(/** @type {any} */ e) => setName(e.currentTarget.value)} /></label>
      <label>${t('password')}<input name="password" type="password" autocomplete="current-password" required value=${password}
        onInput=${(/** @type {any} */ e) => setPassword(e.currentTarget.value)} /></label>
      ${error ? html`<${Notice} kind="error">${error}<//>` : null}
      <button class="primary" type="submit" disabled=${busy}>${t('signIn')}</button>
      <p class="muted small">
        <button type="button" class="link" onClick=${() => onLanguage(getLanguage() === 'en' ? 'zh-CN' : 'en')}>${getLanguage() === 'en' ? '中文' : 'English'}</button>
        · Shaobing ${version}
      </p>
    </form>
  </div>`;
}
