// The console's single page: settings and session first, then the signed-in shell with its pages,
// routed by the URL's hash (#/alerts, #/alerts/<id>, #/rules, #/overview, #/briefings, #/admin).
import { html, render, useEffect, useState } from './lib.js';
import { api, setCsrfToken, whenSignedOut } from './api.js';
import { getLanguage, setLanguage, t } from './i18n.js';
import { setTimeZone } from './format.js';
import { closeStream, onLiveChange, openStream } from './stream.js';
import { Notice } from './components.js';
import { LoginPage } from './pages/login.js';
import { QueuePage } from './pages/queue.js';
import { AlertPage } from './pages/alert.js';
import { RulesPage } from './pages/rules.js';
import { OverviewPage } from './pages/overview.js';
import { BriefingsPage } from './pages/briefings.js';
import { AdminPage } from './pages/admin.js';

/** @typedef {import('./types').Session} Session */
/** @typedef {import('./types').Settings} Settings */

function currentRoute() {
  const path = decodeURIComponent(location.hash.replace(/^#/, '')) || '/alerts';
  return path.split('/').filter(Boolean);
}

function useRoute() {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}

function LiveIndicator() {
  const [live, setLive] = useState(false);
  useEffect(() => onLiveChange(setLive), []);
  return html`<span class=${`live ${live ? 'on' : 'off'}`} data-live=${live ? 'on' : 'off'} title=${live ? t('live') : t('reconnecting')}>
    <span class="dot"></span>${live ? t('live') : t('reconnecting')}
  </span>`;
}

/** @param {{ session: Session, onLanguage: (lang: 'zh-CN' | 'en') => void, onSignOut: () => void, section: string }} props */
function Header({ session, onLanguage, onSignOut, section }) {
  const { user } = session;
  const nav = ['alerts', 'rules', 'overview', 'briefings', ...(user.role === 'admin' ? ['admin'] : [])];
  return html`<header class="top">
    <a class="brand" href="#/alerts"><img src="/assets/app/icon.svg" alt="" width="22" height="22" />${t('app')}</a>
    <nav>
      ${nav.map((name) => html`<a href=${`#/${name}`} class=${section === name ? 'current' : ''} data-nav=${name}>${t(`nav_${name}`)}</a>`)}
    </nav>
    <div class="who">
      <${LiveIndicator} />
      <span class="user" data-user=${user.name}>${user.display_name || user.name} · ${t(`role_${user.role}`)}</span>
      <button class="link lang" data-lang-switch onClick=${() => onLanguage(getLanguage() === 'en' ? 'zh-CN' : 'en')}>
        ${getLanguage() === 'en' ? '中文' : 'English'}
      </button>
      <button class="link" data-sign-out onClick=${onSignOut}>${t('signOut')}</button>
    </div>
  </header>`;
}

/** @param {{ session: Session, route: string[] }} props */
function Page({ session, route }) {
  const [section, id] = route;
  switch (section) {
    case 'alerts':
      return id ? html`<${AlertPage} key=${id} id=${id} session=${session} />` : html`<${QueuePage} session=${session} />`;
    case 'rules':
      return html`<${RulesPage} session=${session} file=${id} />`;
    case 'overview':
      return html`<${OverviewPage} />`;
    case 'briefings':
      return html`<${BriefingsPage} session=${session} />`;
    case 'admin':
      return html`<${AdminPage} session=${session} />`;
    default:
      return html`<${Notice} kind="error">${t('notFound')}<//>`;
  }
}

function App() {
  const [settings, setSettings] = useState(/** @type {Settings | undefined} */ (undefined));
  const [session, setSession] = useState(/** @type {Session | null | undefined} */ (undefined));
  const [, setLang] = useState(getLanguage());
  const [expired, setExpired] = useState(false);
  const route = useRoute();

  /** @param {string | undefined} lang */
  const applyLanguage = (lang) => {
    if (lang !== 'zh-CN' && lang !== 'en') return;
    setLanguage(lang);
    setLang(lang);
  };

  /** @param {Session | null} value */
  const signedIn = (value) => {
    setCsrfToken(value?.csrf_token);
    setSession(value);
    if (value) {
      applyLanguage(value.user.language);
      setExpired(false);
      openStream();
    } else closeStream();
  };

  useEffect(() => {
    whenSignedOut(() => {
      setExpired(true);
      signedIn(null);
    });
    (async () => {
      /** @type {Settings} */
      const loaded = await api('GET', '/api/settings');
      setTimeZone(loaded.time_zone);
      applyLanguage(loaded.language);
      setSettings(loaded);
      try {
        signedIn(await api('GET', '/api/session'));
      } catch {
        signedIn(null);
      }
    })().catch(() => setSettings({ language: 'zh-CN', time_zone: 'Asia/Shanghai', version: '?' }));
  }, []);

  if (!settings || session === undefined) return html`<p class="boot">${t('loading')}</p>`;
  if (!session) {
    return html`<${LoginPage} expired=${expired} version=${settings.version} onLanguage=${applyLanguage} onSignedIn=${signedIn} />`;
  }

  /** @param {'zh-CN' | 'en'} lang */
  const switchLanguage = async (lang) => {
    applyLanguage(lang);
    try {
      await api('PUT', '/api/me/preferences', { language: lang });
    } catch {
      // The switch still applies to this page; it is only not remembered.
    }
  };
  const signOut = async () => {
    try {
      await api('DELETE', '/api/session');
    } finally {
      signedIn(null);
      location.hash = '#/alerts';
    }
  };
  return html`<div class="shell">
    <${Header} session=${session} section=${route[0] ?? 'alerts'} onLanguage=${switchLanguage} onSignOut=${signOut} />
    <main><${Page} session=${session} route=${route} /></main>
    <footer>Shaobing ${settings.version} · ${settings.time_zone}</footer>
  </div>`;
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(html`<${App} />`, root);
}
