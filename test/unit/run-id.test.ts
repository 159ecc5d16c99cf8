/** The X-Run-Id formula (src/lib/run-id.ts): short, safe, stable per loop, new per loop. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lineagePrefix, runIdOf, runIdOfKey } from '../../src/lib/run-id';
import { canonicalRunId } from '../../src/simulator/params';

/** The app's "kept as it is" rule: at most 64 characters of [A-Za-z0-9._:-]. */
const KEPT = /^[A-Za-z0-9._:-]{1,64}$/;
const FIRST_RUN = '0195f1c2-7a7e-7c1b-9d2a-3f4e5d6c7b8a';

void test('mtfpp.<16 hex of sha256(workflow id/first run id)>.<iteration>', () => {
  const h = createHash('sha256').update(`mtf-ping-pong/${FIRST_RUN}`).digest('hex').slice(0, 16);
  assert.equal(lineagePrefix('mtf-ping-pong', FIRST_RUN), `mtfpp.${h}`);
  assert.equal(runIdOf(lineagePrefix('mtf-ping-pong', FIRST_RUN), 42), `mtfpp.${h}.42`);
  assert.match(runIdOf(lineagePrefix('x', FIRST_RUN), 1), /^mtfpp\.[0-9a-f]{16}\.1$/);
});

void test('from the Idempotency-Key: the same id, whatever slashes the workflow ID holds', () => {
  assert.equal(runIdOfKey(`mtf-ping-pong/${FIRST_RUN}/7`), runIdOf(lineagePrefix('mtf-ping-pong', FIRST_RUN), 7));
  assert.equal(runIdOfKey(`a/b/c/${FIRST_RUN}/3`), runIdOf(lineagePrefix('a/b/c', FIRST_RUN), 3));
  assert.throws(() => runIdOfKey('no-slashes'), /Idempotency-Key/);
  assert.throws(() => runIdOfKey(`wf/${FIRST_RUN}/x`), /Idempotency-Key/);
});

void test('a 200-character workflow ID still gives at most 64 safe characters, which the app keeps as they are', () => {
  const workflowId = `${'loop/ünïcode space:'.repeat(10)}`.padEnd(200, 'z');
  assert.equal(workflowId.length, 200);
  for (const iteration of [1, 999_999, Number.MAX_SAFE_INTEGER]) {
    const id = runIdOfKey(`${workflowId}/${FIRST_RUN}/${iteration}`);
    assert.match(id, KEPT);
    assert.equal(canonicalRunId(id), id, 'the simulator, like the app, keeps it as it is');
  }
});

void test('the same loop gives the same prefix; another first run or workflow ID another one', () => {
  const prefix = lineagePrefix('mtf-ping-pong', FIRST_RUN);
  assert.equal(lineagePrefix('mtf-ping-pong', FIRST_RUN), prefix);
  assert.notEqual(lineagePrefix('mtf-ping-pong', '0195f1c2-0000-7c1b-9d2a-3f4e5d6c7b8a'), prefix);
  assert.notEqual(lineagePrefix('mtf-ping-pong2', FIRST_RUN), prefix);
});
