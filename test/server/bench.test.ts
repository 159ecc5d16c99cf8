/**
 * `npm run bench -- --quick` in `npm test`, so the harness never rots. It asserts what the bench
 * produced and the history cost of a quiet cycle, never a time: times belong to the machine.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { spawnNode } from '../../harness/processes';

const dir = mkdtempSync(join(tmpdir(), 'mtf-bench-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface ScheduleRun {
  design: string;
  loops: number;
  cycles: number;
  due: number;
  events: number[];
  actions: number[];
  schedulerEventsPerAction: number | null;
  latenessMs: { p50: number; p99: number; max: number };
  note?: string;
}

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
    schedule?: { step: { loops: number }; runs: ScheduleRun[] }[];
    errors: Record<string, string>;
  };
  table: { stage: string; figure: string; value: string }[];
}

test(
  'the quick bench runs every stage and finds ours == control == 11 events and 2 Actions per quiet cycle, the Schedule 4',
  { timeout: 150_000 },
  async (t) => {
    const out = join(dir, 'results.json');
    const bench = spawnNode(join(__dirname, '..', '..', 'bench', 'run.js'), ['--quick', '--out', out], {});
    const code = await bench.exited;
    assert.equal(code, 0, `the bench failed:\n${bench.stdout()}\n${bench.stderr()}`);
    const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
    for (const line of bench
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('|')))
      t.diagnostic(line);

    assert.equal(report.quick, true);
    assert.deepEqual(report.results.errors, {});
    assert.ok(report.machine.cores > 0 && report.machine.memory_gib > 0 && report.machine.node === process.version);
    assert.equal(report.versions.temporal_sdk, '1.24.0');
    assert.match(report.versions.temporal_cli, /\d+\.\d+\.\d+/);

    const quiet = (kind: string) => report.results.cost.find((r) => r.kind === kind && r.latencyMs === 0);
    for (const kind of ['ours auto', 'control']) {
      const row = quiet(kind);
      assert.ok(row && row.events.length >= 2, `${kind}: quiet cycles measured`);
      assert.deepEqual(
        row.events,
        row.events.map(() => 11),
        `${kind}: events per quiet cycle`,
      );
      assert.deepEqual(
        row.actions,
        row.actions.map(() => 2),
        `${kind}: Actions per quiet cycle`,
      );
    }
    for (const kind of ['ours signal', 'seed-shaped']) assert.ok((quiet(kind)?.events.length ?? 0) >= 2, `${kind}: quiet cycles measured`);

    assert.ok(
      (report.results.overhead?.cycles.ours ?? 0) > 0 && (report.results.overhead?.cycles.control ?? 0) > 0,
      'stage 2 measured cycles',
    );
    assert.ok((report.results.cpu?.ours?.cycles ?? 0) > 0 && (report.results.cpu?.control?.cycles ?? 0) > 0, 'stage 3 measured cycles');
    assert.ok((report.results.scale?.[0]?.steps.length ?? 0) >= 1, 'stage 4 took a step');
    assert.ok(report.results.startup, 'stage 5 ran');

    // Stage 6, every design side by side for a few beats: structure and history counts, no times.
    const runs = report.results.schedule?.[0]?.runs ?? [];
    assert.deepEqual(runs.map((r) => r.design).sort(), [
      'ours aligned',
      'ours aligned, spread',
      'ours interval',
      'schedule',
      'schedule cron',
    ]);
    for (const r of runs) {
      assert.equal(r.note, undefined, `${r.design} ran`);
      assert.ok(r.cycles > 0 && r.due > 0 && Number.isFinite(r.latenessMs.p99), `${r.design}: cycles and their lateness measured`);
      assert.ok(r.events.length > 0, `${r.design}: histories read`);
      if (r.design.startsWith('schedule')) {
        // The one-shot's whole history (start, one call, completion), and the Schedule's 2 "Schedule Start" Actions on top of its own 2.
        assert.deepEqual(
          r.events,
          r.events.map(() => 11),
          `${r.design}: events of each one-shot workflow`,
        );
        assert.deepEqual(
          r.actions,
          r.actions.map(() => 4),
          `${r.design}: Actions per cycle`,
        );
        assert.ok((r.schedulerEventsPerAction ?? 0) > 0, `${r.design}: the scheduler's own history read`);
      } else {
        assert.deepEqual(
          r.events,
          r.events.map(() => 11),
          `${r.design}: events per quiet cycle`,
        );
        assert.deepEqual(
          r.actions,
          r.actions.map(() => 2),
          `${r.design}: Actions per quiet cycle`,
        );
      }
    }
    for (const stage of ['1 ', '2 ', '3 ', '4 ', '5 ', '6 '])
      assert.ok(
        report.table.some((r) => r.stage.startsWith(stage)),
        `the table has stage ${stage.trim()}`,
      );
  },
);
