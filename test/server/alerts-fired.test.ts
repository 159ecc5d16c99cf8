/**
 * The alert rules (deploy/prometheus/alerts.yml) fired for real: Debian's Prometheus scrapes a
 * worker process every second and evaluates the rules every second, sends what fires to Debian's
 * Alertmanager (clustering off), which posts to a webhook receiver in this test. A loop against a
 * simulator that answers 500 forever fires MtfLoopFailing, carrying the loop's group (and `none` for
 * its fleet); pointed at a healthy simulator with update_config, the alert resolves. A live loop whose answer holds an unprotected position fires
 * MtfProtectionAlert. Loopback only, free ports, data in temp folders; every process started here
 * is ended by its PID.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loopStatus, startLoop, updateLoop } from '../../src/client/loops';
import { startSimulator, type Simulator } from '../../src/simulator/server';
import { freePort, spawnFollowed, spawnNode, type Followed } from '../../harness/processes';
import { waitFor } from '../helpers/processes';
import { createDevServerEnv, uniqueId } from '../helpers/temporal';
import { WebhookReceiver } from '../helpers/webhook-receiver';

const WORKER = join(__dirname, '..', '..', 'src', 'worker', 'main.js');
/** The project's real rules, in the source tree (this file runs from dist/test/server). */
const RULES = join(__dirname, '..', '..', '..', 'deploy', 'prometheus', 'alerts.yml');
const PROMETHEUS = '/usr/bin/prometheus';
const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
/** The bound of every wait: a broken setup fails instead of hanging. */
const WAIT_MS = 60_000;

/** One alert of an Alertmanager webhook post. */
interface PostedAlert {
  status: string;
  labels: Record<string, string>;
}

/** Alertmanager's webhook posts, kept by a real receiver on loopback (test/helpers/webhook-receiver.ts). */
class AlertmanagerWebhook {
  private constructor(private readonly receiver: WebhookReceiver) {}

  static async start(): Promise<AlertmanagerWebhook> {
    return new AlertmanagerWebhook(await WebhookReceiver.start());
  }

  get url(): string {
    return this.receiver.url;
  }

  private alerts(): PostedAlert[] {
    return this.receiver.posts.flatMap((p) => {
      try {
        return (JSON.parse(p.body) as { alerts: PostedAlert[] }).alerts;
      } catch {
        return [];
      }
    });
  }

  /** Resolves when a post carries alert `alertname` of loop `workflowId` in `status`; rejects after WAIT_MS, listing what arrived and what `diagnose` says. */
  async waitFor(
    alertname: string,
    workflowId: string,
    status: 'firing' | 'resolved',
    diagnose: () => Promise<string>,
  ): Promise<PostedAlert> {
    const find = () =>
      this.alerts().find((a) => a.status === status && a.labels.alertname === alertname && a.labels.workflow_id === workflowId);
    try {
      await this.receiver.waitFor(() => find() !== undefined, `${status} ${alertname}`, WAIT_MS);
    } catch {
      const arrived = this.alerts().map((a) => `${a.labels.alertname ?? '?'} ${a.labels.workflow_id ?? '-'} ${a.status}`);
      const why = await diagnose().catch((err: unknown) => `(diagnosis failed: ${String(err)})`);
      throw new Error(`no ${status} ${alertname} for ${workflowId} within ${WAIT_MS} ms; the webhook got: [${arrived.join('; ')}]\n${why}`);
    }
    return find() ?? assert.fail('found, then gone');
  }

  /** The names of the alerts posted for loop `workflowId` so far, each once. */
  alertsOf(workflowId: string): string[] {
    return [
      ...new Set(
        this.alerts()
          .filter((a) => a.labels.workflow_id === workflowId)
          .map((a) => a.labels.alertname ?? '?'),
      ),
    ];
  }

  close(): Promise<void> {
    return this.receiver.close();
  }
}

let env: TestWorkflowEnvironment;
let failing: Simulator;
let healthy: Simulator;
let unprotected: Simulator;
let webhook: AlertmanagerWebhook;
let worker: Followed;
let prometheus: Followed;
let alertmanager: Followed;
let prometheusUrl = '';
let taskQueue = '';
const processes: Followed[] = [];
const dirs: string[] = [];

/** A process ended by its PID: SIGTERM, then SIGKILL if it is still there after 5 s. */
async function end(p: Followed): Promise<void> {
  const pid = p.child.pid;
  if (pid === undefined || p.child.exitCode !== null || p.child.signalCode !== null) return;
  process.kill(pid, 'SIGTERM');
  const killed = AbortSignal.timeout(5000);
  const exited = await Promise.race([p.exited.then(() => true), once(killed, 'abort').then(() => false)]);
  if (!exited) {
    process.kill(pid, 'SIGKILL');
    await p.exited;
  }
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

function started(p: Followed): Followed {
  processes.push(p);
  return p;
}

/** Polls `url` until it answers 200 (a ready endpoint), or the process ends, for at most WAIT_MS. */
async function ready(url: string, p: Followed, what: string): Promise<void> {
  await waitFor(
    async () => {
      if (p.child.exitCode !== null) throw new Error(`${what} exited ${p.child.exitCode}: ${p.stderr()}`);
      return (await fetch(url)).status;
    },
    (code) => code === 200,
    `${what} to be ready at ${url}`,
    WAIT_MS,
  );
}

/** What Prometheus holds, for a failure message: its alerts and the loop's gauges it scraped. */
async function prometheusSays(): Promise<string> {
  const get = async (path: string) => (await fetch(`${prometheusUrl}${path}`)).text();
  const alerts = await get('/api/v1/alerts');
  const gauges = await get(
    `/api/v1/query?query=${encodeURIComponent('{__name__=~"mtf_loop_state|mtf_loop_protection_alert|mtf_loop_updated_timestamp_seconds|mtf_loop_info|mtf:loop_freshest|mtf:loop_labels|up"}')}`,
  );
  return `Prometheus alerts: ${alerts}\nPrometheus series: ${gauges}\nAlertmanager stderr: ${alertmanager.stderr().slice(-2000)}\nPrometheus stderr: ${prometheus.stderr().slice(-2000)}`;
}

before(async () => {
  for (const binary of [PROMETHEUS, ALERTMANAGER]) {
    // npm test installs both first (scripts/prometheus.mjs): missing, the test fails, it never skips.
    assert.ok(
      existsSync(binary),
      `${binary} is missing: run \`node scripts/prometheus.mjs\` (npm test does) to install Debian's prometheus and prometheus-alertmanager`,
    );
  }
  [env, failing, healthy, unprotected, webhook] = await Promise.all([
    createDevServerEnv(),
    startSimulator({ behaviour: { fault: 'http500', fault_count: null } }),
    startSimulator(),
    // Every contract READY, its orders in turn submitted and left without their stop-loss.
    startSimulator({ behaviour: { answer: 'today', ready_share: 1, order_status: ['submitted', 'critical_unprotected_position'] } }),
    AlertmanagerWebhook.start(),
  ]);
  const [metricsPort, prometheusPort, alertmanagerPort] = await Promise.all([freePort(), freePort(), freePort()]);
  taskQueue = uniqueId('alerts-tq');
  worker = started(
    spawnNode(WORKER, [], {
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: env.namespace ?? 'default',
      TASK_QUEUE_NAME: taskQueue,
      METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      HEALTH_ADDRESS: 'off',
      MTF_URL: '',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
    }),
  );

  const amDir = tempDir('mtf-alertmanager-');
  writeFileSync(
    join(amDir, 'alertmanager.yml'),
    [
      'route:',
      '  receiver: test-webhook',
      "  group_by: ['alertname', 'workflow_id']",
      '  group_wait: 1s',
      '  group_interval: 1s',
      '  repeat_interval: 1h',
      'receivers:',
      '  - name: test-webhook',
      '    webhook_configs:',
      `      - url: ${webhook.url}`,
      '        send_resolved: true',
      '',
    ].join('\n'),
  );
  alertmanager = started(
    spawnFollowed(ALERTMANAGER, [
      `--config.file=${join(amDir, 'alertmanager.yml')}`,
      `--storage.path=${join(amDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${alertmanagerPort}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ]),
  );

  const promDir = tempDir('mtf-prometheus-');
  writeFileSync(
    join(promDir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      `  - ${JSON.stringify(RULES)}`,
      'alerting:',
      '  alertmanagers:',
      '    - static_configs:',
      `        - targets: ["127.0.0.1:${alertmanagerPort}"]`,
      'scrape_configs:',
      '  - job_name: mtf-ping-pong',
      '    static_configs:',
      `      - targets: ["127.0.0.1:${metricsPort}"]`,
      '',
    ].join('\n'),
  );
  prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
  prometheus = started(
    spawnFollowed(PROMETHEUS, [
      `--config.file=${join(promDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(promDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
      // A firing alert is sent again every second (not every minute), so a resolution reaches Alertmanager at once.
      '--rules.alert.resend-delay=1s',
      '--log.level=warn',
    ]),
  );

  await Promise.all([
    worker.waitForLine((l) => l.includes('"worker started"'), 'the worker to start', WAIT_MS),
    ready(`http://127.0.0.1:${alertmanagerPort}/-/ready`, alertmanager, 'Alertmanager'),
    ready(`${prometheusUrl}/-/ready`, prometheus, 'Prometheus'),
  ]);
});

after(async () => {
  await Promise.all(processes.map(end));
  await Promise.all([env?.teardown(), failing?.close(), healthy?.close(), unprotected?.close(), webhook?.close()]);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

void describe('the alert rules, fired through Prometheus and Alertmanager', () => {
  void test('a loop whose cycles fail fires MtfLoopFailing into the webhook, with its group; pointed at a healthy app with update_config, the alert resolves', async () => {
    const workflowId = uniqueId('failing-loop');
    await startLoop(env.client, {
      taskQueue,
      workflowId,
      config: { mtf_url: failing.runUrl, ping_interval: 0.2, max_attempts: 1, group: 'alerts-test' },
    });
    const fired = await webhook.waitFor('MtfLoopFailing', workflowId, 'firing', prometheusSays);
    assert.equal(fired.labels.severity, 'warning');
    assert.equal(fired.labels.job, 'mtf-ping-pong');
    assert.deepEqual([fired.labels.group, fired.labels.fleet], ['alerts-test', 'none'], 'the group joined from mtf_loop_info');
    const s = await loopStatus(env.client, workflowId);
    assert.ok(s.counters.consecutive_failures >= 3, `three failed cycles in a row: ${JSON.stringify(s.counters)}`);

    await updateLoop(env.client, workflowId, { mtf_url: healthy.runUrl });
    await webhook.waitFor('MtfLoopFailing', workflowId, 'resolved', prometheusSays);
    const after = await waitFor(
      () => loopStatus(env.client, workflowId),
      (st) => st.counters.consecutive_failures === 0,
      'a successful cycle',
    );
    assert.ok(after.counters.succeeded >= 1);
    assert.deepEqual(webhook.alertsOf(workflowId), ['MtfLoopFailing'], 'a dry-run loop that only failed fires nothing else');
    await env.client.workflow.getHandle(workflowId).terminate('test over');
  });

  void test('a live loop whose answer holds an unprotected position fires MtfProtectionAlert into the webhook', async () => {
    const workflowId = uniqueId('unprotected-loop');
    await startLoop(env.client, {
      taskQueue,
      workflowId,
      config: { mtf_url: unprotected.runUrl, symbols: ['AUSDT', 'BUSDT'], dry_run: false, confirm_live: true, ping_interval: 3600 },
    });
    const fired = await webhook.waitFor('MtfProtectionAlert', workflowId, 'firing', prometheusSays);
    assert.equal(fired.labels.severity, 'critical');
    assert.deepEqual([fired.labels.group, fired.labels.fleet], ['none', 'none'], 'a loop without labels');
    const s = await loopStatus(env.client, workflowId);
    assert.equal(s.config.dry_run, false);
    assert.equal(s.last_cycle?.protection_alert, true);
    assert.ok(!webhook.alertsOf(workflowId).includes('MtfLoopFailing'), 'a cycle that answered is no failing loop');
    await env.client.workflow.getHandle(workflowId).terminate('test over');
  });
});
