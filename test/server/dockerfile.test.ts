/**
 * The Dockerfile against the code's own defaults: linted with the pinned hadolint, its two stages,
 * its user and signal handling, its ENV and EXPOSE, what .dockerignore lets through, and its
 * HEALTHCHECK command run against the real health server. (Its RUN steps run outside Docker in
 * image.test.ts; what needs a Docker engine, the image build itself and apt inside it, is not run.)
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_ADDRESS } from '../../src/client/connection';
import { DEFAULT_TASK_QUEUE } from '../../src/shared/messages';
import { hadolintPath } from '../../src/toolchain/binaries';
import { DEFAULT_IDENTITY } from '../../src/worker/main';
import { PREBUILT_BUNDLE, PREBUILT_ENCODED_FAILURES_BUNDLE } from '../../src/worker/worker';
import { freePort } from '../../harness/processes';
import { describeRun } from '../helpers/processes';
import { read, run, seconds, hostPort, HEALTH_PORT, METRICS_PORT, envNamesTheCodeReads } from '../helpers/deploy-files';
import { envOf, copiesOf, runsOf, workdirOf, dockerfile, stages, healthcheckOf, dockerignored, filesUnder } from '../helpers/dockerfile';

describe('Dockerfile', () => {
  test('hadolint finds nothing, and ignores no rule without a comment saying why', async () => {
    const home = mkdtempSync(join(tmpdir(), 'mtf-hadolint-'));
    try {
      // An empty HOME / XDG_CONFIG_HOME: only the project's own config (none) applies.
      const ran = await run(hadolintPath(), ['--no-color', 'Dockerfile'], { env: { ...process.env, HOME: home, XDG_CONFIG_HOME: home } });
      assert.equal(ran.code, 0, describeRun(ran));
      assert.equal(ran.stdout.trim(), '', 'not even info or style findings');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
    const lines = read('Dockerfile').split('\n');
    lines.forEach((line, i) => {
      if (!/hadolint\s+ignore/.test(line)) return;
      const previous = lines[i - 1] ?? '';
      assert.ok(
        previous.startsWith('#') && !/hadolint/.test(previous),
        `line ${i + 1}: an ignored rule needs a comment line above it saying why`,
      );
    });
  });

  test('two stages on a pinned node 20 bookworm-slim: build with the dev dependencies, run with production ones only', () => {
    const { build, runtime } = stages();
    assert.match(build.image, /^node:20\.\d+\.\d+-bookworm-slim$/, 'a pinned node 20 image');
    assert.equal(runtime.image, build.image, 'both stages on the same node');
    const buildRuns = runsOf(build).join('\n');
    assert.match(buildRuns, /^npm ci\b(?!.*--omit)/m, 'the build stage installs every dependency');
    assert.match(buildRuns, /\bnpm run build\b/, 'and runs the build (tsc + the prebuilt workflow bundles)');
    const runtimeRuns = runsOf(runtime).join('\n');
    assert.match(runtimeRuns, /\bnpm ci --omit=dev\b/, 'the runtime stage installs production dependencies only');
    assert.doesNotMatch(runtimeRuns, /npm run build|tsc/, 'and builds nothing');
    const fromBuild = copiesOf(runtime).filter((c) => c.from === 'build');
    const copied = fromBuild.flatMap((c) => c.sources.map((s) => posix.relative(workdirOf(build), posix.resolve(workdirOf(build), s))));
    assert.deepEqual(
      copied.sort(),
      ['dist/src', `dist/${basename(PREBUILT_BUNDLE)}`, `dist/${basename(PREBUILT_ENCODED_FAILURES_BUNDLE)}`].sort(),
      'only the compiled code and the two prebuilt bundles come from the build stage (no tests, no dev dependencies)',
    );
    assert.ok(
      copiesOf(runtime).every(
        (c) => c.from === 'build' || c.sources.every((s) => ['package.json', 'package-lock.json', 'deploy/entrypoint.sh'].includes(s)),
      ),
      'the runtime stage takes nothing else from the build context',
    );
  });

  test('runs as the node user, SIGTERM reaches node: tini in exec form, then the entrypoint execs the worker', () => {
    const { runtime } = stages();
    const users = runtime.instructions.filter((i) => i.keyword === 'USER');
    assert.equal(users.at(-1)?.args, '1000:1000', "the node image's `node` user, by number");
    const entrypoints = runtime.instructions.filter((i) => i.keyword === 'ENTRYPOINT');
    assert.equal(entrypoints.length, 1);
    const entrypoint = JSON.parse(entrypoints[0]?.args ?? '') as string[];
    assert.deepEqual(
      entrypoint,
      ['/usr/bin/tini', '--', '/app/deploy/entrypoint.sh'],
      'exec form: tini is PID 1, the entrypoint its child',
    );
    assert.match(runsOf(runtime).join('\n'), /apt-get install -y --no-install-recommends tini=/, 'tini comes from a pinned Debian package');
    const script = copiesOf(runtime).find((c) => c.sources.includes('deploy/entrypoint.sh'));
    assert.equal(script && posix.resolve(workdirOf(runtime), script.dest), '/app/deploy/entrypoint.sh');
    assert.equal(script?.chmod, '0755');
    const cmd = runtime.instructions.filter((i) => i.keyword === 'CMD');
    assert.deepEqual(JSON.parse(cmd.at(-1)?.args ?? '') as string[], ['worker']);
    assert.match(read('deploy/entrypoint.sh'), /^exec mtf-ping-pong worker "\$@"$/m, 'the worker replaces the shell');
  });

  test("ENV holds the code's defaults, with metrics and health on every interface, and EXPOSEs their ports", () => {
    const { runtime } = stages();
    const env = envOf(runtime);
    assert.equal(env.TASK_QUEUE_NAME, DEFAULT_TASK_QUEUE);
    assert.equal(env.TEMPORAL_NAMESPACE, 'default');
    assert.equal(env.WORKER_IDENTITY, DEFAULT_IDENTITY);
    assert.equal(hostPort(env.TEMPORAL_ADDRESS ?? '').port, hostPort(DEFAULT_ADDRESS).port);
    assert.deepEqual(hostPort(env.METRICS_ADDRESS ?? ''), { host: '0.0.0.0', port: METRICS_PORT });
    assert.deepEqual(hostPort(env.HEALTH_ADDRESS ?? ''), { host: '0.0.0.0', port: HEALTH_PORT });
    assert.equal(env.START_LOOP, 'false', 'the image starts no loop unless told to');
    const known = envNamesTheCodeReads();
    for (const name of Object.keys(env)) assert.ok(known.has(name), `ENV ${name} is read by nothing`);
    const exposed = runtime.instructions.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/).map(Number));
    assert.deepEqual(exposed.sort(), [METRICS_PORT, HEALTH_PORT].sort());
    const { options } = healthcheckOf(runtime);
    assert.ok(
      seconds(options['start-period'] ?? '0s') >= seconds(env.TEMPORAL_WAIT ?? ''),
      'the start period covers the wait for Temporal',
    );
  });

  test('.dockerignore lets through every COPY source, and no node_modules, dist, .toolchain, .data or test artefact', () => {
    const patterns = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    const sources = dockerfile.stages.flatMap((s) =>
      copiesOf(s)
        .filter((c) => !c.from)
        .flatMap((c) => c.sources),
    );
    for (const file of sources.flatMap(filesUnder)) assert.equal(dockerignored(file, patterns), false, `${file} is copied but ignored`);
    const unwanted = [
      'node_modules/commander/package.json',
      'dist/src/cli/main.js',
      '.toolchain/venv/bin/temporal',
      '.data/temporal.db',
      '.git/HEAD',
      'test/server/dockerfile.test.ts',
      'bench/results.json',
      'soak-results.json',
      'temporal-server.log',
      'docs/dashboard.png',
      'deploy/k8s/deployment.yaml',
    ];
    for (const file of unwanted) assert.equal(dockerignored(file, patterns), true, `${file} reaches the build context`);
  });

  test('the HEALTHCHECK command: 0 when /healthz answers 200, not 0 when nothing listens or it answers 503', async () => {
    const { runtime } = stages();
    const { command } = healthcheckOf(runtime);
    assert.equal(command[0], 'node', 'node itself: the slim image has no curl');
    const check = (healthAddress: string) =>
      run(process.execPath, command.slice(1), { env: { ...process.env, HEALTH_ADDRESS: healthAddress }, timeoutMs: 20_000 });
    const paths: string[] = [];
    let status = 200;
    const server: Server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(req.url === '/healthz' ? status : 404).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      const closed = await freePort();
      const [nothing, ok, wildcard] = await Promise.all([
        check(`127.0.0.1:${closed}`),
        check(`127.0.0.1:${port}`),
        check(`0.0.0.0:${port}`),
      ]);
      assert.notEqual(nothing.code, 0, `nothing listens: ${describeRun(nothing)}`);
      assert.equal(ok.code, 0, describeRun(ok));
      assert.equal(wildcard.code, 0, `HEALTH_ADDRESS 0.0.0.0:port is checked on loopback: ${describeRun(wildcard)}`);
      assert.deepEqual(paths, ['/healthz', '/healthz']);
      status = 503;
      const unhealthy = await check(`127.0.0.1:${port}`);
      assert.notEqual(unhealthy.code, 0, describeRun(unhealthy));
    } finally {
      server.close();
    }
  });
});
