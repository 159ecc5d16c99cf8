/** The install step that brings the pinned Temporal binaries: a no-op when present, one clear line when it cannot run. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { temporalCliPath, testServerPath } from '../src/toolchain/binaries';

const script = join(__dirname, '..', '..', 'scripts', 'toolchain.mjs');

function runSetup(env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, [script], { env: { ...process.env, ...env }, encoding: 'utf8' });
}

describe('toolchain', () => {
  test('the pinned binaries are installed, and a second setup does nothing', () => {
    assert.match(temporalCliPath(), /\.toolchain\/venv\/bin\/temporal$/);
    assert.match(testServerPath(), /\.toolchain\/venv\/bin\/temporal-test-server$/);
    const again = runSetup({});
    assert.equal(again.status, 0);
    assert.equal(again.stderr, '', 'nothing to install, nothing said');
  });

  test('without Python, setup fails with one line saying what to do', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mtf-toolchain-'));
    try {
      const result = runSetup({ MTF_TOOLCHAIN_DIR: dir, PYTHON: join(dir, 'no-python') });
      assert.equal(result.status, 1);
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0] ?? '', /^toolchain: .*no-python was not found.*TEMPORAL_CLI_PATH/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a missing binary is named with the command that installs it', () => {
    assert.throws(() => temporalCliPath({ MTF_TOOLCHAIN_DIR: '/nonexistent' }), /temporal not found at .*npm run setup.*TEMPORAL_CLI_PATH/);
    assert.equal(testServerPath({ TEMPORAL_TEST_SERVER_PATH: process.execPath }), process.execPath, 'an explicit path wins');
  });
});
