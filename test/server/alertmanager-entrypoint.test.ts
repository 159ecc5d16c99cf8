/**
 * deploy/alertmanager/entrypoint.sh: the Alertmanager configs it writes, checked with Debian's
 * amtool, and the Alertmanager it execs on them (installed by scripts/prometheus.mjs).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { shellcheckPath } from '../../src/toolchain/binaries';
import { freePort } from '../../harness/processes';
import { describeRun, waitFor, type Ran } from '../helpers/processes';
import { read, run, follow, type Obj, obj, arr, str } from '../helpers/deploy-files';

describe('deploy/alertmanager/entrypoint.sh', () => {
  const AMTOOL = '/usr/bin/amtool';
  const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
  // Installed by scripts/prometheus.mjs (Debian's prometheus-alertmanager) in `npm test`.
  const missing = [AMTOOL, ALERTMANAGER].filter((p) => !existsSync(p));
  const dir = mkdtempSync(join(tmpdir(), 'mtf-alertmanager-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const SLACK_URL = "https://hooks.slack.com/services/T000/B000/it's-a-test";
  const ROUTING_KEY = 'r0ut1ngk3y0000000000000000000000';
  /** The environment with no MTF_ALERT* of its own: each case sets its own. */
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^MTF_ALERT/.test(k)));

  let renders = 0;
  /** Runs the script's `--render-only` with `env`; the config it wrote, parsed, and its path. */
  async function render(env: Record<string, string>): Promise<{ ran: Ran; file: string; config: Obj | undefined }> {
    const file = join(dir, `alertmanager-${++renders}.yml`);
    const ran = await run('/bin/sh', ['deploy/alertmanager/entrypoint.sh', '--render-only'], {
      env: { ...clean, ...env, MTF_ALERTMANAGER_CONFIG: file },
    });
    return { ran, file, config: existsSync(file) ? obj(parseYaml(readFileSync(file, 'utf8')), file) : undefined };
  }

  /** The receivers amtool routes an alert with these labels to. */
  async function routed(file: string, labels: Record<string, string>): Promise<string[]> {
    const ran = await run(AMTOOL, [
      'config',
      'routes',
      'test',
      `--config.file=${file}`,
      ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
    ]);
    assert.equal(ran.code, 0, describeRun(ran));
    return ran.stdout.trim().split(',').sort();
  }

  /** A Slack title template rendered by amtool for a firing MtfLoopFailing notification whose alerts share `labels`. */
  async function slackTitle(template: string, labels: Record<string, string>): Promise<string> {
    const common = { alertname: 'MtfLoopFailing', severity: 'warning', ...labels };
    const data = join(dir, `data-${++renders}.json`);
    writeFileSync(
      data,
      JSON.stringify({
        receiver: 'slack',
        status: 'firing',
        alerts: [{ status: 'firing', labels: common, annotations: {} }],
        groupLabels: { alertname: common.alertname },
        commonLabels: common,
        commonAnnotations: {},
        externalURL: 'http://127.0.0.1:9093',
      }),
    );
    const ran = await run(AMTOOL, [
      'template',
      'render',
      `--template.glob=${join(dir, 'none-*.tmpl')}`,
      `--template.data=${data}`,
      `--template.text=${template}`,
    ]);
    assert.equal(ran.code, 0, describeRun(ran));
    return ran.stdout.trimEnd();
  }

  test('is POSIX sh, and shellcheck finds nothing', async () => {
    const text = read('deploy/alertmanager/entrypoint.sh');
    assert.match(text, /^#!\/bin\/sh\n/);
    assert.match(text, /^set -eu$/m);
    const ran = await run(shellcheckPath(), ['--shell=sh', '--severity=style', '--format=gcc', 'deploy/alertmanager/entrypoint.sh']);
    assert.equal(ran.code, 0, describeRun(ran));
    assert.equal(ran.stdout.trim(), '');
  });

  const cases: { name: string; env: Record<string, string>; critical: string[]; other: string[] }[] = [
    { name: 'no receiver: the UI only', env: {}, critical: ['ui-only'], other: ['ui-only'] },
    {
      name: 'Slack only: everything to Slack',
      env: { MTF_ALERT_SLACK_WEBHOOK_URL: SLACK_URL, MTF_ALERT_SLACK_CHANNEL: '#mtf-alerts' },
      critical: ['slack'],
      other: ['slack'],
    },
    {
      name: 'PagerDuty only: critical pages, the rest in the UI',
      env: { MTF_ALERT_PAGERDUTY_ROUTING_KEY: ROUTING_KEY },
      critical: ['pagerduty', 'ui-only'],
      other: ['ui-only'],
    },
    {
      name: 'both: critical pages and goes to Slack, the rest to Slack',
      env: { MTF_ALERT_SLACK_WEBHOOK_URL: SLACK_URL, MTF_ALERT_PAGERDUTY_ROUTING_KEY: ROUTING_KEY },
      critical: ['pagerduty', 'slack'],
      other: ['slack'],
    },
  ];
  for (const c of cases) {
    test(`writes a config amtool accepts and that routes by severity, ${c.name}`, async (t) => {
      if (missing.length > 0) {
        t.skip(`${missing.join(', ')} missing (scripts/prometheus.mjs installs Debian's prometheus-alertmanager)`);
        return;
      }
      const { ran, file, config } = await render(c.env);
      assert.equal(ran.code, 0, describeRun(ran));
      assert.equal(ran.stdout + ran.stderr, '', 'render-only writes the file and nothing else');
      assert.ok(config, 'a config was written');
      assert.equal(statSync(file).mode & 0o077, 0, 'the config, which holds the secrets, is readable by its owner only');
      const check = await run(AMTOOL, ['check-config', file]);
      assert.equal(check.code, 0, describeRun(check));

      const route = obj(config.route, 'route');
      assert.deepEqual(route.group_by, ['alertname', 'fleet', 'group'], 'warning and info: one notification per rule and group');
      const critical = arr(route.routes, 'routes').map((r) => obj(r, 'route'));
      for (const r of critical) {
        assert.deepEqual(r.matchers, ['severity="critical"']);
        assert.deepEqual(
          r.group_by,
          ['alertname', 'fleet', 'group', 'workflow_id'],
          `critical to ${String(r.receiver)}: one per rule and loop`,
        );
      }
      assert.deepEqual(await routed(file, { alertname: 'MtfWorkerDown', severity: 'critical' }), c.critical);
      for (const severity of ['warning', 'info'])
        assert.deepEqual(
          await routed(file, { alertname: 'MtfLoopFailing', workflow_id: 'mtf-ping-pong-loop', severity }),
          c.other,
          severity,
        );

      const receivers = Object.fromEntries(
        arr(config.receivers, 'receivers').map((r) => [str(obj(r, 'receiver').name, 'name'), obj(r, 'receiver')]),
      );
      assert.deepEqual(
        Object.keys(receivers).sort(),
        [...new Set([...c.critical, ...c.other])].sort(),
        'no receiver beyond those routed to',
      );
      if (receivers['ui-only']) assert.deepEqual(Object.keys(receivers['ui-only']), ['name'], 'ui-only sends nothing');
      if (receivers.slack) {
        const slack = obj(arr(receivers.slack.slack_configs, 'slack_configs')[0], 'slack config');
        assert.equal(slack.api_url, SLACK_URL, 'the webhook, a quote in it included');
        assert.equal(slack.send_resolved, true);
        assert.equal(slack.channel, c.env.MTF_ALERT_SLACK_CHANNEL, 'the channel only when set');
        assert.deepEqual(
          await Promise.all([
            slackTitle(str(slack.title, 'title'), { group: 'bitmart', fleet: 'bitmart-prod', workflow_id: 'bitmart-scalper' }),
            slackTitle(str(slack.title, 'title'), { group: 'none', fleet: 'none', workflow_id: 'by-hand' }),
            slackTitle(str(slack.title, 'title'), {}),
          ]),
          ['[FIRING] MtfLoopFailing [bitmart] bitmart-scalper', '[FIRING] MtfLoopFailing by-hand', '[FIRING] MtfLoopFailing'],
          'the title names the group where the loop has one (an alert about no loop has none)',
        );
      }
      if (receivers.pagerduty) {
        const pagerduty = obj(arr(receivers.pagerduty.pagerduty_configs, 'pagerduty_configs')[0], 'pagerduty config');
        assert.equal(pagerduty.routing_key, ROUTING_KEY);
        assert.equal(pagerduty.send_resolved, true);
      }
    });
  }

  test('a value with a line break: exit 2, no config written', async () => {
    const { ran, config } = await render({ MTF_ALERT_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/x\nroute: {}' });
    assert.equal(ran.code, 2, describeRun(ran));
    assert.match(ran.stderr, /line break/);
    assert.equal(config, undefined);
  });

  test("execs the Alertmanager it is given on the config it wrote, with the extra arguments: Debian's serves it on loopback", async (t) => {
    if (missing.length > 0) {
      t.skip(`${missing.join(', ')} missing (scripts/prometheus.mjs installs Debian's prometheus-alertmanager)`);
      return;
    }
    const port = await freePort();
    const file = join(dir, 'exec.yml');
    const storage = join(dir, 'storage');
    const env = {
      ...clean,
      MTF_ALERT_SLACK_WEBHOOK_URL: SLACK_URL,
      MTF_ALERTMANAGER_CONFIG: file,
      MTF_ALERTMANAGER_BIN: ALERTMANAGER,
      MTF_ALERTMANAGER_STORAGE: storage,
    };
    const am = follow(
      '/bin/sh',
      ['deploy/alertmanager/entrypoint.sh', `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='],
      env,
    );
    try {
      const status = await waitFor(
        () =>
          fetch(`http://127.0.0.1:${port}/api/v2/status`, { signal: AbortSignal.timeout(2_000) }).then(
            (r) => r.json() as Promise<{ config: { original: string } }>,
          ),
        (s) => typeof s.config?.original === 'string',
        'Alertmanager to answer',
        20_000,
      );
      const served = obj(parseYaml(status.config.original), 'the config Alertmanager serves');
      assert.equal(obj(served.route, 'route').receiver, 'slack', 'the config the script wrote');
      assert.doesNotMatch(status.config.original, /it's-a-test/, 'Alertmanager shows the webhook as a secret');
      assert.ok(existsSync(storage), 'the storage path given');
      const cmdline = readFileSync(`/proc/${am.child.pid}/cmdline`, 'utf8').split('\0');
      assert.equal(cmdline[0], ALERTMANAGER, 'exec: Alertmanager replaced the shell, so it gets SIGTERM itself');
      assert.ok(cmdline.includes(`--config.file=${file}`));
    } finally {
      am.child.kill('SIGTERM');
      const [code, signal] = await am.exited;
      assert.ok(code === 0 || signal === 'SIGTERM', `Alertmanager stops on SIGTERM (exit ${code ?? signal})\n${am.output()}`);
    }
  });
});
