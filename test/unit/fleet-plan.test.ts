/**
 * A fleet file read into each loop's whole config, and the plan against what runs: the pure part
 * of `apply` (src/fleet/), what `diff` shows and `apply` carries out.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseLoopConfig, type LoopConfig } from '../../src/shared/config';
import { FleetFileError, parseFleetFile } from '../../src/fleet/fleet-file';
import { needsConfirmLive, pendingSteps, planFleet, type Observed, type Step } from '../../src/fleet/plan';

const FILE = [
  'fleet: bitmart-prod',
  'defaults:',
  '  cadence: aligned',
  '  request_extra: { exchange: bitmart }',
  'loops:',
  '  - id: scalper',
  '    group: bitmart',
  '    align_every: 60',
  '    request_extra: { mtf_profile: scalper, exchange: bitmart }',
  '  - id: regular',
  '    align_every: 300',
].join('\n');

function problemsOf(text: string): string[] {
  try {
    parseFleetFile(text, 'f.yaml');
  } catch (err) {
    if (err instanceof FleetFileError) return err.problems;
    throw err;
  }
  return assert.fail('the file was accepted');
}

void describe('reading a fleet file', () => {
  void test("a loop's config is the defaults, then its own keys, then the file's fleet, every other key at its default", () => {
    const { fleet, loops } = parseFleetFile(FILE, 'f.yaml');
    assert.equal(fleet, 'bitmart-prod');
    assert.deepEqual(
      loops.map((l) => l.id),
      ['scalper', 'regular'],
    );
    const [scalper, regular] = loops.map((l) => l.config) as [LoopConfig, LoopConfig];
    assert.deepEqual(scalper, {
      ...parseLoopConfig({}),
      cadence: 'aligned',
      align_every: 60,
      request_extra: { mtf_profile: 'scalper', exchange: 'bitmart' },
      group: 'bitmart',
      fleet: 'bitmart-prod',
    });
    assert.deepEqual(regular.request_extra, { exchange: 'bitmart' }, 'a key the loop leaves out comes from defaults');
    assert.equal(regular.group, null);
  });

  void test('JSON reads as the same fleet', () => {
    const json = JSON.stringify({ fleet: 'bitmart-prod', loops: [{ id: 'scalper', ping_interval: 60 }] });
    assert.equal(parseFleetFile(json, 'f.json').loops[0]?.config.ping_interval, 60);
  });

  void test('every problem is a line naming the line, the loop and the key, in the order of the file', () => {
    const problems = problemsOf(
      [
        'fleet: bitmart-prod',
        'defaults:',
        '  ping_interval: 0', // 3
        '  colour: blue', // 4
        'loops:',
        '  - id: a',
        '    fleet: other', // 7
        '  - id: b',
        '    dry_run: false',
      ].join('\n'),
    );
    // The rules across keys (b's live run) are judged once every key is valid on its own.
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems[0] ?? '', /^f\.yaml:3: defaults: ping_interval: must be greater than 0 seconds$/);
    assert.match(problems[1] ?? '', /^f\.yaml:4: defaults: colour: unknown key \(known keys: mtf_url, /);
    assert.match(problems[2] ?? '', /^f\.yaml:7: loop a: fleet: unknown key \(a loop's fleet is the file's own fleet key\)/);
  });

  void test('a rule across keys blames the key where the loop or the defaults set it', () => {
    const problems = problemsOf(['fleet: f', 'defaults:', '  dry_run: false', 'loops:', '  - id: a', '  - id: b'].join('\n'));
    assert.deepEqual(
      problems.map((p) => p.replace(/^f\.yaml:3: loop [ab]: /, '')),
      [
        'dry_run: false means a live run that can place real orders; it needs confirm_live: true in the same config',
        'dry_run: false means a live run that can place real orders; it needs confirm_live: true in the same config',
      ],
    );
    assert.match(problems[0] ?? '', /^f\.yaml:3: loop a: /);
  });

  void test('a missing fleet, a loop twice, a bad label, broken YAML and an empty file are refused', () => {
    assert.match(problemsOf('loops: []')[0] ?? '', /fleet: must be 1-63 letters/);
    assert.match(problemsOf('fleet: f\nloops:\n  - id: a\n  - id: a')[0] ?? '', /loops: must not list a loop twice \(a\)/);
    assert.match(problemsOf('fleet: "x\' OR 1=1"\nloops: []')[0] ?? '', /^f\.yaml:1: fleet: must be 1-63 letters/);
    assert.match(problemsOf('fleet: f\nloops:\n  - id: a\n   group: [x')[0] ?? '', /^f\.yaml:4: not valid YAML or JSON/);
    assert.match(problemsOf('fleet: f\nfleet: g\nloops: []')[0] ?? '', /^f\.yaml:2: not valid YAML or JSON: Map keys must be unique/);
    assert.match(problemsOf('')[0] ?? '', /expected a fleet file/);
  });
});

void describe('the plan', () => {
  const file = parseFleetFile(FILE, 'f.yaml');
  const desired = (id: string) => file.loops.find((l) => l.id === id)?.config ?? assert.fail(id);
  const running = (config: LoopConfig, stopRequested = false): Observed => ({ state: 'running', config, stopRequested });
  const kinds = (steps: Step[]) => steps.map((s) => `${s.kind} ${s.id}`);

  void test('missing loops start, identical ones are left, a key written in another order is the same value', () => {
    const reordered = { ...desired('scalper'), request_extra: { exchange: 'bitmart', mtf_profile: 'scalper' } };
    const plan = planFleet(file, new Map([['scalper', running(reordered)]]), new Map());
    assert.deepEqual(kinds(plan.steps), ['unchanged scalper', 'start regular']);
    assert.equal(pendingSteps(plan, false).length, 1);
  });

  void test('a change is listed key by key, old → new, and its patch holds only those keys', () => {
    const current = { ...desired('regular'), align_every: 900, group: 'old' };
    const [step] = planFleet(file, new Map([['regular', running(current)]]), new Map()).steps.filter((s) => s.id === 'regular');
    assert.equal(step?.kind, 'change');
    if (step?.kind !== 'change') return;
    assert.deepEqual(step.changes, [
      { key: 'align_every', from: 900, to: 300 },
      { key: 'group', from: 'old', to: null },
    ]);
    assert.deepEqual(step.patch, { align_every: 300, group: null });
  });

  void test('a loop started by hand is adopted (its fleet set); a loop of another fleet is a conflict, never changed', () => {
    const byHand = planFleet(file, new Map([['regular', running({ ...desired('regular'), fleet: null })]]), new Map());
    const adopted = byHand.steps.find((s) => s.id === 'regular');
    assert.deepEqual(adopted?.kind === 'change' && adopted.changes, [{ key: 'fleet', from: null, to: 'bitmart-prod' }]);
    const other = planFleet(file, new Map([['regular', running({ ...desired('regular'), fleet: 'binance' })]]), new Map());
    assert.match(JSON.stringify(other.steps.find((s) => s.id === 'regular')), /"conflict".*belongs to fleet binance/);
  });

  void test('a loop of the fleet the file no longer lists is a stop, pending only with --prune; one already stopping is not', () => {
    const others = new Map<string, Observed>([
      ['dropped', running(desired('regular'))],
      ['going', running(desired('regular'), true)],
    ]);
    const plan = planFleet(file, new Map(), others);
    assert.deepEqual(kinds(plan.steps), ['start scalper', 'start regular', 'stop dropped', 'stop going']);
    assert.deepEqual(
      pendingSteps(plan, true).map((s) => s.id),
      ['scalper', 'regular', 'dropped'],
    );
    assert.deepEqual(
      pendingSteps(plan, false).map((s) => s.id),
      ['scalper', 'regular'],
    );
  });

  void test('starting or turning a loop live needs --confirm-live, and the patch carries the confirmations', () => {
    const live = parseFleetFile(
      'fleet: f\nloops:\n  - id: a\n    dry_run: false\n    confirm_live: true\n  - id: b\n    dry_run: false\n    confirm_live: true',
      'live.yaml',
    );
    const wasDry = { ...live.loops[1]!.config, dry_run: true, confirm_live: false };
    const plan = planFleet(live, new Map([['b', running(wasDry)]]), new Map());
    assert.deepEqual(plan.steps.map(needsConfirmLive), [true, true]);
    const turn = plan.steps[1];
    assert.deepEqual(turn?.kind === 'change' && turn.patch, { dry_run: false, confirm_live: true, confirm_all_symbols: false });
    const stays = planFleet(live, new Map([['b', running({ ...live.loops[1]!.config, ping_interval: 60 })]]), new Map());
    assert.equal(needsConfirmLive(stays.steps[1] as Step), false, 'a live loop that stays live needs no flag');
  });

  void test('a loop whose config cannot be read is a conflict, not a start', () => {
    const plan = planFleet(file, new Map<string, Observed>([['scalper', { state: 'unreadable', why: 'no worker' }]]), new Map());
    assert.match(JSON.stringify(plan.steps[0]), /"conflict".*could not be read: no worker/);
  });
});
