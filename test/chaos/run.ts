/**
 * `npm run chaos -- [--seed N] [--minutes M] [--from F] [--steps S] [--json]`: one seeded campaign
 * (campaign.ts) on the production-shaped cluster; `--recheck RECORDS` reads a campaign's saved
 * records again with this checker, and starts nothing. Prints faults by kind, cycles, re-sends by cause, recovery times and
 * violations (`--json`: the whole report as data); exits 1 on any violation, 2 on a usage error.
 * The same seed chooses the same faults at the same steps.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { formatReport, reportOf, runCampaign, writeReport, type CampaignRecords } from './campaign';

async function main(argv: string[]): Promise<number> {
  let values: { seed?: string; minutes?: string; steps?: string; from?: string; recheck?: string; json?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        seed: { type: 'string' },
        minutes: { type: 'string' },
        steps: { type: 'string' },
        from: { type: 'string' },
        recheck: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    console.error(`chaos: ${(err as Error).message}`);
    return 2;
  }
  if (values.recheck !== undefined) {
    // A campaign's saved records, read again by this checker: no cluster, no fault.
    const records = JSON.parse(readFileSync(values.recheck, 'utf8')) as CampaignRecords;
    const report = reportOf({ ...records, minutes: records.minutes ?? Number(values.minutes ?? 0) });
    const saved = writeReport(report, 'chaos-campaign.json');
    console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
    console.error(`chaos: the report is in ${saved}`);
    return report.violations.length > 0 ? 1 : 0;
  }
  const seed = Number(values.seed ?? 1);
  const minutes = Number(values.minutes ?? 30);
  if (!Number.isInteger(seed) || seed < 0) {
    console.error(`chaos: --seed must be a whole number, got ${values.seed}`);
    return 2;
  }
  const steps = values.steps === undefined ? undefined : Number(values.steps);
  if (steps !== undefined && !(Number.isInteger(steps) && steps > 0)) {
    console.error(`chaos: --steps must be a positive whole number, got ${values.steps}`);
    return 2;
  }
  const from = values.from === undefined ? undefined : Number(values.from);
  if (from !== undefined && !(Number.isInteger(from) && from > 0)) {
    console.error(`chaos: --from must be a positive whole number, got ${values.from}`);
    return 2;
  }
  if (!(minutes > 0)) {
    console.error(`chaos: --minutes must be a positive number, got ${values.minutes}`);
    return 2;
  }
  // Ctrl-C (or a SIGTERM) ends the nemesis early: the run still heals, checks, and closes every process it started.
  const interrupted = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      console.error(`chaos: ${sig}: ending the nemesis now; the campaign heals, checks and closes what it started`);
      interrupted.abort();
    });
  const report = await runCampaign({
    seed,
    minutes,
    ...(steps === undefined ? {} : { steps }),
    ...(from === undefined ? {} : { from }),
    abort: interrupted.signal,
    log: (line) => console.error(line),
    records: (records) => writeReport(records, 'chaos-campaign-records.json'),
  });
  const saved = writeReport(report, 'chaos-campaign.json');
  console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
  console.error(`chaos: the report is in ${saved} (node scripts/performance-doc.mjs campaign puts it in docs/performance.md)`);
  return report.violations.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`chaos: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
