/**
 * deploy/entrypoint.sh: POSIX sh, linted with the pinned shellcheck (with the Temporal setup scripts
 * of the demo and the cluster tests), and run with a stub mtf-ping-pong on PATH that records its calls.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ExitCode } from '../../src/cli/output';
import { shellcheckPath } from '../../src/toolchain/binaries';
import { SETUP_SCRIPTS } from '../cluster/setup-scripts';
import { describeRun } from '../helpers/processes';
import { root, read, run } from '../helpers/deploy-files';

describe('deploy/entrypoint.sh', () => {
  const script = join(root, 'deploy', 'entrypoint.sh');

  test('is POSIX sh, executable, and shellcheck finds nothing; so are the Temporal setup scripts of the demo and the cluster tests', async () => {
    const text = read('deploy/entrypoint.sh');
    assert.ok((statSync(script).mode & 0o111) !== 0, 'executable');
    // The setup scripts run as `sh SCRIPT` (Compose mounts them read-only): no executable bit needed.
    const scripts = ['deploy/entrypoint.sh', SETUP_SCRIPTS.schema, SETUP_SCRIPTS.namespace];
    for (const path of scripts) {
      assert.match(read(path), /^#!\/bin\/sh\n/, `${path}: POSIX sh`);
      assert.match(read(path), /^set -eu$/m, `${path}: set -eu`);
    }
    const ran = await run(shellcheckPath(), ['--shell=sh', '--severity=style', '--format=gcc', ...scripts]);
    assert.equal(ran.code, 0, describeRun(ran));
    assert.equal(ran.stdout.trim(), '');
    assert.match(
      text,
      new RegExp(`^EXIT_ALREADY_RUNNING=${ExitCode.AlreadyRunning}$`, 'm'),
      "the CLI's exit code for a loop already running",
    );
  });

  describe('with a stub mtf-ping-pong on PATH that records its calls', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mtf-entrypoint-'));
    const bin = join(dir, 'bin');
    after(() => rmSync(dir, { recursive: true, force: true }));

    before(() => {
      mkdirSync(bin);
      const stub = join(bin, 'mtf-ping-pong');
      writeFileSync(
        stub,
        [
          '#!/bin/sh',
          'line=""',
          'for arg in "$@"; do line="$line[$arg]"; done',
          'printf "%s\\n" "$line" >> "$STUB_LOG"',
          'case "$1" in',
          '  health) exit "${STUB_HEALTH_EXIT:-0}" ;;',
          '  start) exit "${STUB_START_EXIT:-0}" ;;',
          '  worker) printf "pid %s\\n" "$$" >> "$STUB_LOG"; exit "${STUB_WORKER_EXIT:-0}" ;;',
          'esac',
          '',
        ].join('\n'),
      );
      chmodSync(stub, 0o755);
    });

    let runs = 0;
    async function entrypoint(env: Record<string, string>, args: string[] = []) {
      const log = join(dir, `calls-${++runs}.log`);
      writeFileSync(log, '');
      const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(START_LOOP|MTF_|TEMPORAL_)/.test(k)));
      const child = spawn(script, args, {
        env: { ...clean, PATH: `${bin}:${process.env.PATH ?? ''}`, STUB_LOG: log, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
        signal: AbortSignal.timeout(20_000),
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.resume();
      const [code] = (await once(child, 'exit')) as [number | null];
      const lines = readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
      const pid = lines.find((l) => l.startsWith('pid '));
      return {
        code,
        stderr,
        calls: lines.filter((l) => !l.startsWith('pid ')),
        workerPid: pid ? Number(pid.slice(4)) : null,
        pid: child.pid,
      };
    }

    const health = '[health][--temporal-only][--wait][120s]';

    test('by default: wait for Temporal, then exec the worker (same PID: it gets SIGTERM itself)', async () => {
      const r = await entrypoint({});
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.calls, [health, '[worker]']);
      assert.equal(r.workerPid, r.pid, 'the worker replaced the shell (exec)');
    });

    test('START_LOOP=true: health, then start, then the worker; TEMPORAL_WAIT and MTF_CONFIG_FILE are passed on', async () => {
      const plain = await entrypoint({ START_LOOP: 'true' });
      assert.deepEqual(plain.calls, [health, '[start]', '[worker]']);
      const configured = await entrypoint({ START_LOOP: 'TRUE', MTF_CONFIG_FILE: '/etc/mtf/loop config.json', TEMPORAL_WAIT: '5s' });
      assert.deepEqual(configured.calls, [
        '[health][--temporal-only][--wait][5s]',
        '[start][--config][/etc/mtf/loop config.json]',
        '[worker]',
      ]);
      assert.equal(configured.workerPid, configured.pid);
    });

    test('a loop already running is no error; any other failure of start keeps the worker from starting', async () => {
      const running = await entrypoint({ START_LOOP: '1', STUB_START_EXIT: String(ExitCode.AlreadyRunning) });
      assert.equal(running.code, 0, running.stderr);
      assert.deepEqual(running.calls, [health, '[start]', '[worker]']);
      assert.match(running.stderr, /already running/);
      const invalid = await entrypoint({ START_LOOP: 'yes', STUB_START_EXIT: String(ExitCode.Usage) });
      assert.equal(invalid.code, ExitCode.Usage);
      assert.deepEqual(invalid.calls, [health, '[start]']);
    });

    test('Temporal silent for the whole wait: exit non-zero, no loop start, no worker', async () => {
      const r = await entrypoint({ START_LOOP: 'true', STUB_HEALTH_EXIT: String(ExitCode.Failure) });
      assert.equal(r.code, ExitCode.Failure);
      assert.deepEqual(r.calls, [health]);
      assert.match(r.stderr, /not starting the worker/);
    });

    test('START_LOOP that is neither true nor false: exit 2 before anything runs', async () => {
      const r = await entrypoint({ START_LOOP: 'maybe' });
      assert.equal(r.code, ExitCode.Usage);
      assert.deepEqual(r.calls, []);
      assert.match(r.stderr, /START_LOOP must be true or false/);
    });

    test('`worker --address A` passes the options on; any other command is run as is, with nothing before it', async () => {
      const worker = await entrypoint({ START_LOOP: 'true' }, ['worker', '--address', 'temporal.example:7233']);
      const opts = '[--address][temporal.example:7233]';
      assert.deepEqual(worker.calls, [`${health}${opts}`, `[start]${opts}`, `[worker]${opts}`]);
      const status = await entrypoint({ START_LOOP: 'true' }, ['status', '--json']);
      assert.deepEqual(status.calls, ['[status][--json]']);
    });
  });
});
