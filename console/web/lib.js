// The one place the UI imports its view library from: Preact with htm's tagged templates instead
// of JSX, so the modules run in the browser as written. Text in templates is escaped by Preact.
import { h, render } from './vendor/preact.mjs';
import htm from './vendor/htm.mjs';

export { h, render };
export { useState, useEffect, useRef, useMemo, useCallback } from './vendor/hooks.mjs';
export const html = htm.bind(h);
