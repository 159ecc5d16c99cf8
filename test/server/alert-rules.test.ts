/**
 * The alert rules as Prometheus reads them: Debian's promtool (installed by scripts/prometheus.mjs)
 * checks the config and the rules under deploy/prometheus/ and runs their unit tests
 * (alerts.test.yml: every rule firing and not firing, stale workers, stopped and paused loops, the
 * fleet and group every alert about a loop carries).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { METRICS } from '../../src/shared/metrics';
import { projectRoot } from '../../src/toolchain/binaries';
import { describeRun, runToEnd } from '../helpers/processes';

const PROMTOOL = '/usr/bin/promtool';
const DIR = join(projectRoot(), 'deploy', 'prometheus');
const RULES = readFileSync(join(DIR, 'alerts.yml'), 'utf8');
const TESTS = readFileSync(join(DIR, 'alerts.test.yml'), 'utf8');

async function promtool(...args: string[]) {
  assert.ok(existsSync(PROMTOOL), `${PROMTOOL} is missing: npm test installs Debian's prometheus (node scripts/prometheus.mjs)`);
  const ran = await runToEnd(PROMTOOL, args, { cwd: DIR, timeoutMs: 60_000 });
  assert.equal(ran.code, 0, describeRun(ran, `promtool ${args.join(' ')}`));
  return ran;
}

const alertNames = [...RULES.matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1] ?? '');
const recordNames = [...RULES.matchAll(/^\s+- record: ([\w:]+)$/gm)].map((m) => m[1] ?? '');
/** The join that gives an alert about a loop its fleet and group (the recording rule mtf:loop_labels). */
const LABELS_JOIN = '* on (workflow_id) group_left (fleet, group) mtf:loop_labels';

describe('the alert rules under promtool', () => {
  test('promtool check config and check rules accept everything under deploy/prometheus/', async () => {
    const config = await promtool('check', 'config', 'prometheus.yml');
    assert.match(config.stdout, /SUCCESS: 1 rule files found/, 'the config loads alerts.yml');
    const rules = await promtool('check', 'rules', 'alerts.yml');
    assert.match(
      rules.stdout,
      new RegExp(`SUCCESS: ${alertNames.length + recordNames.length} rules found`),
      'the alerts and the recording rules',
    );
    assert.deepEqual(recordNames, ['mtf:loop_freshest', 'mtf:loop_labels'], 'the freshest worker, then the labels it shows');
  });

  test('promtool test rules: every rule fires and stays quiet as its unit tests say', async () => {
    const ran = await promtool('test', 'rules', 'alerts.test.yml');
    assert.match(ran.stdout, /SUCCESS/);
  });

  test('every alert has unit tests where it fires and where it does not', () => {
    assert.deepEqual(alertNames, [
      'MtfProtectionAlert',
      'MtfLoopFailing',
      'MtfLoopStalled',
      'MtfWorkerDown',
      'MtfWorkerAbsent',
      'MtfSkippedByApp',
      'MtfLiveOrdersSubmitted',
    ]);
    for (const name of alertNames) {
      const cases = TESTS.split(/\n(?=\s+- (?:\{ )?eval_time)/).filter((block) => new RegExp(`alertname: ${name}\\b`).test(block));
      assert.ok(
        cases.some((c) => /exp_alerts: \[\]/.test(c)),
        `${name} has a case where it does not fire`,
      );
      assert.ok(
        cases.some((c) => /exp_labels:/.test(c)),
        `${name} has a case where it fires`,
      );
    }
    assert.match(TESTS, /stale/, 'and the stale-worker cases are there');
  });

  test('every alert about a loop joins its fleet and group, as its last step', () => {
    const rules = (parseYaml(RULES) as { groups: { rules: { alert?: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules);
    const perLoop = rules.filter((r) => r.alert !== undefined && /\bmtf_loop_/.test(r.expr));
    assert.deepEqual(
      perLoop.map((r) => r.alert),
      alertNames.filter((name) => !name.startsWith('MtfWorker')),
      'the worker alerts are about no loop',
    );
    for (const rule of perLoop) {
      const expr = rule.expr.replace(/\s+/g, ' ').trim();
      assert.ok(expr.startsWith('(') && expr.endsWith(`) ${LABELS_JOIN}`), `${rule.alert ?? ''}: (…) ${LABELS_JOIN}\n${expr}`);
    }
  });

  test('the rules read only metrics the service exports (a renamed metric must rename its rule)', () => {
    const exported = new Set(Object.values(METRICS) as string[]);
    const read = new Set([...RULES.matchAll(/\b(mtf_[a-z_]+)\b/g)].map((m) => m[1] ?? ''));
    assert.ok(read.size >= 7);
    for (const name of read) assert.ok(exported.has(name.replace(/_total$/, '')), `${name} is a metric of src/shared/metrics.ts`);
  });
});
