/**
 * `npm run bench -- --quick` in `npm test`, so the harness never rots. It asserts what the bench
 * produced and the history cost of a quiet cycle, never a time: times belong to the machine.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { spawnNode } from './helpers/processes';

const dir = mkdtempSync(join(tmpdir(), 'mtf-bench-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Report {
  quick: boolean;
  machine: { cores: number; memory_gib: number; node: string };
  versions: { node: string; temporal_sdk: string; temporal_cli: string };
  results: {
    cost: { kind: string; latencyMs: number; events: number[]; actions: number[] }[];
    overhead?: { cycles: Record<string, number> };
    cpu?: Record<string, { cycles: number }>;
    scale?: { intervalS: number; steps: { loops: number }[] }[];
    startup?: { npmStartToFirstCycleS: number };
    errors: Record<string, string>;
  };
  table: { stage: string; figure: string; value: string }[];
}

test('the quick bench runs every stage and finds ours == control == 11 events and 2 Actions per quiet cycle', { timeout: 150_000 }, async (t) => {
  const out = join(dir, 'results.json');
  const bench = spawnNode(join(__dirname, '..', 'bench', 'run.js'), ['--quick', '--out', out], {});
  const code = await bench.exited;
  assert.equal(code, 0, `the bench failed:\n${bench.stdout()}\n${bench.stderr()}`);
  const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
  for (const line of bench.stdout().split('\n').filter((l) => l.startsWith('|'))) t.diagnostic(line);

  assert.equal(report.quick, true);
  assert.deepEqual(report.results.errors, {});
  assert.ok(report.machine.cores > 0 && report.machine.memory_gib > 0 && report.machine.node === process.version);
  assert.equal(report.versions.temporal_sdk, '1.24.0');
  assert.match(report.versions.temporal_cli, /\d+\.\d+\.\d+/);

  const quiet = (kind: string) => report.results.cost.find((r) => r.kind === kind && r.latencyMs === 0);
  for (const kind of ['ours auto', 'control']) {
    const row = quiet(kind);
    assert.ok(row && row.events.length >= 2, `${kind}: quiet cycles measured`);
    assert.deepEqual(row.events, row.events.map(() => 11), `${kind}: events per quiet cycle`);
    assert.deepEqual(row.actions, row.actions.map(() => 2), `${kind}: Actions per quiet cycle`);
  }
  for (const kind of ['ours signal', 'seed-shaped']) assert.ok((quiet(kind)?.events.length ?? 0) >= 2, `${kind}: quiet cycles measured`);

  assert.ok((report.results.overhead?.cycles.ours ?? 0) > 0 && (report.results.overhead?.cycles.control ?? 0) > 0, 'stage 2 measured cycles');
  assert.ok((report.results.cpu?.ours?.cycles ?? 0) > 0 && (report.results.cpu?.control?.cycles ?? 0) > 0, 'stage 3 measured cycles');
  assert.ok((report.results.scale?.[0]?.steps.length ?? 0) >= 1, 'stage 4 took a step');
  assert.ok(report.results.startup, 'stage 5 ran');
  for (const stage of ['1 ', '2 ', '3 ', '4 ', '5 ']) assert.ok(report.table.some((r) => r.stage.startsWith(stage)), `the table has stage ${stage.trim()}`);
});
