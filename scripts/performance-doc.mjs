#!/usr/bin/env node
// Regenerates the figures in docs/performance.md from the runs that measured them (issue 33): a new
// figure is a regenerated file, never a hand edit. The document's prose is written by hand; each block
// of figures sits between two marker lines, each on a line of its own,
//
//   <!-- BEGIN GENERATED: bench -->
//   ...
//   <!-- END GENERATED: bench -->
//
// and only what is between them is rewritten. A marker missing, doubled or out of order is an error
// naming the file and the marker, and the file is left as it was (nothing is written unless every
// section asked for could be made).
//
//   node scripts/performance-doc.mjs [bench] [soak] [ci] [cluster] [image] [--print-slowest]
//     [--ci-seconds N] [--ci-step 'npm test=N']... [--doc docs/performance.md]
//     [--bench-results bench/results.json] [--soak-results soak-results.json] [--timings-dir dist/test-timings]
//     [--cluster-figures dist/test-figures/cluster-faults.json] [--image-figures dist/test-figures/image.json]
//     [--chaos-report dist/test-figures/chaos.json] [--campaign-report dist/test-figures/chaos-campaign.json]
//
// Sections and what they are made from:
//   bench    bench/results.json, written by a full `npm run bench` (which runs this itself); a quick
//            run's results are refused.
//   soak     soak-results.json, written by `npm run soak` (which runs this itself after a soak with the
//            default options); the table is the soak's own (formatSoak, in test/soak/soak.ts).
//   ci       dist/test-timings/*.json (written by scripts/test-timings.mjs, the reporter in `npm test`
//            and `npm run test:cluster`) and .ci/run's own times: --ci-seconds (required) and --ci-step.
//            The image suite is counted apart (its own section): it is not in this one's tables.
//   cluster  dist/test-timings/cluster.json: test:cluster's wall time and each of its tests; and, when
//            the faults test wrote them (dist/test-figures/cluster-faults.json), each fault's figures.
//   image    dist/test-figures/image.json, written by test/image/image.test.ts (the build's time, the
//            engine's version, the image's size and each layer's), and dist/test-timings/image.json.
//   chaos    dist/test-figures/chaos.json, the report of test:cluster's short chaos run
//            (test/chaos/campaign.test.ts).
//   campaign dist/test-figures/chaos-campaign.json, the report `npm run chaos` writes (the long run).
// --print-slowest prints the ten slowest test files (and the CI total, given --ci-seconds) to stdout:
// .ci/run does, after the tests. Paths given as flags are taken from the current directory; the
// defaults are in the project's root (this script's folder's parent). No dependencies.
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SECTIONS = ['bench', 'soak', 'ci', 'cluster', 'image', 'chaos', 'campaign'];
/** The timing files' names (scripts/test-timings.mjs's destinations in package.json) and the npm scripts that write them. */
const SUITES = {
  test: 'npm test',
  cluster: 'npm run test:cluster',
  chaos: "npm run test:cluster's chaos run",
  image: 'npm run test:image',
};
/** Suites counted apart from the CI time budget: outside the ci section's tables and the slowest list. */
const APART = new Set(['chaos', 'image']);
/** The image's goal (issue 35): the layers its Dockerfile adds above the base, at most. */
const IMAGE_ADDED_GOAL_BYTES = 150e6;
const SLOWEST = 10;

class DocError extends Error {}

const beginMarker = (name) => `<!-- BEGIN GENERATED: ${name} -->`;
const endMarker = (name) => `<!-- END GENERATED: ${name} -->`;

/** A path as the document names it: from the project's root when it is inside. */
const fromRoot = (path) => {
  const rel = relative(ROOT, path);
  return rel === '' || rel.startsWith('..') ? path : rel;
};
const shown = (path) => {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') ? path : rel;
};

function readJson(path, what) {
  if (!existsSync(path)) throw new DocError(`${shown(path)} not found: ${what}`);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new DocError(`${shown(path)} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** `text` with the lines between the section's two markers replaced by `content`; a DocError when a marker is missing, doubled or out of order. */
function replaceSection(text, name, content, docName) {
  const lines = text.split('\n');
  const at = (marker) => lines.flatMap((line, i) => (line.replace(/\r$/, '') === marker ? [i] : []));
  const [begins, ends] = [at(beginMarker(name)), at(endMarker(name))];
  for (const [marker, found] of [
    [beginMarker(name), begins],
    [endMarker(name), ends],
  ]) {
    if (found.length === 0) throw new DocError(`${docName}: missing marker ${marker} (on a line of its own) for section ${name}`);
    if (found.length > 1)
      throw new DocError(`${docName}: marker ${marker} appears ${found.length} times (lines ${found.map((i) => i + 1).join(', ')})`);
  }
  const [begin, end] = [begins[0], ends[0]];
  if (end < begin)
    throw new DocError(`${docName}: ${endMarker(name)} (line ${end + 1}) comes before ${beginMarker(name)} (line ${begin + 1})`);
  return [...lines.slice(0, begin + 1), ...content.replace(/\n+$/, '').split('\n'), '', ...lines.slice(end)].join('\n');
}

// --- formatting --------------------------------------------------------------------------------

const cell = (text) => String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const seconds = (ms) => `${(ms / 1000).toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} s`;
const wholeSeconds = (s) => {
  const whole = Math.round(s);
  return `${whole.toLocaleString('en-US')} s${whole >= 60 ? ` (${Math.floor(whole / 60)} min ${whole % 60} s)` : ''}`;
};
const day = (iso) => (typeof iso === 'string' ? iso.replace(/T(\d\d:\d\d).*$/, ' $1 UTC') : 'an unknown date');
/** The test file as written: dist/test/x.test.js was compiled from test/x.test.ts. */
const sourceOf = (file) => file.replace(/^dist\/(.*)\.js$/, '$1.ts');
const suiteLabel = (suite) => SUITES[suite] ?? suite;
const suiteOrder = (suite) => (suite in SUITES ? Object.keys(SUITES).indexOf(suite) : Object.keys(SUITES).length);
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const generatedBy = (section, from) =>
  `<!-- generated by \`node scripts/performance-doc.mjs ${section}\` from ${from}: rerun it, do not edit by hand -->`;

function markdownTable(header, rows) {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

// --- sections ----------------------------------------------------------------------------------

function benchSection(path) {
  const results = readJson(path, 'a full `npm run bench` writes it');
  if (results.quick !== false)
    throw new DocError(
      `${shown(path)} is from a quick bench run (--quick): its figures are not the bench's; run the full \`npm run bench\``,
    );
  if (!Array.isArray(results.table)) throw new DocError(`${shown(path)} has no table of figures`);
  const failed = Object.keys(results.results?.errors ?? {});
  if (failed.length > 0)
    throw new DocError(
      `${shown(path)} is from a bench run whose stages ${failed.join(', ')} failed: its table lacks their rows; run the bench again`,
    );
  const m = results.machine ?? {};
  const v = results.versions ?? {};
  const met = (r) => (r.met === null || r.met === undefined ? '–' : r.met ? 'yes' : '**no**');
  return [
    generatedBy('bench', fromRoot(path)),
    '',
    `Full run of ${day(results.date)}: ${wholeSeconds(results.duration_s)} on ${m.cores} cores (${m.cpu}), ${m.memory_gib} GiB, ${m.platform}; ` +
      `Node ${v.node}, Temporal SDK ${v.temporal_sdk}, ${v.temporal_cli}.`,
    '',
    // The same table as bench/report.ts's table(), which the bench prints.
    [
      '| stage | figure | value | target | met |',
      '| --- | --- | --- | --- | --- |',
      ...results.table.map((r) => `| ${r.stage} | ${r.figure} | ${r.value} | ${r.target} | ${met(r)} |`),
    ].join('\n'),
  ].join('\n');
}

function soakSection(path) {
  const results = readJson(path, '`npm run soak` writes it');
  if (results.full === false)
    throw new DocError(`${shown(path)} is from a soak with other than the default options: run the full \`npm run soak\``);
  if (typeof results.table_markdown !== 'string')
    throw new DocError(`${shown(path)} has no table_markdown (a soak from before issue 33?): run \`npm run soak\` again`);
  const m = results.machine ?? {};
  return [
    generatedBy('soak', fromRoot(path)),
    '',
    `Soak finished ${day(results.finished_at)}, on ${m.cores} cores (${m.cpu}), Node ${m.node}.`,
    '',
    results.table_markdown,
  ].join('\n');
}

/** Every suite's timings in the folder: [{ suite, path, report }], by suite name. */
function readTimings(dir) {
  if (!existsSync(dir))
    throw new DocError(`${shown(dir)} not found: scripts/test-timings.mjs writes it during \`npm test\` and \`npm run test:cluster\``);
  const suites = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort((a, b) => suiteOrder(basename(a, '.json')) - suiteOrder(basename(b, '.json')) || a.localeCompare(b))
    .map((f) => ({ suite: basename(f, '.json'), path: join(dir, f), report: readJson(join(dir, f), 'a test timings file') }));
  if (suites.length === 0) throw new DocError(`${shown(dir)} has no timings: run \`npm test\` or \`npm run test:cluster\` first`);
  for (const { path, report } of suites)
    if (!Array.isArray(report.files)) throw new DocError(`${shown(path)} has no files: not a test timings file`);
  return suites;
}

/** A test file's time: its process's, start to exit, when node reported it (Node 20 does), else the sum of its top-level tests'. */
const fileMs = (f) => f.wall_ms ?? f.duration_ms;

/** The suites the CI budget counts: all but those counted apart. */
const budgeted = (suites) => suites.filter((s) => !APART.has(s.suite));

/** The slowest test files of every suite the CI budget counts, slowest first, at most ten. */
function slowestFiles(suites, count = SLOWEST) {
  return budgeted(suites)
    .flatMap(({ suite, report }) =>
      report.files.map((f) => ({ suite, file: sourceOf(f.file), ms: fileMs(f), testsMs: f.duration_ms, tests: f.tests, fail: f.fail })),
    )
    .sort((a, b) => b.ms - a.ms || a.file.localeCompare(b.file))
    .slice(0, count);
}

function stepsText(ciSeconds, steps) {
  const apart = new Set([...APART].map(suiteLabel));
  const parts = steps.map(({ name, s }) => `${name} ${wholeSeconds(s)}${apart.has(name) ? ' (counted apart)' : ''}`);
  return `${wholeSeconds(ciSeconds)} in all${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
}

/** Suites counted apart that run inside a step (test:cluster's chaos run): their own `node --test` time, said after the steps. */
function apartWithin(suites) {
  const chaos = suites.find((s) => s.suite === 'chaos');
  return chaos?.report.duration_ms
    ? ` Of the second step, ${suiteLabel('chaos')} took ${seconds(chaos.report.duration_ms)} (counted apart).`
    : '';
}

function ciSection(suites, ciSeconds, steps, dir) {
  if (ciSeconds === undefined) throw new DocError('the ci section needs --ci-seconds N, the whole .ci/run time (.ci/run passes it)');
  const latest = suites
    .map((s) => s.report.finished_at)
    .sort()
    .at(-1);
  const m = suites[0].report.machine ?? {};
  const suiteRows = budgeted(suites).map(({ suite, report }) => [
    suiteLabel(suite),
    report.duration_ms === null ? '–' : seconds(report.duration_ms),
    report.files.length,
    report.files.reduce((n, f) => n + f.tests, 0),
    seconds(report.files.reduce((n, f) => n + fileMs(f), 0)),
  ]);
  const slowest = slowestFiles(suites).map((f, i) => [
    i + 1,
    `\`${f.file}\``,
    suiteLabel(f.suite),
    seconds(f.ms),
    seconds(f.testsMs),
    f.tests,
  ]);
  return [
    generatedBy('ci', `\`.ci/run\`'s times and ${fromRoot(dir)}/*.json`),
    '',
    `\`.ci/run\` of ${day(latest)} on ${m.cores} cores (${m.cpu}), Node ${m.node}: ${stepsText(ciSeconds, steps)}.${apartWithin(suites)}`,
    '',
    "Each suite: its `node --test` run alone (the build, lint and set-up are counted in the step above, not here), and the sum of its files' times " +
      '(more than the run when files run two at a time).',
    '',
    markdownTable(['suite', 'node --test', 'files', 'top-level tests', 'sum of files'], suiteRows),
    '',
    `The ${SLOWEST} slowest test files: a file's time is its process's, start to exit (loading and hooks included); ` +
      "its tests' is the sum of its top-level tests' durations.",
    '',
    markdownTable(['#', 'test file', 'suite', 'time', "its tests' time", 'top-level tests'], slowest),
  ].join('\n');
}

/** The faults test's own figures (dist/test-figures/cluster-faults.json), or null when that run wrote none. */
function readFaultFigures(path) {
  if (!existsSync(path)) return null;
  const { figures } = readJson(path, "the cluster faults test's figures");
  if (!Array.isArray(figures)) throw new DocError(`${shown(path)} has no figures: not the faults test's file`);
  return figures;
}

function clusterSection(suites, dir, figuresFile) {
  const cluster = suites.find((s) => s.suite === 'cluster');
  if (cluster === undefined) throw new DocError(`${shown(join(dir, 'cluster.json'))} not found: \`npm run test:cluster\` writes it`);
  const { report } = cluster;
  const parts = [
    generatedBy('cluster', fromRoot(cluster.path)),
    '',
    `\`npm run test:cluster\` of ${day(report.finished_at)}: \`node --test\` ${report.duration_ms === null ? 'time unknown' : seconds(report.duration_ms)} ` +
      `(the build, PostgreSQL and the server's set-up not included), ${report.files.length} files.`,
  ];
  const faults = readFaultFigures(figuresFile);
  if (faults !== null)
    parts.push(
      '',
      `Each fault of \`test/cluster/faults.test.ts\`, made when a call reached the app: how long the service was down, and when the loop's next cycle reached the app after the fault:`,
      '',
      markdownTable(
        ['fault', 'at iteration', 'down', 'next cycle, after the fault', 'cycles counted / keys / requests at the app'],
        faults.map((f) => [
          f.fault,
          String(f.iteration),
          f.downMs > 0 ? seconds(f.downMs) : '–',
          seconds(f.waitedMs),
          `${f.counted} / ${f.appIterations} / ${f.appRequests}`,
        ]),
      ),
    );
  parts.push(...fileTables(report));
  return parts.join('\n');
}

/** Each file of a suite's report: its time, then its tests, slowest first (as lines of the document). */
function fileTables(report) {
  return report.files.flatMap((file) => {
    // A describe()'s tests, or a test's subtests (a fault each, in faults.test.ts), else the top-level tests themselves.
    const tests = file.top.flatMap((t) => (t.subtests.length > 0 ? t.subtests : [t])).sort((a, b) => b.duration_ms - a.duration_ms);
    return [
      '',
      `\`${sourceOf(file.file)}\`: ${seconds(fileMs(file))} (its tests ${seconds(file.duration_ms)}), slowest test first:`,
      '',
      markdownTable(
        ['test', 'time', 'result'],
        tests.map((t) => [t.name, seconds(t.duration_ms), t.status]),
      ),
    ];
  });
}

const megabytes = (bytes) => `${(bytes / 1e6).toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} MB`;

/** The image test's figures (dist/test-figures/image.json) and the image suite's timings. */
function imageSection(suites, dir, figuresFile) {
  const image = suites.find((s) => s.suite === 'image');
  if (image === undefined) throw new DocError(`${shown(join(dir, 'image.json'))} not found: \`npm run test:image\` writes it`);
  const figures = readJson(figuresFile, 'test/image/image.test.ts writes it when it builds the image');
  if (!Array.isArray(figures.layers)) throw new DocError(`${shown(figuresFile)} has no layers: not the image test's file`);
  const added = figures.image_bytes - figures.base_bytes;
  const { report } = image;
  return [
    generatedBy('image', `${fromRoot(figuresFile)} and ${fromRoot(image.path)}`),
    '',
    `\`npm run test:image\` of ${day(report.finished_at)}, Docker Engine ${figures.engine_version}: \`node --test\` ` +
      `${report.duration_ms === null ? 'time unknown' : seconds(report.duration_ms)} (the engine's install and the stand-in base's build not included).`,
    '',
    `\`docker build .\` with no layer cached: ${wholeSeconds(figures.build_seconds)}. The image: ${megabytes(figures.image_bytes)}, of which ` +
      `the base ${megabytes(figures.base_bytes)} and this Dockerfile's layers ${megabytes(added)} ` +
      `(goal: at most ${megabytes(IMAGE_ADDED_GOAL_BYTES)}${added <= IMAGE_ADDED_GOAL_BYTES ? ', met' : ', missed'}). Each layer with a size, newest first:`,
    '',
    markdownTable(
      ['size', 'instruction'],
      figures.layers.filter((l) => l.bytes > 0).map((l) => [megabytes(l.bytes), `\`${l.created_by}\``]),
    ),
    ...fileTables(report),
  ].join('\n');
}

/** A chaos campaign's report (test/chaos/campaign.ts): what the nemesis did, what the loops did, what the checker found. */
function chaosSection(path, section) {
  const report = readJson(path, section === 'chaos' ? "test:cluster's chaos run writes it" : '`npm run chaos` writes it');
  if (!Array.isArray(report.faults) || !Array.isArray(report.violations)) throw new DocError(`${shown(path)} is not a chaos report`);
  const ms = (v) => (v === null || v === undefined ? '–' : seconds(v));
  const kinds = Object.entries(report.faultsByKind)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const rows = [
    ['seed, nemesis time', `${report.seed}, ${report.minutes} min`],
    ['faults injected', `${report.faults.length} (${kinds})`],
    ['cycles checked', `${report.cycles} (${report.loops.map((l) => `${l.id} ${l.cycles}`).join(', ')})`],
    ['requests at the app', String(report.requests)],
    [
      're-sends allowed, by cause',
      Object.entries(report.resends)
        .map(([c, n]) => `${c} ${n}`)
        .join(', '),
    ],
    ['dry runs the app ran twice (an allowed re-send after the run executed)', String(report.dryRunsExecutedTwice)],
    ['live cycles recorded failed although the app ran them', String(report.liveRecordedFailedAfterAnswer)],
    [
      'recovery after a fault (the next call reached the app), median / max',
      `${ms(report.recovery.medianMs)} / ${ms(report.recovery.maxMs)}`,
    ],
    ["after the nemesis: each loop's next cycle", report.loops.map((l) => `${l.id} ${ms(l.recoveredMs)}`).join(', ')],
    ['violations', String(report.violations.length)],
  ];
  return [
    generatedBy(section, fromRoot(path)),
    '',
    markdownTable(['figure', 'value'], rows),
    ...(report.violations.length > 0
      ? [
          '',
          markdownTable(
            ['guarantee', 'loop', 'iteration', 'what'],
            report.violations.map((v) => [v.guarantee, v.loop ?? '–', v.iteration ?? '–', v.message]),
          ),
        ]
      : []),
  ].join('\n');
}

// --- command line ------------------------------------------------------------------------------

function parseSteps(values) {
  return values.map((text) => {
    const match = /^(.+)=(\d+(?:\.\d+)?)$/.exec(text);
    if (!match) throw new DocError(`--ci-step must be 'name=seconds', got '${text}'`);
    return { name: match[1], s: Number(match[2]) };
  });
}

function main(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      doc: { type: 'string', default: join(ROOT, 'docs', 'performance.md') },
      'bench-results': { type: 'string', default: join(ROOT, 'bench', 'results.json') },
      'soak-results': { type: 'string', default: join(ROOT, 'soak-results.json') },
      'timings-dir': { type: 'string', default: join(ROOT, 'dist', 'test-timings') },
      'cluster-figures': { type: 'string', default: join(ROOT, 'dist', 'test-figures', 'cluster-faults.json') },
      'image-figures': { type: 'string', default: join(ROOT, 'dist', 'test-figures', 'image.json') },
      'chaos-report': { type: 'string', default: join(ROOT, 'dist', 'test-figures', 'chaos.json') },
      'campaign-report': { type: 'string', default: join(ROOT, 'dist', 'test-figures', 'chaos-campaign.json') },
      'ci-seconds': { type: 'string' },
      'ci-step': { type: 'string', multiple: true, default: [] },
      'print-slowest': { type: 'boolean', default: false },
    },
  });
  const unknown = positionals.filter((p) => !SECTIONS.includes(p));
  if (unknown.length > 0) throw new DocError(`no section ${unknown.join(', ')}: the sections are ${SECTIONS.join(', ')}`);
  if (positionals.length === 0 && !values['print-slowest'])
    throw new DocError(`name a section to regenerate (${SECTIONS.join(', ')}) or --print-slowest`);
  const ciSeconds = values['ci-seconds'] === undefined ? undefined : Number(values['ci-seconds']);
  if (ciSeconds !== undefined && !(ciSeconds >= 0))
    throw new DocError(`--ci-seconds must be a number of seconds, got '${values['ci-seconds']}'`);
  const steps = parseSteps(values['ci-step']);
  const doc = resolve(values.doc);
  const dir = resolve(values['timings-dir']);
  const sections = [...new Set(positionals)];

  // Everything is made before anything is written or printed: one error leaves the file as it was.
  const errors = [];
  const attempt = (make) => {
    try {
      return make();
    } catch (err) {
      if (!(err instanceof DocError)) throw err;
      errors.push(err.message);
      return undefined;
    }
  };
  const needsTimings = values['print-slowest'] || sections.some((section) => ['ci', 'cluster', 'image'].includes(section));
  const suites = needsTimings ? attempt(() => readTimings(dir)) : undefined;
  const contents = new Map();
  for (const section of sections) {
    const content = attempt(() => {
      if (section === 'bench') return benchSection(resolve(values['bench-results']));
      if (section === 'chaos') return chaosSection(resolve(values['chaos-report']), 'chaos');
      if (section === 'campaign') return chaosSection(resolve(values['campaign-report']), 'campaign');
      if (section === 'soak') return soakSection(resolve(values['soak-results']));
      if (suites === undefined) return undefined; // its error is already counted
      if (section === 'ci') return ciSection(suites, ciSeconds, steps, dir);
      if (section === 'image') return imageSection(suites, dir, resolve(values['image-figures']));
      return clusterSection(suites, dir, resolve(values['cluster-figures']));
    });
    if (content !== undefined) contents.set(section, content);
  }
  let text;
  if (sections.length > 0) {
    if (!existsSync(doc)) errors.push(`${shown(doc)} not found`);
    else {
      text = readFileSync(doc, 'utf8');
      for (const section of sections) {
        const next = attempt(() => replaceSection(text, section, contents.get(section) ?? '', shown(doc)));
        if (next !== undefined) text = next;
      }
    }
  }
  if (errors.length > 0) {
    for (const message of errors) console.error(`performance-doc: ${message}`);
    return 1;
  }

  if (values['print-slowest']) {
    console.log(
      `The ${SLOWEST} slowest test files (${budgeted(suites)
        .map((s) => suiteLabel(s.suite))
        .join(', ')}):`,
    );
    for (const [i, f] of slowestFiles(suites).entries())
      console.log(
        `${String(i + 1).padStart(3)}. ${seconds(f.ms).padStart(9)}  ${f.file}  (${suiteLabel(f.suite)}, ${plural(f.tests, 'test')}${f.fail > 0 ? `, ${f.fail} failed` : ''})`,
      );
    if (ciSeconds !== undefined) console.log(`CI total: ${stepsText(ciSeconds, steps)}`);
  }
  if (sections.length > 0) {
    const before = readFileSync(doc, 'utf8');
    if (before === text) console.log(`${shown(doc)}: ${sections.join(', ')} unchanged`);
    else {
      const temp = `${doc}.tmp-${process.pid}`;
      writeFileSync(temp, text);
      renameSync(temp, doc);
      console.log(`${shown(doc)}: regenerated ${sections.join(', ')}`);
    }
  }
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  console.error(`performance-doc: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
