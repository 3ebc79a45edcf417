// One EventSource for the whole page (/api/alerts/stream): the queue and the alert page subscribe,
// the header shows whether it is connected. The browser reconnects by itself after an error.

/** @typedef {import('./types').Alert} Alert */

/** @type {EventSource | undefined} */
let source;
/** @type {Set<(alert: Alert) => void>} */
const listeners = new Set();
/** @type {Set<(live: boolean) => void>} */
const stateListeners = new Set();
let live = false;

/** @param {boolean} value */
function setLive(value) {
  live = value;
  for (const fn of stateListeners) fn(value);
}

export function openStream() {
  if (source) return;
  source = new EventSource('/api/alerts/stream', { withCredentials: true });
  source.addEventListener('open', () => setLive(true));
  source.addEventListener('error', () => setLive(false));
  source.addEventListener('alert', (event) => {
    /** @type {Alert} */
    let alert;
    try {
      alert = JSON.parse(/** @type {MessageEvent} */ (event).data);
    } catch {
      return;
    }
    for (const fn of listeners) fn(alert);
  });
}

export function closeStream() {
  source?.close();
  source = undefined;
  setLive(false);
}

/** @param {(alert: Alert) => void} fn @returns {() => void} */
export function onAlert(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** @param {(live: boolean) => void} fn @returns {() => void} */
export function onLiveChange(fn) {
  stateListeners.add(fn);
  fn(live);
  return () => stateListeners.delete(fn);
}
