/**
 * `npm run soak`: the full soak of issue 7, 10 loops × 500 cycles (5,000 in all) with a
 * continue-as-new every 100 cycles, bounded to 15 minutes. Prints the figures as one Markdown
 * table and writes them to soak-results.json (gitignored) at the project's root, the table too
 * (table_markdown); exits 1 with the reason when the soak fails or runs out of time. A soak with the
 * default options (`full`) then regenerates the soak section of docs/performance.md from that file
 * (scripts/performance-doc.mjs, issue 33); one with other options leaves the document alone.
 *
 *   node --expose-gc dist/test/soak/main.js [--loops 10] [--cycles 500] [--max-cycles-per-run 100]
 *     [--error-rate 0.3] [--seed 7] [--timeout-minutes 15]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatSoak, runSoak } from './soak';

const ROOT = join(__dirname, '..', '..', '..');
const RESULTS_FILE = join(ROOT, 'soak-results.json');
/** The full soak's options: only its figures go into docs/performance.md. */
const DEFAULTS = { loops: '10', cycles: '500', 'max-cycles-per-run': '100', 'error-rate': '0.3', seed: '7', 'timeout-minutes': '15' };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      loops: { type: 'string', default: DEFAULTS.loops },
      cycles: { type: 'string', default: DEFAULTS.cycles },
      'max-cycles-per-run': { type: 'string', default: DEFAULTS['max-cycles-per-run'] },
      'error-rate': { type: 'string', default: DEFAULTS['error-rate'] },
      seed: { type: 'string', default: DEFAULTS.seed },
      'timeout-minutes': { type: 'string', default: DEFAULTS['timeout-minutes'] },
    },
  });
  const number = (name: keyof typeof values): number => {
    const value = Number(values[name]);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number, got ${values[name]}`);
    return value;
  };
  const options = {
    loops: number('loops'),
    cyclesPerLoop: number('cycles'),
    maxCyclesPerRun: number('max-cycles-per-run'),
    errorRate: number('error-rate'),
    seed: number('seed'),
    timeoutMs: number('timeout-minutes') * 60_000,
  };
  console.log(
    `MTF soak: ${options.loops} loops × ${options.cyclesPerLoop} cycles, a continue-as-new every ${options.maxCyclesPerRun}, ` +
      `error_rate ${options.errorRate} (seed ${options.seed}), at most ${options.timeoutMs / 60_000} min` +
      (typeof globalThis.gc === 'function' ? '' : ' (run with --expose-gc for heap figures after a full GC)'),
  );
  const result = await runSoak({ ...options, log: (line) => console.log(line) });
  const table = formatSoak(result);
  const full = (Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]).every((name) => number(name) === Number(DEFAULTS[name]));
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version };
  const report = { finished_at: new Date().toISOString(), full, machine, table_markdown: table, ...result };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${table}\n\nfigures written to ${RESULTS_FILE}`);
  if (!full) {
    console.log('not the default soak: docs/performance.md left as it is');
    return;
  }
  try {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'performance-doc.mjs'), 'soak'], { stdio: 'inherit' });
  } catch {
    // performance-doc.mjs said why, on stderr
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(`soak failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
