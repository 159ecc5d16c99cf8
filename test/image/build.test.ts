/**
 * The container image built as users build it (`docker build .`, only NODE_IMAGE pointed at the
 * stand-in base of scripts/image-base.mjs) by a Docker engine of the test's own, and run.
 * Work in progress for issue 35: the build, the user, the CLI's exit codes and the layer sizes.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
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

  test('it runs as uid 1000, and as the CLI with the CLI exit codes', async () => {
    const id = await engine.docker(['run', '--rm', '--network', 'host', '--entrypoint', 'id', IMAGE]);
    assert.match(id.stdout, /^uid=1000\(node\) gid=1000\(node\)/);
    const help = await engine.docker(['run', '--rm', '--network', 'host', IMAGE, '--help']);
    assert.equal(help.code, 0, describeRun(help));
    const invalid = await engine.docker(['run', '--rm', '--network', 'host', IMAGE, 'apply', '-f', '/app/package.json', '--check']);
    assert.equal(invalid.code, 2, describeRun(invalid));
  });
});
