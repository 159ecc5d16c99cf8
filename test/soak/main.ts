/**
 * `npm run soak`: the full soak of issue 7, 10 loops × 500 cycles (5,000 in all) with a
 * continue-as-new every 100 cycles, bounded to 15 minutes. Prints the figures as one Markdown
 * table and writes them to soak-results.json (gitignored) at the project's root; exits 1 with the
 * reason when the soak fails or runs out of time.
 *
 *   node --expose-gc dist/test/soak/main.js [--loops 10] [--cycles 500] [--max-cycles-per-run 100]
 *     [--error-rate 0.3] [--seed 7] [--timeout-minutes 15]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatSoak, runSoak } from './soak';

const RESULTS_FILE = join(__dirname, '..', '..', '..', 'soak-results.json');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      loops: { type: 'string', default: '10' },
      cycles: { type: 'string', default: '500' },
      'max-cycles-per-run': { type: 'string', default: '100' },
      'error-rate': { type: 'string', default: '0.3' },
      seed: { type: 'string', default: '7' },
      'timeout-minutes': { type: 'string', default: '15' },
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
  writeFileSync(RESULTS_FILE, `${JSON.stringify({ finished_at: new Date().toISOString(), ...result }, null, 2)}\n`);
  console.log(`\n${formatSoak(result)}\n\nfigures written to ${RESULTS_FILE}`);
}

main().catch((err: unknown) => {
  console.error(`soak failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
