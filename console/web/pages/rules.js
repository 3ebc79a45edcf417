// 规则: rule files and their topics; an editor validated as one types; test on text; backtest the
// edit against stored documents; save with a message; history with diffs and rollback.
import { html, useEffect, useMemo, useRef, useState } from '../lib.js';
import { api, ApiError } from '../api.js';
import { t } from '../i18n.js';
import { formatTime, sentimentClass, sentimentLabel } from '../format.js';
import { ErrorNotice, ExternalLink, Highlighted, LevelBadge, Notice, useLoad } from '../components.js';

/** @typedef {{ line: number, col: number, message: string }} Issue */

/** @param {{ session: any, file?: string }} props */
export function RulesPage({ session, file }) {
  const list = useLoad(() => api('GET', '/api/rules'), []);
  /** @type {any[]} */
  const files = list.data?.files ?? [];
  const selected = file ?? files[0]?.id;
  return html`<section class="rules">
    <aside class="rule-files">
      <h2>${t('ruleFiles')}</h2>
      <${ErrorNotice} error=${list.error} />
      ${list.data?.rules ? html`<p class="muted small">${t('rulesVersion', { version: list.data.rules.version })}</p>` : null}
      ${list.data && !list.data.in_sync ? html`<p class="neg small">${t('notInSync')}</p>` : null}
      <ul data-rule-files>
        ${files.map(
          (f) => html`<li class=${f.id === selected ? 'current' : ''}>
            <a href=${`#/rules/${encodeURIComponent(f.id)}`} data-rule-file=${f.id}>${f.path ?? f.name ?? f.id}</a>
            <ul class="topics">${(f.topics ?? []).map((/** @type {any} */ tp) => html`<li>${tp.level ? html`<${LevelBadge} level=${tp.level} />` : null} ${tp.name || tp.id}</li>`)}</ul>
          </li>`,
        )}
      </ul>
      ${(list.data?.issues ?? []).length
        ? html`<div class="load-issues"><h3>${t('loadIssues')}</h3>
            <ul>${list.data.issues.map((/** @type {any} */ i) => html`<li class="neg"><code>${i.path}:${i.line}:${i.col}</code> ${i.message}</li>`)}</ul></div>`
        : null}
    </aside>
    ${selected ? html`<${RuleFile} key=${selected} file=${selected} canEdit=${session.user.role !== 'duty'} onSaved=${list.reload} />` : null}
  </section>`;
}

/** @param {{ file: string, canEdit: boolean, onSaved: () => void }} props */
function RuleFile({ file, canEdit, onSaved }) {
  const path = `/api/rules/files/${encodeURIComponent(file)}`;
  const loaded = useLoad(() => api('GET', path), [path]);
  const [text, setText] = useState(/** @type {string | undefined} */ (undefined));
  const [tab, setTab] = useState('test');
  useEffect(() => {
    if (loaded.data) setText(loaded.data.text);
  }, [loaded.data]);

  if (loaded.error) return html`<div class="rule-main"><${ErrorNotice} error=${loaded.error} /></div>`;
  if (!loaded.data || text === undefined) return html`<div class="rule-main"><p class="boot">${t('loading')}</p></div>`;
  const dirty = text !== loaded.data.text;
  const afterSave = () => {
    loaded.reload();
    onSaved();
  };

  return html`<div class="rule-main">
    <h2>${loaded.data.path} ${dirty ? html`<span class="tag warn" data-unsaved>${t('unsaved')}</span>` : null}</h2>
    ${canEdit ? null : html`<p class="muted small">${t('readOnly')}</p>`}
    <${Editor} file=${file} text=${text} onChange=${setText} readOnly=${!canEdit} />
    ${canEdit ? html`<${SaveBar} path=${path} text=${text} version=${loaded.data.version} dirty=${dirty} onSaved=${afterSave} onReload=${loaded.reload} />` : null}
    <nav class="tabs">
      ${['test', 'backtest', 'history'].map(
        (name) => html`<button class=${tab === name ? 'current' : ''} data-tab=${name} onClick=${() => setTab(name)}>
          ${t({ test: 'testOnText', backtest: 'backtest', history: 'ruleHistory' }[name] ?? name)}
        </button>`,
      )}
    </nav>
    ${tab === 'test' ? html`<${TestPanel} file=${file} text=${text} />` : null}
    ${tab === 'backtest' ? html`<${BacktestPanel} file=${file} text=${text} />` : null}
    ${tab === 'history'
      ? html`<${HistoryPanel} path=${path} version=${loaded.data.version} canEdit=${canEdit} onRolledBack=${afterSave} />`
      : null}
  </div>`;
}

/** @param {{ file: string, text: string, onChange: (text: string) => void, readOnly: boolean }} props */
function Editor({ file, text, onChange, readOnly }) {
  const area = useRef(/** @type {HTMLTextAreaElement | null} */ (null));
  const gutter = useRef(/** @type {HTMLPreElement | null} */ (null));
  const [issues, setIssues] = useState(/** @type {Issue[] | undefined} */ (undefined));
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState(/** @type {any} */ (undefined));

  // Validated 400 ms after the last keystroke; an answer to an older text is dropped.
  const latest = useRef(0);
  useEffect(() => {
    const ticket = ++latest.current;
    setChecking(true);
    const timer = setTimeout(async () => {
      try {
        const result = await api('POST', '/api/rules/validate', { text, file });
        if (ticket !== latest.current) return;
        setIssues(result.issues ?? []);
        setError(undefined);
      } catch (err) {
        if (ticket === latest.current) setError(err);
      } finally {
        if (ticket === latest.current) setChecking(false);
      }
    }, 400);
    return () => clearTimeout(timer);
  }, [text]);

  const lines = useMemo(() => text.split('\n').length, [text]);
  const bad = new Set((issues ?? []).map((i) => i.line));
  /** @param {Issue} issue */
  const jump = (issue) => {
    const el = area.current;
    if (!el) return;
    const starts = text.split('\n').slice(0, issue.line - 1).reduce((n, l) => n + l.length + 1, 0);
    const at = starts + Math.max(0, issue.col - 1);
    el.focus();
    el.setSelectionRange(at, at);
  };
  return html`<div class="editor-wrap">
    <div class="editor">
      <pre class="gutter" ref=${gutter} aria-hidden="true">${Array.from({ length: lines }, (_, i) => html`<span class=${bad.has(i + 1) ? 'bad' : ''}>${i + 1}</span>`)}</pre>
      <textarea
        ref=${area}
        data-rule-editor
        spellcheck=${false}
        wrap="off"
        readOnly=${readOnly}
        value=${text}
        onInput=${(/** @type {any} */ e) => onChange(e.currentTarget.value)}
        onScroll=${(/** @type {any} */ e) => {
          if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
        }}
      ></textarea>
    </div>
    <div class="validation" data-validation=${checking ? 'checking' : issues && issues.length ? 'invalid' : 'valid'}>
      ${checking ? html`<span class="muted">${t('validating')}</span>` : issues && issues.length === 0 ? html`<span class="pos">✓ ${t('valid')}</span>` : null}
      ${issues && issues.length ? html`<span class="neg">${t('issuesCount', { n: issues.length })}</span>` : null}
      <${ErrorNotice} error=${error} />
      <ul class="issues" data-issues>
        ${(issues ?? []).map((i) => html`<li><button class="link" onClick=${() => jump(i)}><code>${i.line}:${i.col}</code></button> ${i.message}</li>`)}
      </ul>
    </div>
  </div>`;
}

/** @param {{ path: string, text: string, version: string, dirty: boolean, onSaved: () => void, onReload: () => void }} props */
function SaveBar({ path, text, version, dirty, onSaved, onReload }) {
  const [message, setMessage] = useState('');
  const [result, setResult] = useState(/** @type {{ kind: 'ok' | 'error', text: string, issues?: Issue[], conflict?: boolean } | undefined} */ (undefined));
  const [busy, setBusy] = useState(false);
  /** @param {Event} event */
  const save = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      await api('PUT', path, { text, base_version: version, message: message.trim() });
      setResult({ kind: 'ok', text: t('saved') });
      setMessage('');
      onSaved();
    } catch (err) {
      const e = /** @type {ApiError} */ (err);
      if (e instanceof ApiError && e.status === 409) setResult({ kind: 'error', text: t('saveConflict'), conflict: true });
      else setResult({ kind: 'error', text: t('error', { message: `${e.message} (${e.code})` }), issues: /** @type {any} */ (e.details)?.issues });
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="save-bar" data-save onSubmit=${save}>
    <input name="message" placeholder=${t('saveMessage')} value=${message} onInput=${(/** @type {any} */ e) => setMessage(e.currentTarget.value)} required />
    <button class="primary" type="submit" disabled=${busy || !dirty}>${t('save')}</button>
    ${result
      ? html`<${Notice} kind=${result.kind}>${result.text}
          ${result.conflict ? html` <button type="button" class="link" onClick=${onReload}>${t('reload')}</button>` : null}
          ${result.issues?.length ? html`<ul>${result.issues.map((i) => html`<li><code>${i.line}:${i.col}</code> ${i.message}</li>`)}</ul>` : null}
        <//>`
      : null}
  </form>`;
}

/** @param {{ file: string, text: string }} props */
function TestPanel({ file, text }) {
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [result, setResult] = useState(/** @type {any} */ (undefined));
  const [error, setError] = useState(/** @type {any} */ (undefined));
  const [tested, setTested] = useState(/** @type {{ title: string, text: string } | undefined} */ (undefined));
  /** @param {Event} event */
  const run = async (event) => {
    event.preventDefault();
    try {
      // The editor's text as it is (saved or not) with the other files' running topics.
      setResult(await api('POST', '/api/rules/test', { title, text: body, rules: text, file }));
      setTested({ title, text: body });
      setError(undefined);
    } catch (err) {
      setError(err);
    }
  };
  /** @type {any[]} */
  const topics = result?.topics ?? [];
  return html`<div class="panel test-panel">
    <form onSubmit=${run} data-rule-test>
      <label>${t('testTitle')}<input name="title" value=${title} onInput=${(/** @type {any} */ e) => setTitle(e.currentTarget.value)} /></label>
      <label>${t('testText')}<textarea name="text" rows="5" value=${body} onInput=${(/** @type {any} */ e) => setBody(e.currentTarget.value)}></textarea></label>
      <button class="primary" type="submit">${t('runTest')}</button>
    </form>
    <${ErrorNotice} error=${error} />
    ${result && tested
      ? html`<div class="test-result" data-test-result>
          ${result.sentiment !== undefined ? html`<p>${t('sentiment')}: <span class=${sentimentClass(num(result.sentiment))}>${sentimentLabel(num(result.sentiment))}</span></p>` : null}
          ${topics.length === 0 ? html`<p class="muted">${t('noTopicHit')}</p>` : null}
          ${topics.map((r) => html`<${TopicResult} result=${r} doc=${tested} />`)}
        </div>`
      : null}
  </div>`;
}

/** A sentiment given as a number or as `{score}`. @param {any} value @returns {number | undefined} */
function num(value) {
  return typeof value === 'number' ? value : typeof value?.score === 'number' ? value.score : undefined;
}

/** @param {{ result: any, doc: { title: string, text: string } }} props */
function TopicResult({ result, doc }) {
  const { topic } = result;
  /** @type {any[]} */
  const hits = result.hits;
  /** @type {string[]} */
  const reasons = result.level_reasons ?? [];
  /** @type {string[]} */
  const explanation = result.relevance?.reasons ?? [];
  const passed = result.passed;
  return html`<section class=${`topic-result ${passed ? 'passed' : 'failed'}`} data-topic-result=${topic.id}>
    <h3>${result.level ? html`<${LevelBadge} level=${result.level} />` : null} ${topic.name || topic.id}
      <span class=${passed ? 'pos' : 'muted'}>${passed ? t('passed') : t('notPassed')}</span></h3>
    <p>
      ${t('score')}: <strong data-score>${typeof result.score === 'number' ? result.score.toFixed(3) : '—'}</strong>
      ${result.threshold !== undefined ? html` / ${result.threshold}` : null}
      · ${t('sentiment')}: <span class=${sentimentClass(num(result.sentiment))}>${sentimentLabel(num(result.sentiment))}</span>
    </p>
    ${doc.title ? html`<p class="hl-title"><${Highlighted} text=${doc.title} hits=${hits.filter((h) => h.field === 'title')} /></p>` : null}
    <p class="text"><${Highlighted} text=${doc.text} hits=${hits.filter((h) => h.field === 'text')} /></p>
    ${explanation.length ? html`<ul class="explain">${explanation.map((s) => html`<li>${s}</li>`)}</ul>` : null}
    ${reasons.length ? html`<p class="muted">${t('levelReasons')}:</p><ul>${reasons.map((s) => html`<li>${s}</li>`)}</ul>` : null}
  </section>`;
}

/** @param {{ file: string, text: string }} props */
function BacktestPanel({ file, text }) {
  const [days, setDays] = useState(7);
  const [job, setJob] = useState(/** @type {any} */ (undefined));
  const [error, setError] = useState(/** @type {any} */ (undefined));
  const polling = useRef(/** @type {any} */ (undefined));
  useEffect(() => () => clearTimeout(polling.current), []);

  /** @param {string} id */
  const poll = async (id) => {
    try {
      const state = await api('GET', `/api/rules/backtest/${encodeURIComponent(id)}`);
      setJob(state);
      if (state.status === 'running') polling.current = setTimeout(() => poll(id), 500);
    } catch (err) {
      setError(err);
    }
  };
  /** @param {Event} event */
  const run = async (event) => {
    event.preventDefault();
    clearTimeout(polling.current);
    setError(undefined);
    setJob({ status: 'running', scanned: 0, total: 0 });
    try {
      const started = await api('POST', '/api/rules/backtest', { file, text, days: Number(days) });
      setJob(started);
      await poll(started.id);
    } catch (err) {
      setJob(undefined);
      setError(err);
    }
  };
  return html`<div class="panel backtest-panel">
    <form class="inline" onSubmit=${run} data-backtest>
      <label>${t('backtestDays')}<input name="days" type="number" min="1" max="365" value=${days} onInput=${(/** @type {any} */ e) => setDays(Number(e.currentTarget.value))} /></label>
      <button class="primary" type="submit" disabled=${job?.status === 'running'}>${t('runBacktest')}</button>
    </form>
    <${ErrorNotice} error=${error} />
    ${job
      ? html`<div data-backtest-status=${job.status}>
          <progress max=${job.total || 1} value=${job.scanned || 0}></progress>
          <span class="muted"> ${t('backtestProgress', { scanned: job.scanned ?? 0, total: job.total ?? 0 })} · ${t(`backtest_${job.status}`)}</span>
          ${job.error ? html`<${Notice} kind="error">${typeof job.error === 'string' ? job.error : job.error.message}<//>` : null}
          ${job.added
            ? html`<div class="backtest-lists">
                <${DocChanges} title=${t('added')} items=${job.added} count=${job.added_count} kind="added" />
                <${DocChanges} title=${t('removed')} items=${job.removed} count=${job.removed_count} kind="removed" />
              </div>
              <p class="muted">${t('unchanged', { n: job.unchanged })}</p>`
            : null}
        </div>`
      : null}
  </div>`;
}

/** Documents a backtest would newly match or drop (the first of them; `count` is all). @param {{ title: string, items: any[], count: number, kind: string }} props */
function DocChanges({ title, items, count, kind }) {
  return html`<div class=${`changes ${kind}`} data-backtest-list=${kind}>
    <h3>${title} (${count ?? items.length})</h3>
    <ul>
      ${items.map(
        (doc) => html`<li data-backtest-doc=${doc.id}>
          <${LevelBadge} level=${doc.level} /> <span class="tag">${doc.topic}</span>
          <span>${doc.title || doc.id}</span>
          <span class="muted small"> ${doc.source} · ${formatTime(doc.published_at)} · ${t('score')} ${doc.score.toFixed(2)}</span>
          <${ExternalLink} url=${doc.url}>${t('openOriginal')}<//>
        </li>`,
      )}
    </ul>
  </div>`;
}

/** @param {{ path: string, version: string, canEdit: boolean, onRolledBack: () => void }} props */
function HistoryPanel({ path, version, canEdit, onRolledBack }) {
  const list = useLoad(() => api('GET', `${path}/history`), [path, version]);
  const [shown, setShown] = useState(/** @type {number | undefined} */ (undefined));
  const entry = useLoad(() => (shown === undefined ? Promise.resolve(undefined) : api('GET', `${path}/history/${shown}`)), [path, shown]);
  const [notice, setNotice] = useState(/** @type {any} */ (undefined));
  /** @type {any[]} */
  const items = list.data?.versions ?? [];
  /** @param {number} n */
  const rollback = async (n) => {
    try {
      await api('POST', `${path}/history/${n}/rollback`, { base_version: version, message: t('rollbackMessage', { n }) });
      setNotice({ kind: 'ok', text: t('rolledBack', { n }) });
      onRolledBack();
    } catch (err) {
      const e = /** @type {ApiError} */ (err);
      setNotice({ kind: 'error', text: e.status === 409 ? t('saveConflict') : t('error', { message: `${e.message} (${e.code})` }) });
    }
  };
  return html`<div class="panel history-panel">
    <${ErrorNotice} error=${list.error} />
    ${notice ? html`<${Notice} kind=${notice.kind}>${notice.text}<//>` : null}
    <table class="table" data-rule-history>
      <tbody>
        ${items.map(
          (v) => html`<tr class=${shown === v.n ? 'current' : ''} data-version=${v.n}>
            <td><button class="link" onClick=${() => setShown(v.n)}>${t('versionN', { n: v.n })}</button></td>
            <td>${formatTime(v.at, { seconds: true })}</td>
            <td>${v.author}</td>
            <td>${v.message}</td>
            <td>${canEdit && v.n !== items[0]?.n ? html`<button data-rollback=${v.n} onClick=${() => rollback(v.n)}>${t('rollback')}</button>` : null}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    <${ErrorNotice} error=${entry.error} />
    ${entry.data ? html`<${Diff} diff=${entry.data.diff ?? ''} />` : null}
  </div>`;
}

/** A unified diff, one line per row, coloured by its first character. @param {{ diff: string }} props */
function Diff({ diff }) {
  return html`<pre class="diff" data-diff>${diff.split('\n').map((line) => {
    const kind = line.startsWith('+++') || line.startsWith('---') ? 'file' : line.startsWith('@@') ? 'hunk' : line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : '';
    return html`<span class=${kind}>${line}\n</span>`;
  })}</pre>`;
}
