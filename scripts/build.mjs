#!/usr/bin/env node
// `npm run build` (tsc, the dashboard's browser bundle and the prebuilt workflow bundles, about 10 s),
// only when something it reads changed: `npm start`, the bench and the soak run this first, so a warm checkout starts at once.
// What the build reads is hashed (every file under src/, the .ts files tsc compiles under test/,
// bench/ and harness/, tsconfig.json, package.json, package-lock.json, npm's record of node_modules, this
// script and scripts/bundle-dashboard.mjs); the hash, and the size and time of each output, are written to dist/.build-stamp after
// a build that succeeded and removed before each build, so a failed or interrupted build is never
// taken for a done one, nor outputs rewritten since by another build (a plain `npm run build` or
// `tsc`). `--force` builds anyway (`npm test` does, so its code is never stale, and leaves the
// stamp for the next `npm start`). The Dockerfile runs `npm run build` itself.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stampPath = join(root, 'dist', '.build-stamp');
// What `npm start`, the worker and the CLI load: a build that left any of them out is not done.
const OUTPUTS = [
  'dist/workflow-bundle.js',
  'dist/workflow-bundle-encoded-failures.js',
  // The dashboard page's script (esbuild's bundle of src/dashboard/browser/) and style: scripts/bundle-dashboard.mjs.
  'dist/src/dashboard/page-assets.js',
  'dist/src/cli/dev.js',
  'dist/src/cli/main.js',
  'dist/src/worker/main.js',
  'dist/bench/run.js',
];
const INPUT_DIRS = ['src', 'test', 'bench', 'harness'];
// Under test/, bench/ and harness/, only what tsc compiles (tsconfig.json's include: **/*.ts). Their other
// files are read from the source tree at run time, and rewritten by runs: bench/results.json by
// `npm run bench`, test/replay/histories/ by `npm run record-histories`; hashing them made the
// next start rebuild for nothing. Everything under src/ counts (it is all code).
const isInput = (file) => file.split(sep)[0] === 'src' || file.endsWith('.ts');
// node_modules/.package-lock.json is npm's record of what is installed: a new install is a change.
const INPUT_FILES = [
  'tsconfig.json',
  'package.json',
  'package-lock.json',
  'node_modules/.package-lock.json',
  'scripts/build.mjs',
  'scripts/bundle-dashboard.mjs',
];

function filesUnder(dir) {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === '__pycache__' ? [] : filesUnder(path);
    return entry.isFile() ? [path] : [];
  });
}

function inputsHash() {
  const hash = createHash('sha256');
  const files = [
    ...INPUT_DIRS.filter((dir) => existsSync(join(root, dir)))
      .flatMap(filesUnder)
      .filter(isInput),
    ...INPUT_FILES.filter((f) => existsSync(join(root, f))),
  ];
  for (const file of files.map((f) => relative(root, join(root, f))).sort()) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(root, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/**
 * The outputs as this build left them (size and time of each): a build run another way since
 * (`npm run build`, `tsc`) rewrote them, and what it built from is unknown, so the stamp no longer holds.
 */
function outputsMark() {
  return OUTPUTS.map((f) => {
    const stat = statSync(join(root, f), { throwIfNoEntry: false });
    return stat ? `${f}:${stat.size}:${stat.mtimeMs}` : `${f}:missing`;
  }).join('\n');
}

const hash = inputsHash();
const built =
  existsSync(stampPath) &&
  readFileSync(stampPath, 'utf8') === `${hash}\n${outputsMark()}` &&
  OUTPUTS.every((f) => existsSync(join(root, f)));
if (built && !process.argv.includes('--force')) {
  console.error('build: up to date (no source changed since the last build)');
  process.exit(0);
}
rmSync(stampPath, { force: true });
try {
  execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
} catch {
  console.error('build: failed (see above); nothing was marked built');
  process.exit(1);
}
writeFileSync(stampPath, `${hash}\n${outputsMark()}`);
