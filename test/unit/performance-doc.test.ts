/**
 * Issue 33: the figures in docs/performance.md are regenerated, never edited. The timings reporter
 * (scripts/test-timings.mjs) is run for real, beside the TAP, on a tiny `node --test` run of fixture
 * files; then scripts/performance-doc.mjs is run for real on a copy of a document with fixture
 * results: it rewrites only what is between a section's markers, refuses a missing or doubled
 * marker and a quick bench, and lists the ten slowest test files, slowest first.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';

/** The project's root: the first folder up from here with a package.json (this file may move deeper). */
function projectRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${__dirname}`);
  }
}

const ROOT = projectRoot();
const REPORTER = join(ROOT, 'scripts', 'test-timings.mjs');
const DOC_SCRIPT = join(ROOT, 'scripts', 'performance-doc.mjs');
const SECTIONS = ['bench', 'soak', 'ci', 'cluster', 'image', 'chaos', 'campaign'];
const work = mkdtempSync(join(tmpdir(), 'mtf-performance-doc-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A child `node`, outside this test run: node:test marks its children with NODE_TEST_CONTEXT, and a nested `node --test` would then report to us. */
function node(args: string[], cwd: string): SpawnSyncReturns<string> {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const ran = spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8', timeout: 60_000 });
  if (ran.error) throw ran.error;
  return ran;
}

interface TimedTest {
  name: string;
  duration_ms: number;
  status: string;
  subtests: TimedTest[];
}
interface TimedFile {
  file: string;
  wall_ms: number | null;
  duration_ms: number;
  tests: number;
  pass: number;
  fail: number;
  top: TimedTest[];
}
interface Timings {
  duration_ms: number | null;
  files: TimedFile[];
}

void describe('the timings reporter, beside the TAP', () => {
  const dir = join(work, 'run');
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'one.test.mjs'),
    [
      "import { describe, test } from 'node:test';",
      "test('one a', () => {});",
      "test('one b', () => {});",
      "describe('one suite', () => { test('inner 1', () => {}); test('inner 2', () => {}); });",
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'two.test.mjs'),
    [
      "import assert from 'node:assert/strict';",
      "import { test } from 'node:test';",
      "test('two passes', async (t) => { await t.test('two sub', () => {}); });",
      "test('two fails', () => { assert.equal(1, 2); });",
    ].join('\n'),
  );
  let tapOnly: SpawnSyncReturns<string>;
  let both: SpawnSyncReturns<string>;
  before(() => {
    tapOnly = node(
      ['--test', '--test-concurrency=2', '--test-reporter=tap', '--test-reporter-destination=stdout', 'one.test.mjs', 'two.test.mjs'],
      dir,
    );
    mkdirSync(join(dir, 'timings'));
    both = node(
      [
        '--test',
        '--test-concurrency=2',
        '--test-reporter=tap',
        '--test-reporter-destination=stdout',
        `--test-reporter=${REPORTER}`,
        '--test-reporter-destination=timings/suite.json',
        'one.test.mjs',
        'two.test.mjs',
      ],
      dir,
    );
  });

  test('a failing test still fails the run, and the TAP summary is the same as without the reporter', () => {
    assert.equal(tapOnly.status, 1, tapOnly.stdout + tapOnly.stderr);
    assert.equal(both.status, 1, both.stdout + both.stderr);
    const summary = (tap: string) =>
      tap
        .split('\n')
        .filter((line) => /^# (tests|suites|pass|fail|cancelled|skipped|todo) /.test(line))
        .join('\n');
    assert.match(summary(both.stdout), /# tests 7\n# suites 1\n# pass 6\n# fail 1/);
    assert.equal(summary(both.stdout), summary(tapOnly.stdout));
  });

  test('each file: its top-level tests, counted, their times summed, their subtests under them', () => {
    const timings = JSON.parse(readFileSync(join(dir, 'timings', 'suite.json'), 'utf8')) as Timings;
    assert.equal(typeof timings.duration_ms, 'number');
    const byName = new Map(timings.files.map((f) => [f.file, f]));
    assert.deepEqual([...byName.keys()].sort(), ['one.test.mjs', 'two.test.mjs']);
    const one = byName.get('one.test.mjs')!;
    const two = byName.get('two.test.mjs')!;
    assert.deepEqual([one.tests, one.pass, one.fail], [3, 3, 0]);
    assert.deepEqual([two.tests, two.pass, two.fail], [2, 1, 1]);
    assert.deepEqual(
      one.top.map((t) => [t.name, t.subtests.map((s) => s.name)]),
      [
        ['one a', []],
        ['one b', []],
        ['one suite', ['inner 1', 'inner 2']],
      ],
    );
    assert.deepEqual(
      two.top.map((t) => [t.name, t.status, t.subtests.map((s) => s.name)]),
      [
        ['two passes', 'pass', ['two sub']],
        ['two fails', 'fail', []],
      ],
    );
    for (const file of [one, two]) {
      assert.ok(typeof file.wall_ms === 'number' && file.wall_ms >= 0, `${file.file}'s wall time`);
      const tests = file.top.flatMap((t) => [t, ...t.subtests]);
      for (const t of tests) assert.ok(typeof t.duration_ms === 'number' && t.duration_ms >= 0, `${t.name}'s duration`);
      const sum = file.top.reduce((n, t) => n + t.duration_ms, 0);
      assert.ok(Math.abs(file.duration_ms - sum) < 0.01, `${file.file}: ${file.duration_ms} is the sum of its top-level tests, ${sum}`);
    }
  });
});

void describe('performance-doc.mjs', () => {
  const dir = join(work, 'doc');
  const timingsDir = join(dir, 'timings');
  mkdirSync(timingsDir, { recursive: true });
  const docPath = join(dir, 'performance.md');
  const prose = (name: string) => `Some prose before ${name}, with a | pipe and \`code\`.\n\n`;
  const original =
    '# Performance\n\nHand-written introduction.\n\n' +
    SECTIONS.map(
      (name) => `## ${name}\n\n${prose(name)}<!-- BEGIN GENERATED: ${name} -->\nold ${name} figures\n<!-- END GENERATED: ${name} -->\n\n`,
    ).join('') +
    'A closing line without a newline at the end';

  const benchResults = (quick: boolean) => ({
    date: '2026-12-02T14:54:45.652Z',
    quick,
    duration_s: 2000.8,
    machine: { cores: 2, cpu: 'Test CPU', memory_gib: 23.5, platform: 'linux x64', node: 'v20.20.2' },
    versions: { node: 'v20.20.2', temporal_sdk: '1.24.0', temporal_cli: 'temporal version 1.9.1' },
    table: [
      { stage: '1 history', figure: 'events per cycle', value: '11', target: '11', met: true },
      { stage: '2 overhead', figure: 'ratio', value: '1.08x', target: '', met: null },
    ],
  });
  writeFileSync(join(dir, 'bench.json'), JSON.stringify(benchResults(false)));
  writeFileSync(join(dir, 'bench-quick.json'), JSON.stringify(benchResults(true)));
  writeFileSync(
    join(dir, 'bench-failed.json'),
    JSON.stringify({ ...benchResults(false), results: { errors: { '4 scale': 'the worker died' } } }),
  );
  writeFileSync(
    join(dir, 'soak.json'),
    JSON.stringify({
      finished_at: '2026-12-03T10:00:00.000Z',
      full: true,
      machine: { cores: 2, cpu: 'Test CPU', node: 'v20.20.2' },
      table_markdown: '| figure | value |\n| --- | --- |\n| cycles | 5,000 |',
    }),
  );
  // 12 files in `npm test`, one in the cluster's: their times out of order, so the list must sort them.
  const file = (name: string, ms: number, top: TimedTest[] = []): TimedFile => ({
    file: `dist/test/${name}.test.js`,
    wall_ms: ms,
    duration_ms: ms / 2,
    tests: Math.max(1, top.length),
    pass: Math.max(1, top.length),
    fail: 0,
    top,
  });
  const unitMs = [5_000, 120_000, 800, 61_000, 7_500, 33_000, 2_000, 90_000, 15_000, 45_000, 1_200, 70_000];
  writeFileSync(
    join(timingsDir, 'test.json'),
    JSON.stringify({
      finished_at: '2026-12-04T09:00:00.000Z',
      duration_ms: 400_000,
      machine: { cores: 2, cpu: 'Test CPU', node: 'v20.20.2' },
      files: unitMs.map((ms, i) => file(`unit-${i}`, ms)),
    }),
  );
  const fault = (name: string, ms: number): TimedTest => ({ name, duration_ms: ms, status: 'pass', subtests: [] });
  writeFileSync(
    join(timingsDir, 'cluster.json'),
    JSON.stringify({
      finished_at: '2026-12-04T09:20:00.000Z',
      duration_ms: 300_000,
      machine: { cores: 2, cpu: 'Test CPU', node: 'v20.20.2' },
      files: [
        file('cluster/faults', 100_000, [
          {
            name: 'faults',
            duration_ms: 99_000,
            status: 'pass',
            subtests: [fault('SIGKILL history', 20_000), fault('PostgreSQL | crashed', 40_000)],
          },
        ]),
      ],
    }),
  );

  // The faults test's own figures: a fault with a service down, and one (a worker killed) without.
  const figuresPath = join(dir, 'cluster-faults.json');
  writeFileSync(
    figuresPath,
    JSON.stringify({
      finished_at: '2026-12-04T09:20:00.000Z',
      figures: [
        {
          fault: 'SIGKILL of the history service',
          iteration: 3,
          downMs: 600,
          waitedMs: 2_100,
          counted: 5,
          appIterations: 5,
          appRequests: 5,
        },
        { fault: 'the worker killed', iteration: 9, downMs: 0, waitedMs: 11_400, counted: 11, appIterations: 11, appRequests: 12 },
      ],
    }),
  );
  // The image suite, counted apart: its slow file must stay out of the ci section's tables and list.
  writeFileSync(
    join(timingsDir, 'image.json'),
    JSON.stringify({
      finished_at: '2026-12-04T09:30:00.000Z',
      duration_ms: 200_000,
      machine: { cores: 2, cpu: 'Test CPU', node: 'v20.20.2' },
      files: [file('image/image', 500_000, [fault('docker build .', 40_000)])],
    }),
  );
  writeFileSync(
    join(timingsDir, 'chaos.json'),
    JSON.stringify({
      finished_at: '2026-12-04T09:25:00.000Z',
      duration_ms: 190_000,
      machine: { cores: 2, cpu: 'Test CPU', node: 'v20.20.2' },
      files: [file('chaos/campaign', 600_000, [fault('a campaign', 189_000)])],
    }),
  );
  const imageFiguresPath = join(dir, 'image-figures.json');
  writeFileSync(
    imageFiguresPath,
    JSON.stringify({
      engine_version: '20.10.24+dfsg1',
      build_seconds: 33.4,
      base_bytes: 225_947_861,
      image_bytes: 335_970_000,
      layers: [
        { bytes: 0, created_by: 'CMD ["worker"]' },
        { bytes: 102_400_000, created_by: 'RUN npm ci --omit=dev | trimmed' },
        { bytes: 225_947_861, created_by: '(the base)' },
      ],
    }),
  );
  // A chaos report (test/chaos/campaign.ts's CampaignReport), with one violation to list.
  const chaosReport = (seed: number, violations: unknown[]) => ({
    seed,
    minutes: 2,
    faults: [{ step: 1, kind: 'kill', target: 'w1', detail: 'SIGKILL', from: 0, to: 1 }],
    faultsByKind: { kill: 9, stall: 2, postgres: 1, link: 4, answer: 5 },
    cycles: 240,
    requests: 245,
    resends: { 'answer not whole': 3, 'worker restart': 1, 'other worker': 1 },
    liveRecordedFailedAfterAnswer: 2,
    dryRunsExecutedTwice: 4,
    recovery: { medianMs: 600, maxMs: 6_900 },
    loops: [{ id: 'chaos-dry-1', execution: 'RUNNING', recoveredMs: 2_800, cycles: 60 }],
    violations,
  });
  const chaosPath = join(dir, 'chaos.json');
  writeFileSync(chaosPath, JSON.stringify(chaosReport(35, [])));
  const campaignPath = join(dir, 'campaign.json');
  writeFileSync(
    campaignPath,
    JSON.stringify(
      chaosReport(36, [{ guarantee: 3, seed: 36, loop: 'chaos-live', iteration: 64, message: 'iteration 64 | not recorded' }]),
    ),
  );
  const run = (...args: string[]) =>
    node(
      [
        DOC_SCRIPT,
        '--doc',
        docPath,
        '--timings-dir',
        timingsDir,
        '--cluster-figures',
        figuresPath,
        '--image-figures',
        imageFiguresPath,
        '--chaos-report',
        chaosPath,
        '--campaign-report',
        campaignPath,
        ...args,
      ],
      dir,
    );
  const reset = (text = original) => writeFileSync(docPath, text);
  /** The document with every section's generated lines taken out: the prose, which no run may touch. */
  const proseOf = (text: string) => text.replace(/(<!-- BEGIN GENERATED: (\w+) -->\n)[\s\S]*?(<!-- END GENERATED: \2 -->)/g, '$1$3');
  const sectionOf = (text: string, name: string) =>
    new RegExp(`<!-- BEGIN GENERATED: ${name} -->\\n([\\s\\S]*?)<!-- END GENERATED: ${name} -->`).exec(text)?.[1] ??
    assert.fail(`no ${name}`);

  test('regenerates only the sections asked for, between their markers; the prose is byte for byte the same, and a rerun changes nothing', () => {
    reset();
    const ran = run(
      'bench',
      'soak',
      'ci',
      'cluster',
      'image',
      'chaos',
      'campaign',
      '--bench-results',
      join(dir, 'bench.json'),
      '--soak-results',
      join(dir, 'soak.json'),
      '--ci-seconds',
      '1500',
      '--ci-step',
      'npm ci=40',
      '--ci-step',
      'npm test=900',
      '--ci-step',
      'npm run test:cluster=560',
      '--ci-step',
      'npm run test:image=300',
    );
    assert.equal(ran.status, 0, ran.stderr);
    const text = readFileSync(docPath, 'utf8');
    assert.equal(proseOf(text), proseOf(original));
    for (const name of SECTIONS) assert.doesNotMatch(sectionOf(text, name), new RegExp(`old ${name} figures`));
    assert.match(sectionOf(text, 'bench'), /\| 1 history \| events per cycle \| 11 \| 11 \| yes \|/);
    assert.match(sectionOf(text, 'bench'), /Full run of 2026-12-02 14:54 UTC: 2,001 s .*Temporal SDK 1\.24\.0, temporal version 1\.9\.1/);
    assert.match(sectionOf(text, 'soak'), /\| cycles \| 5,000 \|/);
    assert.match(
      sectionOf(text, 'ci'),
      /1,500 s \(25 min 0 s\) in all: npm ci 40 s, npm test 900 s \(15 min 0 s\), npm run test:cluster 560 s \(9 min 20 s\), npm run test:image 300 s \(5 min 0 s\) \(counted apart\)\./,
    );
    assert.doesNotMatch(
      sectionOf(text, 'ci'),
      /\| npm run test:image \||test\/image\/|test\/chaos\//,
      'the image and chaos suites are counted apart: not in the tables',
    );
    assert.match(sectionOf(text, 'ci'), /Of the second step, npm run test:cluster's chaos run took 190\.0 s \(counted apart\)\./);
    assert.match(
      sectionOf(text, 'image'),
      /Docker Engine 20\.10\.24\+dfsg1: `node --test` 200\.0 s .*\n\n`docker build \.` with no layer cached: 33 s\. The image: 336\.0 MB, of which the base 225\.9 MB and this Dockerfile's layers 110\.0 MB \(goal: at most 150\.0 MB, met\)/,
    );
    assert.match(sectionOf(text, 'image'), /\| 102\.4 MB \| `RUN npm ci --omit=dev \\\| trimmed` \|\n\| 225\.9 MB \| `\(the base\)` \|/);
    assert.doesNotMatch(sectionOf(text, 'image'), /CMD/, 'layers without a size are left out');
    assert.match(sectionOf(text, 'image'), /\| docker build \. \| 40\.0 s \| pass \|/);
    assert.match(
      sectionOf(text, 'chaos'),
      /\| seed, nemesis time \| 35, 2 min \|\n\| faults injected \| 1 \(kill 9, stall 2, postgres 1, link 4, answer 5\) \|/,
    );
    assert.match(sectionOf(text, 'chaos'), /\| re-sends allowed, by cause \| answer not whole 3, worker restart 1, other worker 1 \|/);
    assert.match(
      sectionOf(text, 'chaos'),
      /\| recovery after a fault \(the next call reached the app\), median \/ max \| 0\.6 s \/ 6\.9 s \|/,
    );
    assert.match(sectionOf(text, 'chaos'), /\| violations \| 0 \|/);
    assert.doesNotMatch(sectionOf(text, 'chaos'), /\| guarantee \|/, 'no violation table when there is none');
    assert.match(sectionOf(text, 'campaign'), /\| 3 \| chaos-live \| 64 \| iteration 64 \\\| not recorded \|/);
    assert.match(sectionOf(text, 'cluster'), /\| PostgreSQL \\\| crashed \| 40\.0 s \| pass \|\n\| SIGKILL history \| 20\.0 s \| pass \|/);
    assert.match(
      sectionOf(text, 'cluster'),
      /\| SIGKILL of the history service \| 3 \| 0\.6 s \| 2\.1 s \| 5 \/ 5 \/ 5 \|\n\| the worker killed \| 9 \| – \| 11\.4 s \| 11 \/ 11 \/ 12 \|/,
    );

    // The ci section's list: the ten slowest of all suites' files, slowest first.
    const listed = [...sectionOf(text, 'ci').matchAll(/^\| (\d+) \| `([^`]+)` \| [^|]+ \| ([\d,.]+) s \|/gm)];
    const expected = [
      ...unitMs.map((ms, i) => ({ file: `test/unit-${i}.test.ts`, ms })),
      { file: 'test/cluster/faults.test.ts', ms: 100_000 },
    ]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 10);
    assert.deepEqual(
      listed.map((m) => [Number(m[1]), m[2], Number(m[3]!.replace(/,/g, '')) * 1000]),
      expected.map((e, i) => [i + 1, e.file, e.ms]),
    );

    const again = run('bench', '--bench-results', join(dir, 'bench.json'));
    assert.equal(again.status, 0, again.stderr);
    assert.equal(readFileSync(docPath, 'utf8'), text);
  });

  test('leaves the sections not asked for as they were', () => {
    reset();
    assert.equal(run('bench', '--bench-results', join(dir, 'bench.json')).status, 0);
    const text = readFileSync(docPath, 'utf8');
    for (const name of ['soak', 'ci', 'cluster', 'image']) assert.equal(sectionOf(text, name), `old ${name} figures\n`);
  });

  test('--print-slowest prints the ten slowest test files, slowest first, and the CI total', () => {
    reset();
    const ran = run('--print-slowest', '--ci-seconds', '1500', '--ci-step', 'npm test=900');
    assert.equal(ran.status, 0, ran.stderr);
    const lines = ran.stdout.split('\n').filter((line) => /^\s*\d+\.\s/.test(line));
    assert.equal(lines.length, 10);
    const seconds = lines.map((line) => Number(/^\s*\d+\.\s+([\d,.]+) s/.exec(line)![1]!.replace(/,/g, '')));
    assert.deepEqual(
      seconds,
      [...seconds].sort((a, b) => b - a),
    );
    assert.equal(seconds[0], 120);
    assert.match(lines[1]!, / test\/cluster\/faults\.test\.ts\s+\(npm run test:cluster, 1 test\)$/);
    assert.match(ran.stdout, /CI total: 1,500 s \(25 min 0 s\) in all: npm test 900 s/);
    assert.equal(readFileSync(docPath, 'utf8'), original, 'printing writes nothing');
  });

  for (const [what, broken, message] of [
    ['missing', original.replace('<!-- END GENERATED: ci -->\n', ''), /missing marker <!-- END GENERATED: ci -->/],
    [
      'doubled',
      original.replace('<!-- BEGIN GENERATED: ci -->\n', '<!-- BEGIN GENERATED: ci -->\n<!-- BEGIN GENERATED: ci -->\n'),
      /marker <!-- BEGIN GENERATED: ci --> appears 2 times/,
    ],
  ] as const) {
    test(`a ${what} marker: one clear error naming the file and the marker, exit 1, and the file untouched`, () => {
      reset(broken);
      const ran = run('bench', 'ci', '--bench-results', join(dir, 'bench.json'), '--ci-seconds', '10');
      assert.equal(ran.status, 1);
      const errors = ran.stderr.trim().split('\n');
      assert.equal(errors.length, 1, ran.stderr);
      assert.match(errors[0]!, /^performance-doc: .*performance\.md: /);
      assert.match(errors[0]!, message);
      assert.equal(readFileSync(docPath, 'utf8'), broken, 'not even the bench section, which could be made, is written');
    });
  }

  test("a quick bench run's results are refused: exit 1, the file untouched", () => {
    reset();
    const ran = run('bench', '--bench-results', join(dir, 'bench-quick.json'));
    assert.equal(ran.status, 1);
    assert.match(ran.stderr, /^performance-doc: .*bench-quick\.json is from a quick bench run/);
    assert.equal(readFileSync(docPath, 'utf8'), original);
  });

  test("a bench run with a failed stage is refused: its table lacks the stage's rows; exit 1, the file untouched", () => {
    reset();
    const ran = run('bench', '--bench-results', join(dir, 'bench-failed.json'));
    assert.equal(ran.status, 1);
    assert.match(ran.stderr, /^performance-doc: .*bench-failed\.json is from a bench run whose stages 4 scale failed/);
    assert.equal(readFileSync(docPath, 'utf8'), original);
  });
});
