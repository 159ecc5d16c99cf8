/**
 * The container image built as users build it (`docker build .`, only NODE_IMAGE pointed at the
 * stand-in base of scripts/image-base.mjs) by a Docker engine of the test's own, then run against a
 * dev server and the simulator on loopback (`--network host`), with the Kubernetes example's
 * security settings and mounts: the loop it starts runs, Docker's HEALTHCHECK passes, a stop lets a
 * running call finish, and the image works as the CLI.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LoopStatus } from '../../src/shared/status';
import { ExitCode } from '../../src/cli/output';
import { freePort } from '../../harness/processes';
import { DOCKER, type Dockerd } from '../helpers/dockerd';
import { useDevStack } from '../helpers/dev-stack';
import { follow, followed, root, type FollowedEntrypoint } from '../helpers/deploy-files';
import { describeRun, waitFor } from '../helpers/processes';
import { terminateLoops } from '../helpers/real-loop';
import { BASE, IMAGE, engineWithBase, kubernetesRunFlags } from '../helpers/image';

/** The layers this Dockerfile adds above its base: the goal of issue 35. */
const MAX_ADDED_BYTES = 150 * 1000 * 1000;
/** The build's figures, for docs/performance.md (scripts/performance-doc.mjs image). */
const FIGURES_FILE = join(root, 'dist', 'test-figures', 'image.json');
const LOOP_ID = 'mtf-ping-pong';
const FLEET = 'image-test';
const FLEET_LOOPS = ['image-fleet-a', 'image-fleet-b'];

describe('the image, built and run by a Docker engine of its own', { timeout: 900_000 }, () => {
  const stack = useDevStack();
  // The ConfigMap's folder: readable by uid 1000, as Kubernetes mounts one (0644 files).
  const configDir = mkdtempSync(join(tmpdir(), 'mtf-image-config-'));
  chmodSync(configDir, 0o755);
  const containers = new Set<string>();
  let engine: Dockerd;
  let built = false;

  before(async () => {
    engine = await engineWithBase();
  });

  after(async () => {
    for (const child of followed) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (engine) {
      for (const name of containers) await engine.docker(['rm', '--force', name]);
      await engine.stop();
    }
    await terminateLoops(stack.env, [LOOP_ID, ...FLEET_LOOPS]);
    rmSync(configDir, { recursive: true, force: true });
  });

  const docker = (args: string[], timeoutMs?: number) => engine.docker(args, timeoutMs === undefined ? {} : { timeoutMs });
  const inspect = async (name: string, format: string): Promise<string> => {
    const ran = await docker(['inspect', '--format', format, name]);
    assert.equal(ran.code, 0, describeRun(ran, 'docker inspect'));
    return ran.stdout.trim();
  };
  const status = (id: string): Promise<LoopStatus> => stack.env.client.workflow.getHandle(id).query<LoopStatus>('get_status');
  /** `docker run` of the image in the foreground on the host's network, its output followed. */
  function runImage(name: string, env: Record<string, string>, flags: string[], args: string[] = []): FollowedEntrypoint {
    assert.ok(built, 'the image was not built');
    containers.add(name);
    const envFlags = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    return follow(
      DOCKER,
      ['-H', engine.host, 'run', '--name', name, '--network', 'host', ...envFlags, ...flags, IMAGE, ...args],
      process.env,
    );
  }
  /** The image as the CLI: `docker run --rm IMAGE ARGS…` against the dev server. */
  function cli(args: string[], env: Record<string, string> = {}, flags: string[] = []) {
    assert.ok(built, 'the image was not built');
    const envFlags = Object.entries({ TEMPORAL_ADDRESS: stack.env.address, ...env }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    return docker(['run', '--rm', '--network', 'host', ...envFlags, ...flags, IMAGE, ...args]);
  }
  /** The worker's ports, free on this machine (the container shares its network). */
  async function workerEnv() {
    return {
      TEMPORAL_ADDRESS: stack.env.address,
      METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
      HEALTH_ADDRESS: `127.0.0.1:${await freePort()}`,
      WORKER_IDENTITY: 'image-test-worker',
      TEMPORAL_WAIT: '30s',
    };
  }

  test('docker build . builds it with the built-in frontend, offline, its added layers within 150 MB', async (t) => {
    const started = Date.now();
    const build = await docker(['build', '--network', 'host', '--build-arg', `NODE_IMAGE=${BASE}`, '-t', IMAGE, root], 600_000);
    assert.equal(build.code, 0, describeRun(build, 'docker build'));
    built = true;
    const buildSeconds = (Date.now() - started) / 1000;
    const history = await docker(['history', '--no-trunc', '--format', '{{.Size}}\t{{.CreatedBy}}', '--human=false', IMAGE]);
    const layers = history.stdout
      .trim()
      .split('\n')
      .map((line) => {
        const [size = '0', createdBy = ''] = line.split('\t');
        // `RUN /bin/sh -c npm ci …  # buildkit`: the instruction as the Dockerfile reads, shortened.
        const instruction = createdBy
          .replace(/\s*# buildkit$/, '')
          .replace('/bin/sh -c ', '')
          .replace(/\s+/g, ' ')
          .trim();
        return { bytes: Number(size), created_by: instruction.length > 80 ? `${instruction.slice(0, 79)}…` : instruction || '(the base)' };
      });
    const figures = {
      engine_version: (await docker(['version', '--format', '{{.Server.Version}}'])).stdout.trim(),
      build_seconds: buildSeconds,
      base_bytes: Number(await inspect(BASE, '{{.Size}}')),
      image_bytes: Number(await inspect(IMAGE, '{{.Size}}')),
      layers,
    };
    mkdirSync(dirname(FIGURES_FILE), { recursive: true });
    writeFileSync(FIGURES_FILE, JSON.stringify(figures, null, 2));
    const added = figures.image_bytes - figures.base_bytes;
    const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
    t.diagnostic(`Docker Engine ${figures.engine_version}: built in ${Math.round(buildSeconds)} s (no layer cached)`);
    t.diagnostic(`image ${mb(figures.image_bytes)}: base ${mb(figures.base_bytes)}, added ${mb(added)}`);
    for (const layer of layers.filter((l) => l.bytes > 0)) t.diagnostic(`  ${mb(layer.bytes).padStart(9)}  ${layer.created_by}`);
    assert.ok(added <= MAX_ADDED_BYTES, `the layers above the base come to ${mb(added)}, more than ${mb(MAX_ADDED_BYTES)}`);
  });

  describe('run as the Kubernetes example runs it (uid 1000, read-only root, no capability, its mounts), START_LOOP=true', () => {
    const name = 'mtf-image-loop';
    let container: FollowedEntrypoint;

    test("the loop it starts runs cycles; /readyz answers 200; Docker's HEALTHCHECK reaches healthy; every process is uid 1000", async () => {
      writeFileSync(join(configDir, 'loop.json'), JSON.stringify({ mtf_url: stack.sim.runUrl, ping_interval: 1 }));
      const env = { ...(await workerEnv()), START_LOOP: 'true', MTF_CONFIG_FILE: '/etc/mtf-ping-pong/loop.json' };
      const since = Math.floor(Date.now() / 1000) - 1;
      container = runImage(name, env, [
        ...kubernetesRunFlags(configDir),
        // The Dockerfile's HEALTHCHECK, on a test's clock: its own start period is 150 s.
        '--health-interval=1s',
        '--health-start-period=60s',
        '--health-retries=3',
      ]);
      // Docker's own events: the first `health_status: healthy` of this container.
      const events = follow(
        DOCKER,
        ['-H', engine.host, 'events', '--since', String(since), '--filter', `container=${name}`, '--format', '{{.Action}}'],
        process.env,
      );
      try {
        // Or its end: a container that dies fails the test with its output at once.
        await events.waitFor(/^(health_status: healthy|die)$/m, "Docker's health check to pass", 90_000);
      } finally {
        events.child.kill('SIGTERM');
      }
      assert.equal(await inspect(name, '{{.State.Health.Status}}'), 'healthy', container.output());
      const ready = await fetch(`http://${env.HEALTH_ADDRESS}/readyz`);
      assert.equal(ready.status, 200, await ready.text());

      const running = await waitFor(
        () => status(LOOP_ID),
        (s) => s.counters.succeeded >= 2,
        'two cycles of the loop START_LOOP started',
        60_000,
      );
      assert.equal(running.config.mtf_url, stack.sim.runUrl, 'started from MTF_CONFIG_FILE, read from the read-only mount');
      assert.equal(running.counters.failed, 0, JSON.stringify(running.last_cycle));
      assert.ok(stack.sim.runRequests().length >= 2, 'the simulator was called');

      // Every process of the container but runc's own short-lived setup of an exec (the health check's).
      const processes = await docker([
        'exec',
        name,
        'node',
        '-e',
        "const fs=require('fs');for(const p of fs.readdirSync('/proc').filter(p=>/^\\d+$/.test(p))){try{const s=fs.readFileSync('/proc/'+p+'/status','utf8');console.log(/^Uid:\\s+(\\d+)/m.exec(s)[1]+' '+/^Name:\\s+(.*)$/m.exec(s)[1])}catch{}}",
      ]);
      assert.equal(processes.code, 0, describeRun(processes));
      const owners = processes.stdout
        .trim()
        .split('\n')
        .filter((line) => !/ runc/.test(line));
      assert.ok(owners.some((line) => / tini$/.test(line)) && owners.some((line) => / node$/.test(line)), processes.stdout);
      assert.deepEqual(
        owners.filter((line) => !line.startsWith('1000 ')),
        [],
        'tini, the worker and this exec: all uid 1000',
      );
      const write = await docker(['exec', name, 'touch', '/app/written']);
      assert.notEqual(write.code, 0, 'the root filesystem is read-only');
      assert.match(write.stderr, /Read-only file system/);
      assert.equal(await inspect(name, '{{.HostConfig.ReadonlyRootfs}}'), 'true');
      const tmp = await docker(['exec', name, 'ls', '-A', '/tmp']);
      assert.equal(tmp.code, 0, describeRun(tmp));
      assert.equal(tmp.stdout.trim(), '', 'the worker wrote nothing, not even in its writable /tmp');
    });

    test('the image is the CLI: status, health and apply answer with the CLI exit codes', async () => {
      const shown = await cli(['status']);
      assert.equal(shown.code, ExitCode.Ok, describeRun(shown));
      assert.match(shown.stdout, new RegExp(LOOP_ID));
      const missing = await cli(['status', 'no-such-loop']);
      assert.equal(missing.code, ExitCode.LoopNotFound, describeRun(missing));
      const healthy = await cli(['health']);
      assert.equal(healthy.code, ExitCode.Ok, describeRun(healthy));
      const nowhere = { TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` };
      const unhealthy = await cli(['health', '--temporal-only'], nowhere);
      assert.equal(unhealthy.code, ExitCode.Failure, describeRun(unhealthy));
      assert.match(unhealthy.stdout, /cannot reach Temporal/);
      const unreachable = await cli(['status'], nowhere);
      assert.equal(unreachable.code, ExitCode.TemporalUnreachable, describeRun(unreachable));
      const invalid = await cli(['apply', '-f', '/app/package.json', '--check']);
      assert.equal(invalid.code, ExitCode.Usage, describeRun(invalid));
    });

    test('docker stop --time 60 during a 15 s MTF call: the call finishes, its answer is recorded, the container exits 0; a restart records the cycle without calling again', async () => {
      const before = stack.sim.runRequests().length;
      stack.sim.setBehaviour({ latency_ms: 15_000 });
      const [call] = (await stack.sim.waitForRunRequests(before + 1, 30_000)).slice(before);
      assert.ok(call);
      const stopped = await docker(['stop', '--time', '60', name], 90_000);
      assert.equal(stopped.code, 0, describeRun(stopped));
      const [exitCode] = await container.exited;
      assert.equal(await inspect(name, '{{.State.ExitCode}}'), '0', container.output());
      assert.equal(exitCode, 0, 'docker run ends with the container: exit 0, not 137 (killed at the deadline)');
      assert.equal(call.status, 200, 'the app answered the call the stop found running');
      stack.sim.setBehaviour({ latency_ms: 0 });

      // The worker completed the call's activity before it exited: Temporal holds the answer.
      const history = await stack.env.client.workflow.getHandle(LOOP_ID).fetchHistory();
      const closed = (history.events ?? []).filter(
        (e) => e.activityTaskCompletedEventAttributes || e.activityTaskFailedEventAttributes || e.activityTaskTimedOutEventAttributes,
      );
      assert.ok(closed.at(-1)?.activityTaskCompletedEventAttributes, 'the last activity completed');

      const restarted = await docker(['start', name]);
      assert.equal(restarted.code, 0, describeRun(restarted));
      const recorded = await waitFor(
        () => status(LOOP_ID),
        (s) => s.last_cycle !== null && s.last_cycle.x_run_id === call.x_run_id,
        'the cycle of the stopped call to be recorded',
        60_000,
      );
      assert.equal(recorded.last_cycle?.outcome, 'succeeded');
      assert.equal(stack.sim.runRequests().filter((r) => r.x_run_id === call.x_run_id).length, 1, 'the call was not sent again');
      const again = await docker(['stop', '--time', '60', name], 90_000);
      assert.equal(again.code, 0, describeRun(again));
      assert.equal(await inspect(name, '{{.State.ExitCode}}'), '0');
      await terminateLoops(stack.env, [LOOP_ID]);
    });
  });

  test("with MTF_ENCRYPTION_KEY the worker runs on the other prebuilt bundle (encoded failures): ready without the bundler's compiler the image drops", async () => {
    const name = 'mtf-image-encrypted';
    const env = { ...(await workerEnv()), TASK_QUEUE_NAME: 'image-encrypted', MTF_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
    const container = runImage(name, env, kubernetesRunFlags(configDir));
    await waitFor(
      () => fetch(`http://${env.HEALTH_ADDRESS}/readyz`).then((r) => r.status),
      (code) => code === 200 || container.child.exitCode !== null,
      'the worker to be ready',
      60_000,
    );
    assert.equal(container.child.exitCode, null, container.output());
    const stopped = await docker(['stop', '--time', '60', name], 90_000);
    assert.equal(stopped.code, 0, describeRun(stopped));
    assert.equal(await inspect(name, '{{.State.ExitCode}}'), '0', container.output());
  });

  test('with MTF_FLEET_FILE: the fleet file (read-only mount) is applied once the worker is ready, and its loops run', async () => {
    writeFileSync(
      join(configDir, 'fleet.yaml'),
      [
        `fleet: ${FLEET}`,
        'defaults:',
        `  mtf_url: ${stack.sim.runUrl}`,
        '  ping_interval: 1',
        'loops:',
        ...FLEET_LOOPS.map((id) => `  - id: ${id}\n    group: image`),
        '',
      ].join('\n'),
    );
    const name = 'mtf-image-fleet';
    const container = runImage(
      name,
      { ...(await workerEnv()), MTF_FLEET_FILE: '/etc/mtf-ping-pong/fleet.yaml' },
      kubernetesRunFlags(configDir),
    );
    await container.waitFor(/entrypoint: applied \/etc\/mtf-ping-pong\/fleet\.yaml/, 'the fleet file applied', 90_000);
    for (const id of FLEET_LOOPS) {
      const s = await waitFor(
        () => status(id),
        (st) => st.counters.succeeded >= 1,
        `a cycle of ${id}`,
        60_000,
      );
      assert.equal(s.config.fleet, FLEET);
      assert.equal(s.config.group, 'image');
    }
    const listed = await cli(['list', '--fleet', FLEET]);
    assert.equal(listed.code, ExitCode.Ok, describeRun(listed));
    for (const id of FLEET_LOOPS) assert.match(listed.stdout, new RegExp(id));
    const inSync = await cli(['diff', '-f', '/etc/mtf-ping-pong/fleet.yaml'], {}, ['-v', `${configDir}:/etc/mtf-ping-pong:ro`]);
    assert.equal(inSync.code, ExitCode.Ok, `in sync with the file: ${describeRun(inSync)}`);
    const stopped = await docker(['stop', '--time', '60', name], 90_000);
    assert.equal(stopped.code, 0, describeRun(stopped));
    assert.equal(await inspect(name, '{{.State.ExitCode}}'), '0', container.output());
  });
});
