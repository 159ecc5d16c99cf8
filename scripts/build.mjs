#!/usr/bin/env node
// `npm run build` (tsc + the prebuilt workflow bundles, about 10 s), only when something it reads
// changed: `npm start`, the bench and the soak run this first, so a warm checkout starts at once.
// What the build reads is hashed (every file under src/, test/ and bench/, tsconfig.json,
// package.json, package-lock.json, this script); the hash is written to dist/.build-stamp after a
// build that succeeded, and removed before each build, so a failed or interrupted build is never
// taken for a done one. `--force` builds anyway (`npm test` does, so its code is never stale, and
// leaves the stamp for the next `npm start`). The Dockerfile runs `npm run build` itself.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stampPath = join(root, 'dist', '.build-stamp');
// What `npm start`, the worker and the CLI load: a build that left any of them out is not done.
const OUTPUTS = ['dist/workflow-bundle.js', 'dist/workflow-bundle-encoded-failures.js', 'dist/src/cli/dev.js', 'dist/src/cli/main.js', 'dist/src/worker/main.js'];
const INPUT_DIRS = ['src', 'test', 'bench'];
const INPUT_FILES = ['tsconfig.json', 'package.json', 'package-lock.json', 'scripts/build.mjs'];

function filesUnder(dir) {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === '__pycache__' ? [] : filesUnder(path);
    return entry.isFile() ? [path] : [];
  });
}

function inputsHash() {
  const hash = createHash('sha256');
  const files = [...INPUT_DIRS.filter((dir) => existsSync(join(root, dir))).flatMap(filesUnder), ...INPUT_FILES.filter((f) => existsSync(join(root, f)))];
  for (const file of files.map((f) => relative(root, join(root, f))).sort()) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(root, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

const hash = inputsHash();
const built = existsSync(stampPath) && readFileSync(stampPath, 'utf8') === hash && OUTPUTS.every((f) => existsSync(join(root, f)));
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
writeFileSync(stampPath, hash);
