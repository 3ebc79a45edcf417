#!/usr/bin/env node
'use strict';
// The CLI is compiled to dist/ by `npm run build`, which `npm ci` runs through `prepare`.
require('../dist/cli/main.js').main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err && err.stack ? err.stack : String(err)); process.exitCode = 1; },
);
