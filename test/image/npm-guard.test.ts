/**
 * The Dockerfile's guard against npm's exit-0 failure, proved by a real build: on a base without the
 * machine's npm settings every fetch fails on the proxy's certificate, npm ci ends "Exit handler
 * never called!" with exit status 0 and an empty node_modules, and without the guard the build
 * would only fail later, at "tsc: not found". Its own engine: it runs beside test/image/image.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Dockerd } from '../helpers/dockerd';
import { root } from '../helpers/deploy-files';
import { describeRun } from '../helpers/processes';
import { BASE, engineWithBase } from '../helpers/image';

let engine: Dockerd;
before(async () => {
  engine = await engineWithBase();
});
after(async () => {
  await engine?.stop();
});

test('an npm ci that fetches nothing fails the build at its own step, not later at tsc: not found', { timeout: 600_000 }, async () => {
  const context = mkdtempSync(join(tmpdir(), 'mtf-no-npmrc-'));
  try {
    writeFileSync(join(context, 'Dockerfile'), `FROM ${BASE}\nRUN rm /usr/local/etc/npmrc\n`);
    const derived = await engine.docker(['build', '--network', 'host', '-t', 'mtf-standin/no-npmrc', context]);
    assert.equal(derived.code, 0, describeRun(derived));
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  const built = await engine.docker(
    ['build', '--network', 'host', '--progress', 'plain', '--target', 'build', '--build-arg', 'NODE_IMAGE=mtf-standin/no-npmrc', root],
    { timeoutMs: 300_000 },
  );
  assert.notEqual(built.code, 0, 'the build fails');
  assert.match(built.stderr, /npm ls --depth=0/, describeRun(built));
  assert.match(built.stderr, /npm error code ELSPROBLEMS/, 'npm ls found the packages missing');
  assert.doesNotMatch(built.stderr, /tsc: not found/);
});
