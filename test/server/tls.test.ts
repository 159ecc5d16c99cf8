/**
 * Production Temporal over TLS (issue 21): one real `temporal server start-dev` behind two nginx
 * fronts (test/helpers/tls-front.ts), one demanding a client certificate signed by a CA made at test
 * time, one demanding `authorization: Bearer <api key>`. Through them, both connection stacks: the
 * worker as a real process (the SDK's native core) and every CLI command as the real binary
 * (grpc-js), with each documented setting (certificate files, `…_DATA`, TEMPORAL_TLS_SERVER_NAME,
 * TEMPORAL_API_KEY, a TEMPORAL_PROFILE in a TOML file); a loop runs cycles through the front to
 * the simulator. Then each misconfiguration: one readable line on stderr, exit 6, within a bound,
 * for the worker and the CLI alike.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { LoopStatus } from '../../src/shared/status';
import { pollUntil } from '../helpers/loop-harness';
import { freePort, spawnNode, type Followed } from '../../harness/processes';
import { describeRun, runToEnd, type Ran } from '../helpers/processes';
import { uniqueId } from '../helpers/temporal';
import { useDevStack } from '../helpers/dev-stack';
import { SERVER_NAME, startTlsFront, type TlsFront } from '../helpers/tls-front';

const CLI = join(__dirname, '..', '..', 'src', 'cli', 'main.js');
const WORKER = join(__dirname, '..', '..', 'src', 'worker', 'main.js');
/** One CLI call is a node start plus a few RPCs; a hang fails the test instead of holding the run. */
const CALL_TIMEOUT_MS = 20_000;
/** How long a refused connection may take to be reported: both stacks answer in about a second here. */
const REFUSAL_BOUND_MS = 15_000;
/** Status polls; each awaits a whole CLI process (~1 s), so this bounds a wait to well under a minute. */
const POLL_TRIES = 40;
const CREDENTIALS_REFUSED = 6;

let front: TlsFront;
let closedPort: number;
const workers = new Set<Followed>();
const stack = useDevStack({
  started: async () => {
    closedPort = await freePort();
    front = await startTlsFront(stack.env.address);
  },
  beforeClose: async () => {
    await Promise.all([...workers].map((w) => w.stop('SIGKILL')));
    await front?.stop();
  },
});

/** This process's environment without any TEMPORAL_* setting, so only what a test sets applies. */
function baseEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TEMPORAL_')));
}

function cli(settings: NodeJS.ProcessEnv, ...args: string[]): Promise<Ran> {
  return runToEnd(process.execPath, [CLI, ...args], { env: { ...baseEnv(), MTF_URL: '', ...settings }, timeoutMs: CALL_TIMEOUT_MS });
}

function expectCode(ran: Ran, code: number, what: string): void {
  assert.equal(ran.code, code, describeRun(ran, what));
}

const workerEnv = { METRICS_ADDRESS: 'off', HEALTH_ADDRESS: 'off', LOG_FORMAT: 'json', LOG_LEVEL: 'info' };

function files() {
  return front.files;
}

function mtlsFiles(): NodeJS.ProcessEnv {
  return {
    TEMPORAL_ADDRESS: front.mtlsAddress,
    TEMPORAL_TLS_CLIENT_CERT_PATH: files().clientCert,
    TEMPORAL_TLS_CLIENT_KEY_PATH: files().clientKey,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: files().caPem,
  };
}

function apiKeySettings(key = front.apiKey): NodeJS.ProcessEnv {
  return { TEMPORAL_ADDRESS: front.apiKeyAddress, TEMPORAL_API_KEY: key, TEMPORAL_TLS_SERVER_CA_CERT_PATH: files().caPem };
}

/** The connection modes of docs/tls-and-encryption.md, exactly as it shows them. */
const MODES: { name: string; settings: () => NodeJS.ProcessEnv }[] = [
  { name: 'mTLS from certificate files', settings: mtlsFiles },
  {
    name: 'mTLS from TEMPORAL_TLS_*_DATA',
    settings: () => ({
      TEMPORAL_ADDRESS: front.mtlsAddress,
      TEMPORAL_TLS_CLIENT_CERT_DATA: readFileSync(files().clientCert, 'utf8'),
      TEMPORAL_TLS_CLIENT_KEY_DATA: readFileSync(files().clientKey, 'utf8'),
      TEMPORAL_TLS_SERVER_CA_CERT_DATA: readFileSync(files().caPem, 'utf8'),
    }),
  },
  // An address by IP whose certificate is checked against another name it carries.
  { name: 'TEMPORAL_TLS_SERVER_NAME', settings: () => ({ ...mtlsFiles(), TEMPORAL_TLS_SERVER_NAME: SERVER_NAME }) },
  { name: 'TEMPORAL_API_KEY', settings: () => apiKeySettings() },
  {
    name: 'TEMPORAL_PROFILE in a TOML file',
    settings: () => {
      const file = join(files().dir, 'temporal.toml');
      writeFileSync(
        file,
        [
          '[profile.prod]',
          `address = "${front.mtlsAddress}"`,
          `namespace = "${stack.env.namespace ?? 'default'}"`,
          '',
          '[profile.prod.tls]',
          `client_cert_path = "${files().clientCert}"`,
          `client_key_path = "${files().clientKey}"`,
          `server_ca_cert_path = "${files().caPem}"`,
          `server_name = "${SERVER_NAME}"`,
          '',
        ].join('\n'),
      );
      return { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' };
    },
  },
];

describe('through a TLS front, with each documented setting', () => {
  for (const mode of MODES) {
    test(`${mode.name}: the worker and start / status / list / health / stop; a loop runs two cycles`, async () => {
      const taskQueue = uniqueId('tls-tq');
      const settings = { ...mode.settings(), TASK_QUEUE_NAME: taskQueue };
      const worker = spawnNode(WORKER, [], { ...baseEnv(), ...workerEnv, ...settings });
      workers.add(worker);
      await worker.waitForLine((l) => l.includes('"worker started"'), `the worker to connect (${mode.name})`);

      const health = await cli(settings, 'health', '--url', stack.sim.runUrl);
      expectCode(health, 0, 'health');
      assert.match(health.stdout, /^temporal +ok /m);
      assert.match(health.stdout, /^mtf +ok .*via worker/m, 'the app is checked through the worker connected over TLS');

      const id = uniqueId('tls-loop');
      const started = await cli(settings, 'start', '--id', id, '--url', stack.sim.runUrl, '--interval', '1s');
      expectCode(started, 0, 'start');
      assert.match(started.stdout, new RegExp(`started loop ${id} .* on task queue ${taskQueue}`));

      const running = await pollUntil(
        async () => {
          const ran = await cli(settings, 'status', id, '--json');
          expectCode(ran, 0, 'status --json');
          return JSON.parse(ran.stdout) as LoopStatus;
        },
        (status) => status.counters.cycles >= 2,
        'two finished cycles',
        POLL_TRIES,
      );
      assert.equal(running.is_running, true);
      assert.equal(running.counters.succeeded, running.counters.cycles, 'every cycle reached the simulator and succeeded');

      const listed = await cli(settings, 'list', '--json');
      expectCode(listed, 0, 'list --json');
      assert.ok(
        (JSON.parse(listed.stdout) as { workflow_id: string }[]).some((l) => l.workflow_id === id),
        `list shows ${id}`,
      );

      const stopped = await cli(settings, 'stop', id, '--reason', 'tls test');
      expectCode(stopped, 0, 'stop');
      assert.match(stopped.stdout, new RegExp(`loop ${id} stopped \\(tls test\\)`));
      assert.match(stopped.stdout, /^ {2}counters +(\d+) cycles: \1 succeeded/m);

      assert.equal(await worker.stop('SIGTERM'), 0, `the worker shuts down cleanly\nstderr: ${worker.stderr()}`);
      workers.delete(worker);
      // No warning on the way (Node's DEP0123 for an IP address as the TLS server name included).
      assert.doesNotMatch(health.stderr + started.stderr + stopped.stderr + listed.stderr, /Warning|DEP0123/);
    });
  }
});

/** The misconfigurations, each with the settings that make it and the line that must explain it. */
const MISTAKES: { name: string; settings: () => NodeJS.ProcessEnv; line: RegExp }[] = [
  {
    name: 'a wrong CA',
    settings: () => ({ ...mtlsFiles(), TEMPORAL_TLS_SERVER_CA_CERT_PATH: files().otherCaPem }),
    line: /the certificate of Temporal at 127\.0\.0\.1:\d+ is not signed by TEMPORAL_TLS_SERVER_CA_CERT_PATH .*: set TEMPORAL_TLS_SERVER_CA_CERT_PATH to the CA/,
  },
  {
    name: 'no client certificate',
    settings: () => ({ TEMPORAL_ADDRESS: front.mtlsAddress, TEMPORAL_TLS_SERVER_CA_CERT_PATH: files().caPem }),
    line: /Temporal at 127\.0\.0\.1:\d+ asks for a client certificate and none is set .*: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH/,
  },
  {
    name: 'a client certificate another CA signed',
    settings: () => ({
      ...mtlsFiles(),
      TEMPORAL_TLS_CLIENT_CERT_PATH: files().clientOtherCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: files().clientOtherKey,
    }),
    line: /Temporal at 127\.0\.0\.1:\d+ refused the client certificate .*: set TEMPORAL_TLS_CLIENT_CERT_PATH\/KEY_PATH to a certificate the server's CA signed/,
  },
  {
    name: 'an X.509 v1 client certificate',
    settings: () => ({
      ...mtlsFiles(),
      TEMPORAL_TLS_CLIENT_CERT_PATH: files().clientV1Cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: files().clientV1Key,
    }),
    line: /the client certificate is X\.509 v1, which the worker's TLS stack refuses: re-issue it as v3/,
  },
  {
    name: 'a wrong API key',
    settings: () => apiKeySettings('not-the-key'),
    line: /Temporal at 127\.0\.0\.1:\d+ refused the API key \(UNAUTHENTICATED\): check TEMPORAL_API_KEY/,
  },
  {
    name: 'a wrong server name',
    settings: () => ({ ...mtlsFiles(), TEMPORAL_TLS_SERVER_NAME: 'wrong.test' }),
    line: /the certificate of Temporal at 127\.0\.0\.1:\d+ does not match the name wrong\.test \(it names temporal\.test, localhost, 127\.0\.0\.1\) \(TLS handshake\): set TEMPORAL_TLS_SERVER_NAME/,
  },
];

/** Exactly one line on stderr, matching `line`, with no Rust error dump and no stack trace. */
function assertOneLine(ran: Ran, prefix: string, line: RegExp, what: string): void {
  expectCode(ran, CREDENTIALS_REFUSED, what);
  const lines = ran.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, describeRun(ran, `${what}: one line on stderr`));
  assert.ok(lines[0]?.startsWith(prefix), describeRun(ran, `${what}: starts with ${prefix}`));
  assert.match(lines[0] ?? '', line, describeRun(ran, what));
  assert.doesNotMatch(ran.stderr + ran.stdout, /tonic::|\n\s+at |Error\(/, describeRun(ran, `${what}: no raw error`));
}

describe('each misconfiguration: one readable line and exit 6, for the worker and the CLI', () => {
  for (const mistake of MISTAKES) {
    test(mistake.name, async () => {
      const settings = { ...mistake.settings(), TASK_QUEUE_NAME: uniqueId('tls-bad-tq') };
      const timed = async (run: () => Promise<Ran>) => {
        const started = Date.now();
        const ran = await run();
        return { ran, ms: Date.now() - started };
      };
      const runs = await Promise.all([
        timed(() =>
          runToEnd(process.execPath, [WORKER], { env: { ...baseEnv(), ...workerEnv, ...settings }, timeoutMs: REFUSAL_BOUND_MS }),
        ),
        timed(() => cli({ ...workerEnv, ...settings }, 'worker')),
        timed(() => cli(settings, 'start', '--id', uniqueId('tls-bad'), '--url', stack.sim.runUrl)),
        timed(() => cli(settings, 'status')),
        timed(() => cli(settings, 'health', '--temporal-only')),
      ]);
      const names = ['worker process', 'mtf-ping-pong worker', 'start', 'status', 'health'];
      runs.forEach(({ ran, ms }, i) => {
        const what = `${names[i]} with ${mistake.name}`;
        assertOneLine(ran, i === 0 ? 'worker: ' : 'mtf-ping-pong: ', mistake.line, what);
        assert.ok(ms < REFUSAL_BOUND_MS, `${what}: reported in ${ms} ms`);
      });
    });
  }

  test('TLS settings towards a port where nothing listens stay "Temporal unreachable" (exit 3)', async () => {
    const ran = await cli({ ...mtlsFiles(), TEMPORAL_ADDRESS: `127.0.0.1:${closedPort}` }, 'status');
    expectCode(ran, 3, 'status towards a closed port');
    assert.match(ran.stderr, /^mtf-ping-pong: cannot reach Temporal at 127\.0\.0\.1:\d+ .*ECONNREFUSED/);
  });

  test('a port that accepts TCP and never answers the TLS handshake: the worker and the CLI still end, bounded', async () => {
    // What a wrong port on a proxy looks like; the worker's core would wait on it for ever.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket)).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const address = `127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const settings = { TEMPORAL_ADDRESS: address, TEMPORAL_TLS: 'true', TASK_QUEUE_NAME: uniqueId('tls-silent-tq') };
      const [workerRun, status] = await Promise.all([
        runToEnd(process.execPath, [WORKER], { env: { ...baseEnv(), ...workerEnv, ...settings }, timeoutMs: 25_000 }),
        cli(settings, 'status'),
      ]);
      assert.equal(workerRun.code, 1, describeRun(workerRun, 'the worker'));
      assert.match(workerRun.stdout, /no connection to 127\.0\.0\.1:\d+ within 15s.*"worker failed"/, describeRun(workerRun, 'the worker'));
      expectCode(status, 3, 'status');
      assert.match(status.stderr, /^mtf-ping-pong: cannot reach Temporal at 127\.0\.0\.1:\d+ .*deadline/);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  test('--help documents exit code 6', async () => {
    const help = await cli({}, '--help');
    expectCode(help, 0, '--help');
    assert.match(help.stdout, /^ {2}3 {2}Temporal unreachable/m);
    assert.match(help.stdout, /^ {2}6 {2}TLS or credentials refused/m);
  });
});
