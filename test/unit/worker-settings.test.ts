/** The worker's settings from its environment: each mistake is one readable line, before anything starts. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { temporalTarget } from '../../src/client/connection';
import { observabilitySettings } from '../../src/observability/runtime';
import { apiToken, workerSettings } from '../../src/worker/main';

const dir = mkdtempSync(join(tmpdir(), 'mtf-settings-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

void describe('the API token', () => {
  test('comes from MTF_API_TOKEN, or from the file MTF_API_TOKEN_FILE names (one trailing line break dropped)', () => {
    assert.equal(apiToken({}), null);
    assert.equal(apiToken({ MTF_API_TOKEN: 'from-env' }), 'from-env');
    assert.equal(apiToken({ MTF_API_TOKEN_FILE: file('token', 'from-file\n') }), 'from-file');
    assert.equal(apiToken({ MTF_API_TOKEN_FILE: file('token-crlf', 'from-file\r\n') }), 'from-file');
  });

  test('a missing, empty or multi-line file, or both variables at once, is refused with one line', () => {
    assert.throws(() => apiToken({ MTF_API_TOKEN_FILE: join(dir, 'absent') }), /^Error: MTF_API_TOKEN_FILE: cannot read .*absent: ENOENT$/);
    assert.throws(() => apiToken({ MTF_API_TOKEN_FILE: file('empty', '') }), /must hold the token on one line/);
    assert.throws(() => apiToken({ MTF_API_TOKEN_FILE: file('two', 'a\nb\n') }), /must hold the token on one line/);
    assert.throws(
      () => apiToken({ MTF_API_TOKEN: 'x', MTF_API_TOKEN_FILE: file('both', 'y') }),
      /set MTF_API_TOKEN or MTF_API_TOKEN_FILE, not both/,
    );
  });
});

void describe('worker settings', () => {
  test('defaults, and REQUIRE_SEARCH_ATTRIBUTES as a boolean', () => {
    const settings = workerSettings({}, observabilitySettings({}));
    assert.deepEqual(settings, {
      identity: 'mtf-ping-pong-worker',
      token: null,
      notify: { url: null, format: 'slack', timeoutMs: 5000 },
      requireSearchAttributes: false,
      healthAddress: '127.0.0.1:9465',
    });
    assert.equal(workerSettings({ REQUIRE_SEARCH_ATTRIBUTES: 'true' }, observabilitySettings({})).requireSearchAttributes, true);
    assert.equal(workerSettings({ REQUIRE_SEARCH_ATTRIBUTES: 'false' }, observabilitySettings({})).requireSearchAttributes, false);
    // The words every boolean variable takes (src/lib/env.ts), MTF_DRY_RUN's included: `off` is false, not a mistake.
    assert.equal(workerSettings({ REQUIRE_SEARCH_ATTRIBUTES: ' ON ' }, observabilitySettings({})).requireSearchAttributes, true);
    assert.equal(workerSettings({ REQUIRE_SEARCH_ATTRIBUTES: 'off' }, observabilitySettings({})).requireSearchAttributes, false);
    assert.throws(
      () => workerSettings({ REQUIRE_SEARCH_ATTRIBUTES: 'maybe' }, observabilitySettings({})),
      /REQUIRE_SEARCH_ATTRIBUTES must be true or false \(or 1\/0, yes\/no, on\/off\), not "maybe"/,
    );
  });
});

void describe('TEMPORAL_TLS', () => {
  test('takes the words of every boolean variable (envconfig alone reads `on` and `yes` as off)', () => {
    for (const on of ['true', '1', 'on', 'YES'])
      assert.equal(typeof temporalTarget({}, { TEMPORAL_TLS: on }).connectionOptions.tls, 'object', on);
    for (const off of ['false', '0', 'off', 'No'])
      assert.equal(temporalTarget({}, { TEMPORAL_TLS: off }).connectionOptions.tls, false, off);
    assert.throws(
      () => temporalTarget({}, { TEMPORAL_TLS: 'maybe' }),
      /^Error: TEMPORAL_TLS must be true or false \(or 1\/0, yes\/no, on\/off\), not "maybe"$/,
    );
  });
});
