// ECharts, loaded on the first page that draws a chart (it is a megabyte), rendered to canvas.
import { html, useEffect, useRef } from './lib.js';
import { t } from './i18n.js';

/** @type {Promise<typeof import('./vendor/echarts.mjs')> | undefined} */
let loading;

function echarts() {
  loading ??= import('./vendor/echarts.mjs');
  return loading;
}

export const COLORS = { level1: '#dc2626', level2: '#ea580c', level3: '#ca8a04', documents: '#2563eb', reposts: '#0d9488', neg: '#dc2626', neu: '#6b7280', pos: '#16a34a' };

/**
 * One chart. Tooltips render in the canvas too (`richText`), not as HTML: series and category
 * names can be scraped source names.
 * @param {{ option: Record<string, any>, height?: number, label?: string, empty?: boolean }} props
 */
export function Chart({ option, height = 260, label, empty }) {
  const ref = useRef(/** @type {HTMLDivElement | null} */ (null));
  const chart = useRef(/** @type {any} */ (null));
  useEffect(() => {
    let disposed = false;
    /** @type {ResizeObserver | undefined} */
    let observer;
    echarts().then((lib) => {
      if (disposed || !ref.current) return;
      chart.current = lib.init(ref.current, undefined, { renderer: 'canvas' });
      chart.current.setOption({ ...option, tooltip: { ...(option.tooltip ?? {}), renderMode: 'richText' } }, true);
      observer = new ResizeObserver(() => chart.current?.resize());
      observer.observe(ref.current);
    });
    return () => {
      disposed = true;
      observer?.disconnect();
      chart.current?.dispose();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    chart.current?.setOption({ ...option, tooltip: { ...(option.tooltip ?? {}), renderMode: 'richText' } }, true);
  }, [option]);
  return html`<div class="chart-box">
    ${empty ? html`<p class="chart-empty">${t('noData')}</p>` : null}
    <div class="chart" ref=${ref} role="img" aria-label=${label ?? ''} style=${{ height: `${height}px` }}></div>
  </div>`;
}
