#!/usr/bin/env node
// The dashboard page's script and style, for src/dashboard/page.ts (`npm run build` runs this after
// tsc; the Dockerfile's build stage copies it): esbuild bundles src/dashboard/browser/main.ts and
// what it imports (src/shared too) into one IIFE for today's browsers, and this writes it, with
// src/dashboard/page.css and plot.css, into dist/src/dashboard/page-assets.js (typed by page-assets.d.ts). A .js
// module under dist/src: the container's `COPY dist/src` and the npm package's files take it as they are.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'src', 'dashboard', 'page-assets.js');

const bundled = await build({
  entryPoints: [join(root, 'src', 'dashboard', 'browser', 'main.ts')],
  tsconfig: join(root, 'src', 'dashboard', 'browser', 'tsconfig.json'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['es2022', 'chrome109', 'edge109', 'firefox115', 'safari16'],
  charset: 'utf8',
  legalComments: 'none',
  write: false,
  logLevel: 'warning',
});
const script = bundled.outputFiles[0].text;
// The page's frame first, then the plot's own rules: the order the rules were written in.
const style = ['page.css', 'plot.css'].map((file) => readFileSync(join(root, 'src', 'dashboard', file), 'utf8')).join('\n');
// Both are inlined in the page: a closing tag inside them would end their element early.
if (/<\/script/i.test(script) || /<\/style/i.test(style)) throw new Error('the dashboard script or style holds a closing tag');

mkdirSync(dirname(out), { recursive: true });
const lines = [
  '"use strict";',
  '// Written by scripts/bundle-dashboard.mjs (npm run build): do not edit.',
  `exports.script = ${JSON.stringify(script)};`,
  `exports.style = ${JSON.stringify(style)};`,
];
writeFileSync(out, `${lines.join('\n')}\n`);
