/**
 * The image outside Docker: the Dockerfile's RUN steps in a temporary copy of its file sets, the
 * runtime file set they leave, and the real entrypoint in it, Temporal unreachable and against a
 * real `temporal server start-dev` with the simulator, with START_LOOP and with a fleet file.
 * In `npm test`, without a Docker engine; test/image/image.test.ts (`npm run test:image`) builds
 * the image itself and runs it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ExitCode } from '../../src/cli/output';
import { awaitLoopEnd, loopStatus } from '../../src/client/loops';
import { DEFAULT_WORKFLOW_ID } from '../../src/shared/messages';
import { PREBUILT_BUNDLE, PREBUILT_ENCODED_FAILURES_BUNDLE } from '../../src/worker/worker';
import { freePort } from '../../harness/processes';
import { describeRun, waitFor } from '../helpers/processes';
import { uniqueId } from '../helpers/temporal';
import { startDevStack } from '../helpers/dev-stack';
import { root, read, packageJson, run, followed, follow } from '../helpers/deploy-files';
import { type Stage, flagsOf, envOf, copiesOf, workdirOf, stages, healthcheckOf, inCopy, emulateCopy, runsOf } from '../helpers/dockerfile';

describe('the image outside Docker: its RUN steps, its file set, the real entrypoint', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'mtf-image-'));
  const buildDir = join(scratch, 'build');
  const appDir = join(scratch, 'app');
  const binDir = join(scratch, 'bin');
  let prepared: Promise<void>;
  let stackStarted: ReturnType<typeof startDevStack> | undefined;
  /** The dev server and the simulator, started by the first test that needs them and shared. */
  const devStack = () => (stackStarted ??= startDevStack());

  /** The build stage: its COPYs from the repository, its RUNs in the copy (`npm ci` → the repository's node_modules). */
  async function buildStageRuns(build: Stage): Promise<void> {
    const workdir = workdirOf(build);
    for (const ins of build.instructions) {
      if (ins.keyword === 'COPY') {
        const [copy] = copiesOf({ ...build, instructions: [ins] });
        if (copy) emulateCopy(copy, buildDir, workdir, {});
      } else if (ins.keyword === 'RUN') {
        const command = flagsOf(ins.args).rest;
        if (/^npm ci\b/.test(command)) {
          // The lockfile's full install is the repository's own node_modules: reused, not reinstalled.
          symlinkSync(join(root, 'node_modules'), join(buildDir, 'node_modules'), 'dir');
          continue;
        }
        const ran = await run('sh', ['-c', command], { cwd: buildDir });
        assert.equal(ran.code, 0, `build stage RUN ${command}: ${describeRun(ran)}`);
      }
    }
  }

  /** The runtime stage up to the COPY from the build stage: `npm ci --omit=dev` for real (from npm's cache, offline). */
  async function runtimeStageRuns(runtime: Stage): Promise<void> {
    const workdir = workdirOf(runtime);
    const stageEnv = { ...process.env, ...envOf(runtime), npm_config_offline: 'true' };
    for (const ins of runtime.instructions) {
      if (ins.keyword === 'COPY' && !/--from=/.test(ins.args)) {
        const [copy] = copiesOf({ ...runtime, instructions: [ins] });
        if (copy) emulateCopy(copy, appDir, workdir, {});
      } else if (ins.keyword === 'RUN') {
        const command = flagsOf(ins.args).rest;
        if (/apt-get/.test(command)) {
          // Needs root and Debian's archive inside the image: only its `ln -s` of the CLI is reproduced.
          const link = /ln -s (\S+) (\S+)/.exec(command);
          assert.ok(link?.[1] && link[2], 'the runtime stage links the CLI onto PATH');
          assert.equal(dirname(link[2]), '/usr/local/bin');
          symlinkSync(inCopy(appDir, workdir, link[1]), join(binDir, basename(link[2])));
          continue;
        }
        const ran = await run('sh', ['-c', command], { cwd: appDir, env: stageEnv });
        assert.equal(ran.code, 0, `runtime stage RUN ${command}: ${describeRun(ran)}`);
      }
    }
  }

  before(() => {
    const { build, runtime } = stages();
    mkdirSync(buildDir);
    mkdirSync(appDir);
    mkdirSync(binDir);
    // The two stages' RUN steps are independent until the COPY --from=build: run them side by side.
    prepared = Promise.all([buildStageRuns(build), runtimeStageRuns(runtime)]).then(() => {
      for (const copy of copiesOf(runtime).filter((c) => c.from)) {
        emulateCopy(copy, appDir, workdirOf(runtime), { build: { dir: buildDir, workdir: workdirOf(build) } });
      }
    });
    // Not awaited here: the tests that need the file set await it; a failure fails them, not the hook.
    prepared.catch(() => undefined);
  });

  after(async () => {
    for (const child of followed) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await (await stackStarted?.catch(() => undefined))?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('the runtime file set: production dependencies only, one native bridge, the CLI runs from it', async () => {
    await prepared;
    const modules = join(appDir, 'node_modules');
    // The lockfile marks what only the dev dependencies need: none of it, and all of the rest.
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dev?: boolean; optional?: boolean }> };
    const entries = Object.entries(lock.packages).filter(([path]) => path.startsWith('node_modules/'));
    assert.ok(
      entries.some(([, p]) => p.dev),
      'the lockfile marks dev-only packages',
    );
    // What the runtime stage removes on purpose (`rm -rf node_modules/…`: the bundler's compiler).
    const dropped = runsOf(stages().runtime)
      .flatMap((command) => [...command.matchAll(/rm -rf ((?:node_modules\/\S+ ?)+)/g)])
      .flatMap((m) => (m[1] ?? '').trim().split(' '));
    assert.ok(dropped.length > 0, 'the runtime stage drops the bundler compiler');
    for (const [path, entry] of entries) {
      const removed = dropped.some((d) => path === d || path.startsWith(`${d}/`));
      if (entry.dev || removed)
        assert.equal(existsSync(join(appDir, path)), false, `${path} (${removed ? 'dropped' : 'dev only'}) is not in the image`);
      else if (!entry.optional) assert.ok(existsSync(join(appDir, path)), `${path} is installed`);
    }
    for (const name of Object.keys(packageJson.dependencies)) assert.ok(existsSync(join(modules, name)), `${name} is installed`);
    assert.equal(readdirSync(join(modules, '@temporalio', 'core-bridge', 'releases')).length, 1, "only this platform's prebuilt bridge");
    assert.ok(
      existsSync(join(appDir, 'dist', basename(PREBUILT_BUNDLE))) &&
        existsSync(join(appDir, 'dist', basename(PREBUILT_ENCODED_FAILURES_BUNDLE))),
    );
    assert.equal(existsSync(join(appDir, 'dist', 'test')), false, 'no compiled tests');
    const help = await run(process.execPath, ['dist/src/cli/main.js', '--help'], { cwd: appDir, timeoutMs: 30_000 });
    assert.equal(help.code, 0, describeRun(help));
    assert.match(help.stdout, /worker/);
    const linked = await run(join(binDir, 'mtf-ping-pong'), ['worker', '--help'], { cwd: appDir, timeoutMs: 30_000 });
    assert.equal(linked.code, 0, `the mtf-ping-pong link runs the CLI: ${describeRun(linked)}`);
  });

  /** The entrypoint's environment: the image's ENV, then the test's loopback addresses. */
  async function imageEnv(extra: Record<string, string>): Promise<NodeJS.ProcessEnv> {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !/^(START_LOOP|MTF_|TEMPORAL_|TASK_QUEUE_NAME|WORKER_IDENTITY|HEALTH_ADDRESS|METRICS_ADDRESS|LOG_)/.test(k),
      ),
    );
    const [health, metrics] = [await freePort(), await freePort()];
    return {
      ...clean,
      ...envOf(stages().runtime),
      PATH: `${binDir}:${process.env.PATH ?? ''}`,
      HEALTH_ADDRESS: `127.0.0.1:${health}`,
      METRICS_ADDRESS: `127.0.0.1:${metrics}`,
      ...extra,
    };
  }

  test('the real entrypoint, Temporal unreachable for TEMPORAL_WAIT: exit 1, no worker', async () => {
    await prepared;
    const closed = await freePort();
    const ran = await run(join(appDir, 'deploy', 'entrypoint.sh'), [], {
      cwd: appDir,
      env: await imageEnv({ TEMPORAL_ADDRESS: `127.0.0.1:${closed}`, TEMPORAL_WAIT: '1s', START_LOOP: 'true' }),
      timeoutMs: 30_000,
    });
    assert.equal(ran.code, ExitCode.Failure, describeRun(ran));
    assert.match(ran.stdout, /temporal\s+FAIL/);
    assert.match(ran.stderr, /not starting the worker/);
    assert.doesNotMatch(ran.stdout + ran.stderr, /worker (polling|started)/);
  });

  test('the real entrypoint against a real dev server: loop started, worker exec-ed and healthy, a second one finds the loop running, SIGTERM stops both cleanly', async () => {
    const [{ env: devEnv, sim: simulator }] = await Promise.all([devStack(), prepared]);
    const config = join(scratch, 'loop.json');
    writeFileSync(config, JSON.stringify({ mtf_url: simulator.runUrl, symbols: ['BTCUSDT'], ping_interval: 3600 }));
    const common = {
      TEMPORAL_ADDRESS: devEnv.address,
      TEMPORAL_NAMESPACE: devEnv.namespace ?? 'default',
      TASK_QUEUE_NAME: uniqueId('deploy-tq'),
      START_LOOP: 'true',
      MTF_CONFIG_FILE: config,
      TEMPORAL_WAIT: '30s',
      LOG_LEVEL: 'info',
    };
    const entrypoint = join(appDir, 'deploy', 'entrypoint.sh');

    const firstEnv = await imageEnv(common);
    const first = follow(entrypoint, [], firstEnv);
    await first.waitFor(/started loop mtf-ping-pong/, 'the loop start');
    await first.waitFor(/worker polling/, 'the worker');
    // The PID spawned for the entrypoint is now node running the worker: the shell exec-ed it.
    const cmdline = readFileSync(`/proc/${first.child.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(
      basename(cmdline[0] ?? '') === 'node' && cmdline.some((a) => a.endsWith('/mtf-ping-pong')) && cmdline.includes('worker'),
      `PID ${first.child.pid} is the worker: ${cmdline.join(' ')}`,
    );

    const [request] = await simulator.waitForRunRequests(1, 30_000);
    assert.ok(
      request?.idempotency_key?.startsWith(`${DEFAULT_WORKFLOW_ID}/`),
      'the loop started by the entrypoint ran a cycle through this worker',
    );

    const { command } = healthcheckOf(stages().runtime);
    const check = await run(process.execPath, command.slice(1), { env: firstEnv, timeoutMs: 20_000 });
    assert.equal(check.code, 0, `the HEALTHCHECK passes against the real worker: ${describeRun(check)}`);
    const readyz = `http://${firstEnv.HEALTH_ADDRESS}/readyz`;
    await waitFor(
      () => fetch(readyz, { signal: AbortSignal.timeout(5_000) }).then((r) => r.status),
      (s) => s === 200,
      'readyz 200',
      20_000,
    );

    const second = follow(entrypoint, [], await imageEnv(common));
    await second.waitFor(/worker polling/, 'the second worker');
    assert.match(second.output(), /already running/, 'the second start found the loop running and went on');

    first.child.kill('SIGTERM');
    second.child.kill('SIGTERM');
    const [[code1, signal1], [code2, signal2]] = await Promise.all([first.exited, second.exited]);
    assert.deepEqual([code1, signal1], [0, null], `the first worker shut down gracefully:\n${first.output()}`);
    assert.deepEqual([code2, signal2], [0, null], `the second worker shut down gracefully:\n${second.output()}`);
    assert.match(first.output(), /worker stopped/);
  });

  test('the real entrypoint with MTF_FLEET_FILE: apply once the worker is ready; restarted with a changed file and MTF_FLEET_PRUNE, it updates and prunes; an invalid file exits 2 before the worker starts', async () => {
    const [{ env: devEnv, sim: simulator }] = await Promise.all([devStack(), prepared]);
    const fleet = uniqueId('fleet');
    const [a, b] = [`${fleet}-a`, `${fleet}-b`];
    const fleetFile = (name: string, lines: string[]) => {
      const path = join(scratch, name);
      writeFileSync(path, `${lines.join('\n')}\n`);
      return path;
    };
    // YAML, read by the production dependencies of the runtime file set; an hour between cycles.
    const head = [
      `fleet: ${fleet}`,
      'defaults:',
      `  mtf_url: ${simulator.runUrl}`,
      '  symbols: [BTCUSDT]',
      '  ping_interval: 3600',
      'loops:',
    ];
    const common = {
      TEMPORAL_ADDRESS: devEnv.address,
      TEMPORAL_NAMESPACE: devEnv.namespace ?? 'default',
      TASK_QUEUE_NAME: uniqueId('fleet-tq'),
      TEMPORAL_WAIT: '30s',
      LOG_LEVEL: 'info',
    };
    const entrypoint = join(appDir, 'deploy', 'entrypoint.sh');
    const stopped = async (entry: ReturnType<typeof follow>, what: string) => {
      entry.child.kill('SIGTERM');
      const [code, signal] = await entry.exited;
      assert.deepEqual([code, signal], [0, null], `${what} shut down gracefully:\n${entry.output()}`);
      assert.match(entry.output(), /worker stopped/);
    };

    // A first start: apply starts both loops, and this worker runs their first cycles.
    const asked = simulator.runRequests().length;
    const first = follow(
      entrypoint,
      [],
      await imageEnv({ ...common, MTF_FLEET_FILE: fleetFile('fleet.yaml', [...head, `  - id: ${a}`, `  - id: ${b}`]) }),
    );
    await first.waitFor(/entrypoint: applied /, 'the apply');
    const keys = (await simulator.waitForRunRequests(asked + 2, 30_000)).slice(asked).map((r) => r.idempotency_key ?? '');
    assert.deepEqual(keys.map((k) => k.split('/')[0]).sort(), [a, b], 'each loop of the file ran a cycle through this worker');
    for (const id of [a, b]) assert.equal((await loopStatus(devEnv.client, id)).config.fleet, fleet, `${id} is stamped with the fleet`);
    await stopped(first, 'the first worker');

    // A restart with a changed file: apply reads the running loops through the new worker, so it waits for it.
    const second = follow(
      entrypoint,
      [],
      await imageEnv({
        ...common,
        MTF_FLEET_FILE: fleetFile('fleet-2.yaml', [...head, `  - id: ${a}`, '    ping_interval: 1800']),
        MTF_FLEET_PRUNE: 'true',
      }),
    );
    await second.waitFor(/entrypoint: applied /, 'the second apply');
    const status = await loopStatus(devEnv.client, a);
    assert.equal((status.pending_config ?? status.config).ping_interval, 1800, `${a} updated`);
    assert.equal((await awaitLoopEnd(devEnv.client, b)).how, 'stopped', `${b}, no longer in the file, pruned`);
    await stopped(second, 'the second worker');

    // An invalid file: a configuration error, as START_LOOP's invalid config is.
    const invalid = await run(entrypoint, [], {
      cwd: appDir,
      env: await imageEnv({ ...common, MTF_FLEET_FILE: fleetFile('invalid.yaml', [...head, `  - id: ${a}`, '    cadence: sometimes']) }),
      timeoutMs: 60_000,
    });
    assert.equal(invalid.code, ExitCode.Usage, describeRun(invalid));
    assert.match(invalid.stderr, /invalid fleet file .*invalid\.yaml: nothing was applied/);
    assert.match(invalid.stderr, /invalid\.yaml cannot be applied \(exit code 2\): not starting the worker/);
    assert.doesNotMatch(
      invalid.stdout + invalid.stderr,
      /waiting up to .* for Temporal|worker started/,
      'judged before Temporal and the worker',
    );
  });
});
