/** The activities' deadline: a timeout held by its own timer, cut short by the activity's cancellation. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { deadlineSignal } from '../../src/activities/deadline';

beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
afterEach(() => mock.timers.reset());

test('aborts with a TimeoutError when its time has passed, not before', () => {
  const parent = new AbortController();
  const { signal } = deadlineSignal(parent.signal, 300);
  mock.timers.tick(299);
  assert.equal(signal.aborted, false);
  mock.timers.tick(1);
  assert.equal(signal.aborted, true);
  assert.equal((signal.reason as DOMException).name, 'TimeoutError');
});

test('aborts with the cancellation when the activity is cancelled first, or already was', () => {
  const parent = new AbortController();
  const { signal } = deadlineSignal(parent.signal, 300);
  parent.abort(new Error('cancelled'));
  assert.equal(signal.aborted, true);
  assert.equal((signal.reason as Error).message, 'cancelled');
  assert.equal(deadlineSignal(parent.signal, 300).signal.aborted, true, 'a cancelled activity gets an aborted signal');
});

test('once cleared, neither the timer nor a later cancellation aborts it', () => {
  const parent = new AbortController();
  const deadline = deadlineSignal(parent.signal, 300);
  deadline.clear();
  mock.timers.tick(1_000);
  parent.abort();
  assert.equal(deadline.signal.aborted, false);
});
