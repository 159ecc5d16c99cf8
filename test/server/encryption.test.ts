/**
 * Payload encryption: with a key, the history on the server holds ciphertext where the loop's
 * symbols, MTF results and the app's error texts were; the codec server and the stock CLI read it
 * back; without a key nothing changes. The loop runs on a real dev server with the real simulator,
 * and the raw history is read the way an operator without the key would: the stock `temporal` CLI
 * and a client without the codec.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { Client, WorkflowFailedError } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { temporalTarget } from '../../src/client/connection';
import { loopStatus, startLoop, stopLoop } from '../../src/client/loops';
import {
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  EncryptionConfigError,
  dataConverterFromEnv,
  encryptedDataConverter,
  encryptionKeysFromEnv,
  type EncryptionKeys,
} from '../../src/codec/encryption';
import { startCodecServer } from '../../src/codec/server';
import { WORKFLOW_TYPE } from '../../src/shared/messages';
import { temporalCliPath } from '../../src/toolchain/binaries';
import { createMtfWorker } from '../../src/worker/worker';
import { freePort, spawnNode, type Followed } from '../../harness/processes';
import { waitFor } from '../helpers/processes';
import { currentDetails, uniqueId } from '../helpers/temporal';
import { useDevStack } from '../helpers/dev-stack';

const exec = promisify(execFile);
const CLI = join(__dirname, '..', '..', 'src', 'cli', 'main.js');
const WORKER = join(__dirname, '..', '..', 'src', 'worker', 'main.js');
/** Allowed by the symbol rule, and found by a plain text search wherever they leak. */
const SYMBOLS = ['ZZSECRETUSDT', 'ZZHIDDENETHUSDT'];
/** The simulator's texts for a 500 and a finished run: the app's own words. */
const APP_ERROR = 'Unable to run MTF cycle.';
const APP_RESULT = 'MTF run completed';

function keysOf(id = 'test-key-1'): { keys: EncryptionKeys; base64: string } {
  const key = randomBytes(32);
  return { keys: { activeKeyId: id, keys: new Map([[id, key]]) }, base64: key.toString('base64') };
}

const text = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');

/** Every payload in a history (proto objects from a client without the codec), with where it is. */
function payloadsIn(value: unknown, path = '', found: { path: string; payload: Payload }[] = []): { path: string; payload: Payload }[] {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return found;
  const record = value as Record<string, unknown>;
  if (record.metadata && typeof record.metadata === 'object' && 'data' in record) {
    found.push({ path, payload: record as Payload });
    return found;
  }
  for (const [key, child] of Object.entries(record)) payloadsIn(child, `${path}.${key}`, found);
  return found;
}

/** A history as one text a person or a grep would see: strings as they are, bytes as UTF-8. */
function readable(history: unknown): string {
  return JSON.stringify(history, (_key, value: unknown) => (value instanceof Uint8Array ? text(value) : value));
}

/**
 * `temporal workflow show`: `--detailed` text, what a person reads (payloads shown decoded as far
 * as the CLI can), or JSON, what the server holds event by event.
 */
async function cliShow(
  env: TestWorkflowEnvironment,
  run: { workflowId: string; runId: string },
  options: { json?: boolean; codecEndpoint?: string } = {},
): Promise<string> {
  const args = ['workflow', 'show', '--workflow-id', run.workflowId, '--run-id', run.runId, '--address', env.address];
  args.push(...(options.json ? ['--output', 'json'] : ['--detailed']));
  if (options.codecEndpoint) args.push('--codec-endpoint', options.codecEndpoint);
  const { stdout } = await exec(temporalCliPath(), args, { timeout: 30_000, maxBuffer: 32 * 1024 * 1024 });
  return stdout;
}

/** The CLI prints bytes as base64 (or as JSON when it can read them): both, as text to search. */
function withBase64Decoded(json: string): string {
  const decoded = [...json.matchAll(/"([A-Za-z0-9+/]{16,}={0,2})"/g)].map((m) => Buffer.from(m[1] ?? '', 'base64').toString('latin1'));
  return `${json}\n${decoded.join('\n')}`;
}

const stack = useDevStack({
  beforeClose: async () => {
    await Promise.all([...processes].map((p) => p.stop('SIGKILL')));
  },
});
const processes = new Set<Followed>();

void describe('payload encryption settings', () => {
  test('without a key there is no data converter, and the client and worker target carry none', () => {
    assert.equal(dataConverterFromEnv({}), undefined);
    assert.equal(dataConverterFromEnv({ MTF_ENCRYPTION_KEY: '  ' }), undefined);
    assert.equal(temporalTarget({}, {}).dataConverter, undefined);
  });

  test('a key as base64, hex or a file; a bad one is one line that never shows it', () => {
    const key = randomBytes(32);
    const fromBase64 = encryptionKeysFromEnv({ MTF_ENCRYPTION_KEY: key.toString('base64') });
    const fromHex = encryptionKeysFromEnv({ MTF_ENCRYPTION_KEY: key.toString('hex'), MTF_ENCRYPTION_KEY_ID: 'prod-2' });
    const file = join(mkdtempSync(join(tmpdir(), 'mtf-key-')), 'key');
    writeFileSync(file, `${key.toString('base64')}\n`);
    const fromFile = encryptionKeysFromEnv({ MTF_ENCRYPTION_KEY_FILE: file });
    assert.equal(fromBase64?.activeKeyId, 'mtf-key-1');
    assert.equal(fromHex?.activeKeyId, 'prod-2');
    for (const keys of [fromBase64, fromHex, fromFile]) assert.deepEqual(keys?.keys.get(keys.activeKeyId), key);
    assert.ok(temporalTarget({}, { MTF_ENCRYPTION_KEY: key.toString('hex') }).dataConverter?.payloadCodecs?.[0] instanceof EncryptionCodec);

    const old = randomBytes(32);
    const rotated = encryptionKeysFromEnv({
      MTF_ENCRYPTION_KEY: key.toString('hex'),
      MTF_ENCRYPTION_KEY_ID: 'k2',
      MTF_ENCRYPTION_OLD_KEYS: `k1:${old.toString('base64')}`,
    });
    assert.deepEqual([...(rotated?.keys.keys() ?? [])].sort(), ['k1', 'k2']);

    const tooShort = randomBytes(31).toString('base64');
    const bad: [NodeJS.ProcessEnv, RegExp][] = [
      [{ MTF_ENCRYPTION_KEY: tooShort }, /^MTF_ENCRYPTION_KEY must be 32 bytes as base64 or 64 hex digits/],
      [{ MTF_ENCRYPTION_KEY: 'not a key!' }, /^MTF_ENCRYPTION_KEY must be 32 bytes/],
      [
        { MTF_ENCRYPTION_KEY: key.toString('hex'), MTF_ENCRYPTION_KEY_FILE: file },
        /^set MTF_ENCRYPTION_KEY or MTF_ENCRYPTION_KEY_FILE, not both$/,
      ],
      [{ MTF_ENCRYPTION_KEY_FILE: join(tmpdir(), 'no-such-mtf-key') }, /^MTF_ENCRYPTION_KEY_FILE: cannot read .*: ENOENT$/],
      [{ MTF_ENCRYPTION_KEY_ID: 'k1' }, /need MTF_ENCRYPTION_KEY/],
      [{ MTF_ENCRYPTION_KEY: key.toString('hex'), MTF_ENCRYPTION_KEY_ID: 'bad id' }, /^MTF_ENCRYPTION_KEY_ID must be 1-64 letters/],
      [{ MTF_ENCRYPTION_KEY: key.toString('hex'), MTF_ENCRYPTION_OLD_KEYS: 'k1' }, /^MTF_ENCRYPTION_OLD_KEYS must be id:key pairs/],
    ];
    for (const [badEnv, message] of bad) {
      assert.throws(
        () => dataConverterFromEnv(badEnv),
        (err: unknown) => {
          assert.ok(err instanceof EncryptionConfigError);
          assert.match(err.message, message);
          assert.ok(!err.message.includes('\n'), 'one line');
          assert.ok(!err.message.includes(tooShort) && !err.message.includes('not a key!'), 'the key is never echoed');
          return true;
        },
      );
    }
  });

  test('the wire format is the encryption sample’s: IV | AES-256-GCM ciphertext | tag over the serialised payload; plain payloads pass through', async () => {
    const { keys } = keysOf();
    const codec = new EncryptionCodec(keys);
    const plain = defaultPayloadConverter.toPayload({ symbols: SYMBOLS });
    const [first, second] = await codec.encode([plain, plain]);
    assert.ok(first && second);
    assert.equal(text(first.metadata?.encoding), ENCRYPTED_ENCODING);
    assert.equal(text(first.metadata?.['encryption-key-id']), 'test-key-1');
    assert.notDeepEqual(first.data, second.data, 'a fresh IV for every payload');
    assert.ok(!text(first.data).includes(SYMBOLS[0] ?? '?'));
    // Sealed by hand the way the Python and Go samples do, it decodes: the same format.
    const key = keys.keys.get('test-key-1') as Buffer;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const sealed = Buffer.concat([
      iv,
      cipher.update(temporal.api.common.v1.Payload.encode(plain).finish()),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    const [handMade] = await codec.decode([{ metadata: first.metadata, data: sealed }]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(handMade as Payload), { symbols: SYMBOLS });
    const [roundTrip] = await codec.decode([first]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(roundTrip as Payload), { symbols: SYMBOLS });
    const [untouched] = await codec.decode([plain]);
    assert.equal(untouched, plain, 'a payload from before encryption is read as it is');

    const other = new EncryptionCodec(keysOf('other-key').keys);
    await assert.rejects(
      other.decode([first]),
      /encrypted with key id "test-key-1", which this process does not have \(it has: other-key\)/,
    );
    const sameIdOtherKey = new EncryptionCodec(keysOf('test-key-1').keys);
    await assert.rejects(sameIdOtherKey.decode([first]), /cannot decrypt a payload with key id "test-key-1"/);
  });
});

void describe('the codec server', () => {
  test('answers the Web UI’s CORS preflight, decodes and encodes, and refuses what it should', async () => {
    const { keys } = keysOf();
    const server = await startCodecServer({ codec: new EncryptionCodec(keys), port: 0, maxBodyBytes: 64 * 1024 });
    try {
      const ui = 'http://localhost:8233';
      const preflight = await fetch(`${server.url}/decode`, {
        method: 'OPTIONS',
        headers: { origin: ui, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), ui);
      assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
      for (const header of ['content-type', 'x-namespace', 'authorization'])
        assert.match(preflight.headers.get('access-control-allow-headers') ?? '', new RegExp(header));

      const post = (path: string, body: string, headers: Record<string, string> = {}) =>
        fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
          body,
        });
      const plain = defaultPayloadConverter.toPayload({ symbols: SYMBOLS });
      const json = (p: Payload) => ({
        metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
        data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
      });
      const encoded = await post('/encode', JSON.stringify({ payloads: [json(plain)] }), { origin: ui });
      assert.equal(encoded.status, 200);
      assert.equal(encoded.headers.get('access-control-allow-origin'), ui);
      const encodedBody = (await encoded.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
      assert.equal(Buffer.from(encodedBody.payloads[0]?.metadata.encoding ?? '', 'base64').toString(), ENCRYPTED_ENCODING);
      // Mounted under any prefix: the protocol looks only at the last part of the path.
      const decoded = await post('/some/prefix/decode', JSON.stringify(encodedBody));
      assert.equal(decoded.status, 200);
      const decodedBody = (await decoded.json()) as { payloads: { data: string }[] };
      assert.equal(Buffer.from(decodedBody.payloads[0]?.data ?? '', 'base64').toString(), JSON.stringify({ symbols: SYMBOLS }));

      const foreign = await new EncryptionCodec(keysOf('retired-key').keys).encode([plain]);
      const unknownKey = await post('/decode', JSON.stringify({ payloads: foreign.map(json) }));
      assert.equal(unknownKey.status, 400);
      assert.match(
        await unknownKey.text(),
        /^cannot decode: a payload is encrypted with key id "retired-key", which this process does not have/,
      );

      const badJson = await post('/decode', '{"payloads": [');
      assert.equal(badJson.status, 400);
      assert.match(await badJson.text(), /not JSON/);
      assert.equal((await post('/decode', '{"nope": 1}')).status, 400);
      assert.equal((await post('/decode', JSON.stringify({ payloads: ['x'.repeat(70 * 1024)] }))).status, 413);
      assert.equal((await post('/elsewhere', '{}')).status, 404);
      assert.equal((await fetch(`${server.url}/decode`)).status, 405);
      const otherSite = await post('/decode', JSON.stringify(encodedBody), { origin: 'https://evil.example' });
      assert.equal(otherSite.status, 403, 'another site’s page cannot use it through a visitor’s browser');
      assert.equal(otherSite.headers.get('access-control-allow-origin'), null);
      // fetch() will not send a Host of its own choosing; node:http will, like a rebound DNS name would.
      const rebound = await new Promise<number | undefined>((resolve, reject) => {
        const { hostname, port } = new URL(server.url);
        request({ hostname, port, path: '/decode', method: 'POST', headers: { host: 'evil.example:8888' } }, (res) => {
          res.resume();
          resolve(res.statusCode);
        })
          .once('error', reject)
          .end('{}');
      });
      assert.equal(rebound, 403, 'a rebound DNS name is refused on loopback');
    } finally {
      await server.close();
    }
  });

  test('`mtf-ping-pong codec-server` without a key is a usage error naming the variable', async () => {
    const cli = spawnNode(CLI, ['codec-server', '--listen', '127.0.0.1:0'], { MTF_ENCRYPTION_KEY: '', MTF_ENCRYPTION_KEY_FILE: '' });
    processes.add(cli);
    assert.equal(await cli.exited, 2);
    assert.match(cli.stderr(), /^mtf-ping-pong: codec-server needs the loops' key: set MTF_ENCRYPTION_KEY/);
  });
});

/** A client and an in-process worker that share one encrypting data converter, on a fresh task queue. */
async function encryptedWorker(keys: Parameters<typeof encryptedDataConverter>[0], queuePrefix: string) {
  const dataConverter = encryptedDataConverter(keys);
  const namespace = stack.env.namespace ?? 'default';
  const client = new Client({ connection: stack.env.connection, namespace, dataConverter });
  const taskQueue = uniqueId(queuePrefix);
  const worker = await createMtfWorker({
    connection: stack.env.nativeConnection,
    namespace,
    taskQueue,
    identity: 'encryption-test-worker',
    activities: createActivities({ token: null }),
    dataConverter,
  });
  return { client, taskQueue, worker };
}

void describe('an encrypted loop on a real dev server', () => {
  test('the raw history holds no symbols, run ids, results or app errors; the codec server and the stock CLI read them; the status is intact', async () => {
    const { keys, base64 } = keysOf();
    const { client, taskQueue, worker } = await encryptedWorker(keys, 'enc-tq');
    const workerDone = worker.run();
    try {
      // The first cycle meets three 500s (its every attempt) and fails; the next ones succeed.
      stack.sim.setBehaviour({ mode: 'sync', fault: 'http500', fault_count: 3, latency_ms: 0 });
      const workflowId = uniqueId('enc-loop');
      const started = await startLoop(client, {
        taskQueue,
        workflowId,
        config: { mtf_url: stack.sim.runUrl, symbols: SYMBOLS, ping_interval: 0.1, retry_initial_interval: 0.1, max_cycles_per_run: 2 },
      });
      const status = await waitFor(
        () => loopStatus(client, workflowId),
        (s) => s.counters.failed === 1 && s.counters.succeeded >= 2,
        'a failed cycle and two good ones',
      );
      // The status, read through the codec, is the loop's own.
      assert.deepEqual(status.config.symbols, SYMBOLS);
      assert.equal(status.last_cycle?.outcome, 'succeeded');
      assert.notEqual(status.run_id, started.runId, 'the loop continued as new: its carried state is in the history too');
      const summary = await stopLoop(client, workflowId, 'encryption test');
      assert.ok(summary.iterations >= 3);

      const sent = stack.sim.runRequests().filter((r) => r.idempotency_key?.startsWith(`${workflowId}/`));
      assert.equal(sent.filter((r) => r.status === 500).length, 3);
      const runIds = sent.map((r) => r.run_id).filter((id): id is string => id !== null);
      assert.ok(runIds.length >= 2, 'the app ran at least two MTF runs');
      const secrets = [...SYMBOLS, ...runIds, APP_ERROR, APP_RESULT, stack.sim.runUrl];

      const description = await client.workflow.getHandle(workflowId).describe();
      const runs = [started.runId, description.runId];
      for (const runId of runs) {
        // 1. What the server stores, through a client without the codec.
        const raw = await stack.env.client.workflow.getHandle(workflowId, runId).fetchHistory();
        const rawText = readable(raw);
        for (const secret of secrets) assert.ok(!rawText.includes(secret), `"${secret}" is in the raw history of run ${runId}`);
        // The SDK core writes a patch marker's details itself, past the codec: they hold the patch's ID (notify-on-transitions), nothing of the loop.
        const patchIds = (raw.events ?? []).flatMap((e) =>
          e.markerRecordedEventAttributes?.markerName === 'core_patch'
            ? [text(e.markerRecordedEventAttributes.details?.['patch-data']?.payloads?.[0]?.data)]
            : [],
        );
        assert.ok(
          patchIds.every((id) => id.includes('notify-on-transitions')),
          `patch markers: ${patchIds.join(', ')}`,
        );
        const payloads = payloadsIn(raw.events).filter(
          ({ path }) => !path.includes('.searchAttributes.') && !path.includes('.markerRecordedEventAttributes.details.patch-data.'),
        );
        assert.ok(payloads.length >= 5, `the run's history has payloads: ${payloads.length}`);
        for (const { path, payload } of payloads)
          assert.equal(text(payload.metadata?.encoding), ENCRYPTED_ENCODING, `the payload at ${path}`);
        const failures = (raw.events ?? []).flatMap((e) =>
          e.activityTaskFailedEventAttributes?.failure ? [e.activityTaskFailedEventAttributes.failure] : [],
        );
        if (runId === started.runId) {
          assert.ok(failures.length >= 1, 'the failed attempt is in the first run');
          for (const failure of failures) {
            assert.equal(failure.message, 'Encoded failure', 'the failure message is moved into an encrypted payload');
            assert.equal(text(failure.encodedAttributes?.metadata?.encoding), ENCRYPTED_ENCODING);
          }
        }

        // 2. What the stock CLI shows without the codec: as text, and as JSON with every base64 field decoded.
        const shown = [
          await cliShow(stack.env, { workflowId, runId }),
          withBase64Decoded(await cliShow(stack.env, { workflowId, runId }, { json: true })),
        ];
        for (const secret of secrets)
          assert.ok(!shown.some((s) => s.includes(secret)), `"${secret}" is in \`temporal workflow show\` of run ${runId}`);
        assert.match(shown[0] ?? '', /binary\/encrypted|Encoded failure/, 'the CLI shows encrypted payloads as such');
      }

      // 3. With the codec server, the stock CLI reads it all: the command operators run.
      const port = await freePort();
      const codecServer = spawnNode(CLI, ['codec-server', '--listen', `127.0.0.1:${port}`], {
        MTF_ENCRYPTION_KEY: base64,
        MTF_ENCRYPTION_KEY_ID: keys.activeKeyId,
      });
      processes.add(codecServer);
      await codecServer.waitForLine((l) => l.startsWith('codec server on'), 'the codec server to listen');
      const codecEndpoint = `http://127.0.0.1:${port}`;
      const first = await cliShow(stack.env, { workflowId, runId: started.runId }, { codecEndpoint });
      for (const symbol of SYMBOLS) assert.match(first, new RegExp(`symbols\\[\\d\\]: ${symbol}`), `the decoded history shows ${symbol}`);
      assert.match(
        first,
        /encodedAttributes\.message: MTF API answered HTTP 500 .*internal_error: Unable to run MTF cycle\./,
        'the decoded history shows the app’s error',
      );
      assert.match(first, /last_error: iteration 1: MTF API answered HTTP 500/, 'the state carried into the next run is decoded too');
      assert.ok(
        runIds.some((id) => first.includes(id)),
        'the decoded history shows the MTF run ids',
      );
      // The raw search above would have seen them: the same JSON, decoded by the codec server, holds them.
      assert.ok(
        withBase64Decoded(await cliShow(stack.env, { workflowId, runId: started.runId }, { json: true, codecEndpoint })).includes(
          SYMBOLS[0] ?? '?',
        ),
      );
      const last = await cliShow(stack.env, { workflowId, runId: description.runId }, { codecEndpoint });
      assert.match(last, /reason: encryption test/, 'the decoded final summary carries the stop reason');
      assert.equal(await codecServer.stop('SIGTERM'), 0);
    } finally {
      worker.shutdown();
      await workerDone;
    }
  });

  test('the workflow’s own failure is encoded too (the bundle carries the failure converter), and a keyless client cannot read the loop', async () => {
    const { keys } = keysOf();
    const { client, taskQueue, worker } = await encryptedWorker(keys, 'enc-fail-tq');
    await worker.runUntil(async () => {
      // Past the client's own check, as the stock CLI or the Python client could send it: the workflow refuses it.
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue,
        workflowId: uniqueId('enc-bad'),
        args: [{ mtf_url: stack.sim.runUrl, symbols: [SYMBOLS[0], SYMBOLS[0]] }],
      });
      await assert.rejects(handle.result(), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        assert.match(err.cause?.message ?? '', /symbols: must not list a symbol twice/, 'read through the codec, the message is whole');
        return true;
      });
      const raw = await stack.env.client.workflow.getHandle(handle.workflowId).fetchHistory();
      const failed = raw.events?.find((e) => e.workflowExecutionFailedEventAttributes)?.workflowExecutionFailedEventAttributes?.failure;
      assert.equal(failed?.message, 'Encoded failure');
      assert.ok(!readable(raw).includes('must not list a symbol twice'));
      assert.ok(!readable(raw).includes(SYMBOLS[0] ?? '?'));
      // Without the key, the result cannot be read at all: it is not quietly shown as something else.
      await assert.rejects(stack.env.client.workflow.getHandle(handle.workflowId).result(), /binary\/encrypted|encoding/i);
    });
  });

  test('the worker process and the CLI take the key from the environment; without it the CLI cannot read the loop and says why', async () => {
    const { base64 } = keysOf();
    const workflowId = uniqueId('enc-env-loop');
    const common = {
      TEMPORAL_ADDRESS: stack.env.address,
      TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default',
      TASK_QUEUE_NAME: uniqueId('enc-env-tq'),
      MTF_URL: '',
    };
    const keyed = { ...common, MTF_ENCRYPTION_KEY: base64, MTF_ENCRYPTION_KEY_ID: 'env-key' };
    const cli = async (args: string[], extraEnv: NodeJS.ProcessEnv) => {
      try {
        const { stdout, stderr } = await exec(process.execPath, [CLI, ...args], { env: { ...process.env, ...extraEnv }, timeout: 20_000 });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const failed = err as { code?: number; stdout?: string; stderr?: string };
        return { code: failed.code ?? null, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
      }
    };
    const worker = spawnNode(WORKER, [], {
      ...keyed,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      METRICS_ADDRESS: 'off',
      HEALTH_ADDRESS: 'off',
    });
    processes.add(worker);
    const startedLine = await worker.waitForLine((l) => l.includes('"worker started"'), 'the worker to start');
    assert.match(startedLine, /"payload_encryption":true/);
    // Every contract READY, so the run's findings name both symbols: none may reach the UI in clear.
    stack.sim.setBehaviour({ mode: 'sync', fault: 'none', fault_count: null, latency_ms: 0, ready_share: 1, order_status: 'simulated' });

    const start = await cli(
      ['start', '--id', workflowId, '--symbols', SYMBOLS.join(','), '--interval', '0.1s', '--url', stack.sim.runUrl],
      keyed,
    );
    assert.equal(start.code, 0, start.stderr);
    const status = await waitFor(
      async () =>
        JSON.parse((await cli(['status', workflowId, '--json'], keyed)).stdout) as {
          counters: { succeeded: number };
          config: { symbols: string[] };
        },
      (s) => s.counters.succeeded >= 2,
      'two cycles, read by `status --json` with the key',
    );
    assert.deepEqual(status.config.symbols, SYMBOLS);
    // The Temporal UI's current details, read through the key as a codec server would: counts only.
    const keyedClient = new Client({
      connection: stack.env.connection,
      namespace: stack.env.namespace ?? 'default',
      dataConverter: temporalTarget({}, keyed).dataConverter,
    });
    const details = await currentDetails(keyedClient, workflowId);
    assert.match(details, /\*\*READY\*\*: 2 contract\(s\)/);
    assert.match(details, /\*\*Orders\*\*: 2 · 0 submitted · 2 simulated/);
    for (const symbol of SYMBOLS) assert.ok(!details.includes(symbol), `${symbol} is in the current details: ${details}`);

    const keyless = await cli(['status', workflowId], common);
    assert.equal(keyless.code, 1);
    assert.equal(
      keyless.stderr,
      "mtf-ping-pong: Unknown encoding: binary/encrypted: the loop's payloads are encrypted; set MTF_ENCRYPTION_KEY (and MTF_ENCRYPTION_KEY_ID) to the workers' key to read them\n",
    );
    const badKey = await cli(['status', workflowId], { ...common, MTF_ENCRYPTION_KEY: 'nope' });
    assert.equal(badKey.code, 2);
    assert.match(badKey.stderr, /^mtf-ping-pong: MTF_ENCRYPTION_KEY must be 32 bytes as base64 or 64 hex digits/);

    const raw = readable(await stack.env.client.workflow.getHandle(workflowId).fetchHistory());
    for (const symbol of SYMBOLS) assert.ok(!raw.includes(symbol), `${symbol} is in the raw history`);
    const stop = await cli(['stop', workflowId, '--reason', 'done'], keyed);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(await worker.stop('SIGTERM'), 0);
  });
});
