/**
 * deploy/entrypoint.sh: POSIX sh, linted with the pinned shellcheck (with the Temporal setup scripts
 * of the demo and the cluster tests), and run with a stub mtf-ping-pong on PATH that records its
 * calls; with a fleet file, its worker serves /readyz and its apply can hang, and both note the
 * signals they get.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ExitCode } from '../../src/cli/output';
import { DEFAULT_HEALTH_ADDRESS } from '../../src/observability/runtime';
import { shellcheckPath } from '../../src/toolchain/binaries';
import { freePort } from '../../harness/processes';
import { SETUP_SCRIPTS } from '../cluster/setup-scripts';
import { describeRun } from '../helpers/processes';
import { root, read, run, follow, followed } from '../helpers/deploy-files';

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
    assert.match(text, new RegExp(`^EXIT_APPLY_PARTIAL=${ExitCode.Failure}$`, 'm'), "apply's exit code for a loop refused or failed");
    assert.match(text, new RegExp(`^DEFAULT_HEALTH_ADDRESS=${DEFAULT_HEALTH_ADDRESS}$`, 'm'), "the worker's own default for /readyz");
  });

  describe('with a stub mtf-ping-pong on PATH that records its calls', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mtf-entrypoint-'));
    const bin = join(dir, 'bin');
    const stubProcess = join(dir, 'stub-process.js');
    after(() => {
      for (const child of followed) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });

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
          '  worker)',
          '    printf "pid %s\\n" "$$" >> "$STUB_LOG"',
          '    if [ -n "${STUB_WORKER_SERVES:-}" ]; then exec node "$STUB_PROCESS" worker; fi',
          '    exit "${STUB_WORKER_EXIT:-0}" ;;',
          '  apply)',
          '    case " $* " in *" --check "*) exit "${STUB_CHECK_EXIT:-0}" ;; esac',
          '    if [ -n "${STUB_APPLY_HANGS:-}" ]; then exec node "$STUB_PROCESS" apply; fi',
          '    exit "${STUB_APPLY_EXIT:-0}" ;;',
          'esac',
          '',
        ].join('\n'),
      );
      chmodSync(stub, 0o755);
      // A worker serving /readyz on HEALTH_ADDRESS's port (503 for its first STUB_NOT_READY asks),
      // or an apply that runs until a signal; each notes what it is asked and the SIGTERM it gets.
      writeFileSync(
        stubProcess,
        [
          "const { appendFileSync } = require('node:fs');",
          "const { createServer } = require('node:http');",
          'const name = process.argv[2];',
          'const note = (line) => appendFileSync(process.env.STUB_LOG, `${name} ${line}\\n`);',
          // Before anything it says: a test signals it once it has said it runs.
          "process.on('SIGTERM', () => {",
          "  note('SIGTERM');",
          "  process.exit(name === 'worker' ? Number(process.env.STUB_WORKER_EXIT || 0) : 143);",
          '});',
          "if (name === 'worker') {",
          '  const address = process.env.HEALTH_ADDRESS;',
          '  let asked = 0;',
          '  createServer((req, res) => {',
          "    const ready = req.url === '/readyz' && ++asked > Number(process.env.STUB_NOT_READY || 0);",
          '    note(`${req.url} ${ready ? 200 : 503}`);',
          '    res.writeHead(ready ? 200 : 503).end();',
          "  }).listen(Number(address.slice(address.lastIndexOf(':') + 1)), '127.0.0.1', () => process.stderr.write('stub: worker serving\\n'));",
          '} else {',
          '  setInterval(() => undefined, 1 << 30);',
          "  process.stderr.write('stub: apply running\\n');",
          '}',
          '',
        ].join('\n'),
      );
    });

    let runs = 0;
    /** The test's environment less what the entrypoint reads, the stub first on PATH, a fresh call log. */
    function stubEnv(env: Record<string, string>): { env: NodeJS.ProcessEnv; log: string } {
      const log = join(dir, `calls-${++runs}.log`);
      writeFileSync(log, '');
      const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(START_LOOP|MTF_|TEMPORAL_|HEALTH_ADDRESS)/.test(k)));
      return { env: { ...clean, PATH: `${bin}:${process.env.PATH ?? ''}`, STUB_LOG: log, STUB_PROCESS: stubProcess, ...env }, log };
    }

    async function entrypoint(vars: Record<string, string>, args: string[] = []) {
      const { env, log } = stubEnv(vars);
      const child = spawn(script, args, {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        signal: AbortSignal.timeout(20_000),
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.resume();
      const [code] = (await once(child, 'exit')) as [number | null];
      return { code, stderr, ...callsIn(log), pid: child.pid };
    }

    /** The stub's calls (`[cmd][arg]...`), the stub processes' notes (`worker /readyz 200`, `apply SIGTERM`), the worker's PID. */
    function callsIn(log: string) {
      const lines = readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
      const pid = lines.find((l) => l.startsWith('pid '));
      return {
        calls: lines.filter((l) => l.startsWith('[')),
        notes: lines.filter((l) => !l.startsWith('[') && !l.startsWith('pid ')),
        workerPid: pid ? Number(pid.slice(4)) : null,
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

    describe('with MTF_FLEET_FILE: the worker as a child, apply once it is ready', () => {
      const fleetFile = '/etc/mtf/fleet file.yaml';
      const apply = `[apply][-f][${fleetFile}]`;
      /** The file judged first, without Temporal: an invalid one never gets a worker started. */
      const check = `${apply}[--check]`;

      /** The entrypoint with a fleet file, its worker serving /readyz on a free port of 0.0.0.0 (asked on 127.0.0.1). */
      async function launch(vars: Record<string, string>, args: string[] = []) {
        const { env, log } = stubEnv({
          MTF_FLEET_FILE: fleetFile,
          HEALTH_ADDRESS: `0.0.0.0:${await freePort()}`,
          STUB_WORKER_SERVES: 'true',
          ...vars,
        });
        const entry = follow(script, args, env);
        return {
          ...entry,
          /** Its exit code, signal and output, and the stub's calls and notes. */
          async result() {
            const [code, signal] = await entry.exited;
            return { code, signal, output: entry.output(), pid: entry.child.pid, ...callsIn(log) };
          },
        };
      }

      test(
        'health, the worker, then apply once /readyz answers 200; SIGTERM reaches the worker, which exits with its own code',
        { timeout: 60_000 },
        async () => {
          const entry = await launch({ STUB_NOT_READY: '2', MTF_FLEET_PRUNE: 'false', MTF_FLEET_CONFIRM_LIVE: '' });
          await entry.waitFor(/entrypoint: applied /, 'the apply');
          entry.child.kill('SIGTERM');
          const r = await entry.result();
          assert.deepEqual([r.code, r.signal], [0, null], r.output);
          assert.deepEqual(r.calls, [check, health, '[worker]', apply], 'no --prune, no --confirm-live');
          assert.deepEqual(r.notes, ['worker /readyz 503', 'worker /readyz 503', 'worker /readyz 200', 'worker SIGTERM']);
          assert.notEqual(r.workerPid, r.pid, 'the shell stays, to apply and to pass signals on');
          assert.match(r.output, /entrypoint: SIGTERM: stopping the worker/);
        },
      );

      test(
        'START_LOOP first; MTF_FLEET_PRUNE and MTF_FLEET_CONFIRM_LIVE add --prune and --confirm-live; the worker options reach apply; SIGINT is passed on as SIGTERM',
        { timeout: 60_000 },
        async () => {
          const opts = '[--address][temporal.example:7233]';
          const entry = await launch({ START_LOOP: 'true', MTF_FLEET_PRUNE: 'Yes', MTF_FLEET_CONFIRM_LIVE: 'on', STUB_WORKER_EXIT: '9' }, [
            'worker',
            '--address',
            'temporal.example:7233',
          ]);
          await entry.waitFor(/entrypoint: applied /, 'the apply');
          entry.child.kill('SIGINT');
          const r = await entry.result();
          assert.equal(r.code, 9, `the worker's exit code: ${r.output}`);
          assert.deepEqual(r.calls, [
            check,
            `${health}${opts}`,
            `[start]${opts}`,
            `[worker]${opts}`,
            `${apply}[--prune][--confirm-live]${opts}`,
          ]);
          assert.equal(r.notes.at(-1), 'worker SIGTERM');
        },
      );

      test('apply exit 1 (a loop refused or failed): logged, and the worker runs on until it is stopped', { timeout: 60_000 }, async () => {
        const entry = await launch({ STUB_APPLY_EXIT: String(ExitCode.Failure) });
        await entry.waitFor(/the worker runs on/, 'the partial apply');
        entry.child.kill('SIGTERM');
        const r = await entry.result();
        assert.deepEqual([r.code, r.signal], [0, null], r.output);
        assert.deepEqual(r.calls, [check, health, '[worker]', apply]);
        assert.equal(r.notes.at(-1), 'worker SIGTERM');
      });

      test('an invalid file (apply --check exit 2): the entrypoint exits 2 before Temporal is asked or the worker starts', async () => {
        const entry = await launch({ STUB_CHECK_EXIT: String(ExitCode.Usage) });
        const r = await entry.result();
        assert.deepEqual([r.code, r.signal], [ExitCode.Usage, null], r.output);
        assert.deepEqual(r.calls, [check]);
        assert.match(r.output, new RegExp(`${fleetFile} cannot be applied \\(exit code 2\\): not starting the worker`));
      });

      for (const [what, code] of [
        ['a usage error', ExitCode.Usage],
        ['Temporal unreachable', ExitCode.TemporalUnreachable],
      ] as const) {
        test(
          `apply exit ${code} (${what}): the worker is stopped gracefully and the entrypoint exits ${code}`,
          { timeout: 60_000 },
          async () => {
            const entry = await launch({ STUB_APPLY_EXIT: String(code) });
            const r = await entry.result();
            assert.deepEqual([r.code, r.signal], [code, null], r.output);
            assert.deepEqual(r.calls, [check, health, '[worker]', apply]);
            assert.equal(r.notes.at(-1), 'worker SIGTERM', 'stopped with SIGTERM: a running call may finish');
            assert.match(r.output, new RegExp(`could not apply ${fleetFile} \\(exit code ${code}\\): stopping the worker`));
          },
        );
      }

      test(
        'SIGTERM while the worker is not ready yet: no apply; while apply runs: apply and the worker both get it',
        { timeout: 60_000 },
        async () => {
          const waiting = await launch({ STUB_NOT_READY: 'Infinity' });
          await waiting.waitFor(/stub: worker serving/, 'the worker');
          await waiting.waitFor(/applying .* once the worker is ready \(http:\/\/127\.0\.0\.1:\d+\/readyz\)/, 'the wait for readiness');
          waiting.child.kill('SIGTERM');
          const w = await waiting.result();
          assert.deepEqual([w.code, w.signal], [0, null], w.output);
          assert.deepEqual(w.calls, [check, health, '[worker]'], 'no apply');
          assert.equal(w.notes.at(-1), 'worker SIGTERM');

          const applying = await launch({ STUB_APPLY_HANGS: 'true' });
          await applying.waitFor(/stub: apply running/, 'apply');
          applying.child.kill('SIGTERM');
          const a = await applying.result();
          assert.deepEqual([a.code, a.signal], [0, null], `the worker's code, not apply's: ${a.output}`);
          assert.deepEqual(a.calls, [check, health, '[worker]', apply]);
          assert.deepEqual(a.notes.filter((n) => n.endsWith('SIGTERM')).sort(), ['apply SIGTERM', 'worker SIGTERM']);
        },
      );

      test('the worker exits before it is ready: no apply, and the entrypoint exits with its code', { timeout: 60_000 }, async () => {
        const entry = await launch({ STUB_WORKER_SERVES: '', STUB_WORKER_EXIT: String(ExitCode.Failure) });
        const r = await entry.result();
        assert.equal(r.code, ExitCode.Failure, r.output);
        assert.deepEqual(r.calls, [check, health, '[worker]']);
        assert.match(r.output, /the worker exited before it was ready/);
      });

      test('MTF_FLEET_PRUNE or MTF_FLEET_CONFIRM_LIVE that is no boolean, or HEALTH_ADDRESS off: exit 2 before anything runs', async () => {
        for (const [vars, message] of [
          [{ MTF_FLEET_PRUNE: 'sometimes' }, /MTF_FLEET_PRUNE must be true or false/],
          [{ MTF_FLEET_CONFIRM_LIVE: 'y' }, /MTF_FLEET_CONFIRM_LIVE must be true or false/],
          [{ HEALTH_ADDRESS: 'off' }, /HEALTH_ADDRESS must not be off/],
        ] as const) {
          const r = await entrypoint({ MTF_FLEET_FILE: fleetFile, ...vars });
          assert.equal(r.code, ExitCode.Usage, r.stderr);
          assert.deepEqual(r.calls, []);
          assert.match(r.stderr, message);
        }
      });
    });
  });
});
