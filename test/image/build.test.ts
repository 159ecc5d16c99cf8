/**
 * The container image built as users build it (`docker build .`, only NODE_IMAGE pointed at the
 * stand-in base of scripts/image-base.mjs) by a Docker engine of the test's own, and run.
 * Work in progress for issue 35: the build, the user, the CLI's exit codes and the layer sizes.
 */
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { DOCKER, startDockerd, type Dockerd } from '../helpers/dockerd';
import { describeRun } from '../helpers/processes';

const ROOT = join(__dirname, '..', '..', '..');
const BASE_TARBALL = join(ROOT, '.toolchain', 'image-base', 'rootfs.tar');
const BASE = 'mtf-standin/node:20.20.2-bookworm-slim';
const IMAGE = 'mtf-ping-pong:test';
/** The layers this Dockerfile adds above its base: the goal of issue 35. */
const MAX_ADDED_BYTES = 150 * 1000 * 1000;

describe('the image, built and run by a Docker engine of its own', { timeout: 600_000 }, () => {
  let engine: Dockerd;

  before(async () => {
    engine = await startDockerd();
    // `docker import` of the stand-in's root filesystem: a second, where debootstrap takes half a minute.
    const imported = spawn(
      DOCKER,
      ['-H', engine.host, 'import', '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '-', BASE],
      {
        stdio: ['pipe', 'ignore', 'inherit'],
      },
    );
    createReadStream(BASE_TARBALL).pipe(imported.stdin);
    const [code] = (await once(imported, 'exit')) as [number | null];
    assert.equal(code, 0, 'docker import of the stand-in base');
  });

  after(async () => {
    await engine?.stop();
  });

  test('docker build . builds it with the built-in frontend, offline, its added layers within 150 MB', async () => {
    const built = await engine.docker(['build', '--network', 'host', '--build-arg', `NODE_IMAGE=${BASE}`, '-t', IMAGE, ROOT], {
      timeoutMs: 300_000,
    });
    assert.equal(built.code, 0, describeRun(built, 'docker build'));
    const history = await engine.docker(['history', '--format', '{{.Size}}\t{{.CreatedBy}}', '--human=false', IMAGE]);
    const base = await engine.docker(['image', 'inspect', '--format', '{{.Size}}', BASE]);
    const all = await engine.docker(['image', 'inspect', '--format', '{{.Size}}', IMAGE]);
    const added = Number(all.stdout.trim()) - Number(base.stdout.trim());
    console.log(
      `# image ${all.stdout.trim()} bytes, base ${base.stdout.trim()} bytes, added ${added} bytes\n${history.stdout.replace(/^/gm, '#   ')}`,
    );
    assert.ok(added <= MAX_ADDED_BYTES, `the layers above the base come to ${added} bytes`);
  });

  test('an npm ci that fetches nothing fails the build at its own step, not later at tsc: not found', async () => {
    // The base without the machine's npm settings: every fetch fails on the proxy's certificate,
    // and npm ci ends "Exit handler never called!" with exit status 0 and an empty node_modules.
    const context = mkdtempSync(join(tmpdir(), 'mtf-no-npmrc-'));
    try {
      writeFileSync(join(context, 'Dockerfile'), `FROM ${BASE}\nRUN rm /usr/local/etc/npmrc\n`);
      const derived = await engine.docker(['build', '--network', 'host', '-t', 'mtf-standin/no-npmrc', context]);
      assert.equal(derived.code, 0, describeRun(derived));
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
    const built = await engine.docker(
      ['build', '--network', 'host', '--progress', 'plain', '--target', 'build', '--build-arg', 'NODE_IMAGE=mtf-standin/no-npmrc', ROOT],
      { timeoutMs: 300_000 },
    );
    assert.notEqual(built.code, 0, 'the build fails');
    assert.match(built.stderr, /npm ls --depth=0/, describeRun(built));
    assert.match(built.stderr, /npm error code ELSPROBLEMS/, 'npm ls found the packages missing');
    assert.doesNotMatch(built.stderr, /tsc: not found/);
  });

  test('it runs as uid 1000, and as the CLI with the CLI exit codes', async () => {
    const id = await engine.docker(['run', '--rm', '--network', 'host', '--entrypoint', 'id', IMAGE]);
    assert.match(id.stdout, /^uid=1000\(node\) gid=1000\(node\)/);
    const help = await engine.docker(['run', '--rm', '--network', 'host', IMAGE, '--help']);
    assert.equal(help.code, 0, describeRun(help));
    const invalid = await engine.docker(['run', '--rm', '--network', 'host', IMAGE, 'apply', '-f', '/app/package.json', '--check']);
    assert.equal(invalid.code, 2, describeRun(invalid));
  });
});
