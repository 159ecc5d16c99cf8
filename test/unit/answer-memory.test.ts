/** The worker's memory of the answers it had, for a retry whose first attempt's report was lost. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AnswerMemory } from '../../src/activities/answer-memory';

void describe('AnswerMemory', () => {
  test('recalls an answer until its time is up, then forgets it', () => {
    let now = 1_000;
    const memory = new AnswerMemory<string>(10, () => now);
    memory.remember('loop/run/1', 'answer 1', 500);
    assert.equal(memory.recall('loop/run/1'), 'answer 1');
    assert.equal(memory.recall('loop/run/2'), undefined);
    now = 1_500;
    assert.equal(memory.recall('loop/run/1'), 'answer 1', 'still in time at its last moment');
    now = 1_501;
    assert.equal(memory.recall('loop/run/1'), undefined);
    assert.equal(memory.size, 0);
  });

  test('keeps at most its bound, dropping the oldest; expired entries go on the next remember', () => {
    let now = 0;
    const memory = new AnswerMemory<number>(3, () => now);
    for (let i = 1; i <= 5; i++) memory.remember(`k${i}`, i, 100);
    assert.equal(memory.size, 3);
    assert.deepEqual(
      ['k1', 'k2', 'k3', 'k4', 'k5'].map((k) => memory.recall(k)),
      [undefined, undefined, 3, 4, 5],
    );
    now = 200;
    memory.remember('k6', 6, 100);
    assert.equal(memory.size, 1);
    assert.equal(memory.recall('k6'), 6);
  });
});
