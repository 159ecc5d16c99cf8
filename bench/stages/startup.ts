/** Stage 5: start-up, of a worker on the prebuilt bundle and of the whole `npm start` stack. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/toolchain/binaries';
import { PREBUILT_BUNDLE } from '../../src/worker/worker';
import { devStackEnv, spawnNode } from '../../harness/processes';
import { BenchWorker } from '../bench-worker';
import { loopId, type Bench } from '../loops';
import type { Row } from '../report';
import { round, within } from '../tools';

const STARTUP_TIMEOUT_MS = 60_000;

export interface StartupResult {
  npmStartToFirstCycleS: number;
  workerReadyS: number;
  workerReadySinceProcessStartS: number;
  workerCreateS: number;
}

export async function startup(bench: Bench): Promise<StartupResult> {
  // The prebuilt production bundle (npm run build), as `npm run worker` loads it.
  const worker = await BenchWorker.start(bench.address, loopId(bench, 'ready-tq', ''), PREBUILT_BUNDLE);
  await worker.stop();

  const dataDir = mkdtempSync(join(tmpdir(), 'mtf-bench-start-'));
  try {
    const { env } = await devStackEnv(dataDir);
    const started = Date.now();
    const dev = spawnNode(join(projectRoot(), 'dist', 'src', 'cli', 'dev.js'), [], env);
    try {
      await dev.waitForLine((line) => /^iteration 1 +succeeded/.test(line), 'the first finished cycle of npm start', STARTUP_TIMEOUT_MS);
      return {
        npmStartToFirstCycleS: round((Date.now() - started) / 1000, 2),
        workerReadyS: round(worker.spawnToReadyMs / 1000, 2),
        workerReadySinceProcessStartS: round(worker.ready.sinceProcessStartMs / 1000, 2),
        workerCreateS: round(worker.ready.createMs / 1000, 2),
      };
    } finally {
      // Ctrl-C, as a user stops it: it stops its worker, simulator and dev server in order.
      await within(dev.stop('SIGINT'), 30_000, 'npm start shutdown').catch(() => dev.stop('SIGKILL'));
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function startupRows(u: StartupResult): Row[] {
  const rows: Row[] = [];
  rows.push({
    stage: '5 start-up',
    figure: 'npm start (built) → first finished cycle',
    value: `${u.npmStartToFirstCycleS} s`,
    target: '≤ 10 s',
    met: u.npmStartToFirstCycleS <= 10,
  });
  rows.push({
    stage: '5 start-up',
    figure: 'worker ready, prebuilt bundle (fork → polling; Worker.create alone)',
    value: `${u.workerReadyS} s; ${u.workerCreateS} s`,
    target: '(reported)',
    met: null,
  });
  return rows;
}
