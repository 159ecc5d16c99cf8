/**
 * The dev server's CPU, for stage 6: the dev server is a child process of the bench; Linux's /proc has its time.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Linux's USER_HZ, the unit of the times in /proc/<pid>/stat: 100 on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

/** The dev server's PID: the bench's child process that runs `temporal server start-dev`. */
export function devServerPid(): number | null {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes('start-dev')) return Number(entry);
    }
  } catch {
    // No /proc (not Linux): the server's CPU is reported as unknown.
  }
  return null;
}

/** CPU seconds (user + system) the process has used so far; NaN when unknown. */
export function processCpuSeconds(pid: number | null): number {
  if (pid === null) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}
