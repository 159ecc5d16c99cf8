// A node:test reporter (issue 33) that writes, as JSON, how long each test file took, two ways:
//   wall_ms      the file's own process, start to exit (loading its imports and its hooks included):
//                node's test:complete event for the file, a nesting-0 event named by the file's path;
//   duration_ms  the sum of its top-level tests' durations (nesting 0: a describe() counts as one).
// Under each file, its top-level tests, and under each the tests one level down (nesting 1: a
// describe()'s tests, or a test's t.test() subtests), with their times and results. It is the
// second reporter beside the TAP on stdout, so neither what a run prints nor its exit code changes:
//
//   mkdir -p dist/test-timings && node --test --test-reporter=tap --test-reporter-destination=stdout \
//     --test-reporter=./scripts/test-timings.mjs --test-reporter-destination=dist/test-timings/<suite>.json <files>
//
// (node opens the destination before the run and does not create its folder.) scripts/performance-doc.mjs
// reads these files: the ten slowest test files, and the `ci` and `cluster` sections of docs/performance.md.
//
// With --test-concurrency above 1 the files' events interleave, so everything is grouped by the
// event's `file` (present in Node 20's events). A file whose process fails outside any test (it
// throws on load, or exits early) is also reported by node as a failed nesting-0 test named by its
// path: that counts as a failure of the file (process_failed), not as one of its tests. The run's
// own `duration_ms` is node's closing `duration_ms` diagnostic: the wall time of the whole `node --test`.
import { cpus } from 'node:os';
import { relative } from 'node:path';

function statusOf(data, failed) {
  if (failed) return data.details?.error?.failureType === 'cancelledByParent' ? 'cancelled' : 'fail';
  if (data.skip !== undefined && data.skip !== false) return 'skip';
  if (data.todo !== undefined && data.todo !== false) return 'todo';
  return 'pass';
}

const round = (ms) => Math.round(ms * 1000) / 1000;

export default async function* testTimings(source) {
  const files = new Map();
  const summary = {};
  const fileOf = (path) => {
    const key = path ?? '(no file)';
    let entry = files.get(key);
    if (entry === undefined) {
      const shown = path === undefined ? key : relative(process.cwd(), path) || path;
      entry = {
        file: shown,
        wall_ms: null,
        duration_ms: 0,
        tests: 0,
        pass: 0,
        fail: 0,
        cancelled: 0,
        skip: 0,
        todo: 0,
        top: [],
        pending: [],
      };
      files.set(key, entry);
    }
    return entry;
  };
  for await (const event of source) {
    const { type, data } = event;
    if (type === 'test:diagnostic' && data.nesting === 0 && data.file === undefined) {
      // node's closing summary: "tests 12", "pass 11", ..., "duration_ms 1234.5"
      const match = /^(\w+) ([\d.]+)$/.exec(data.message);
      if (match) summary[match[1]] = Number(match[2]);
      continue;
    }
    const isFile = data.file !== undefined && data.nesting === 0 && data.name === data.file;
    if (type === 'test:complete' && isFile) fileOf(data.file).wall_ms = round(data.details?.duration_ms ?? 0);
    if (type !== 'test:pass' && type !== 'test:fail') continue;
    const entry = fileOf(data.file);
    const durationMs = round(data.details?.duration_ms ?? 0);
    const status = statusOf(data, type === 'test:fail');
    if (data.nesting === 1) entry.pending.push({ name: data.name, duration_ms: durationMs, status });
    if (data.nesting !== 0) continue;
    if (isFile) {
      entry.process_failed = true;
      entry.fail += 1;
      entry.pending = [];
      continue;
    }
    // A nesting-1 event comes before its parent's: the pending ones are this test's.
    entry.top.push({ name: data.name, duration_ms: durationMs, status, subtests: entry.pending });
    entry.pending = [];
    entry.tests += 1;
    entry[status] += 1;
    entry.duration_ms = round(entry.duration_ms + durationMs);
  }
  const report = {
    finished_at: new Date().toISOString(),
    duration_ms: summary.duration_ms ?? null,
    summary,
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
    // Slowest first: by the file's process when node reported it, else by its tests.
    files: [...files.values()]
      .map(({ pending: _pending, ...entry }) => entry)
      .sort((a, b) => (b.wall_ms ?? b.duration_ms) - (a.wall_ms ?? a.duration_ms) || a.file.localeCompare(b.file)),
  };
  yield `${JSON.stringify(report, null, 2)}\n`;
}
