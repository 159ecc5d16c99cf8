/**
 * When cycles start. `interval`: a fixed pause after each cycle, so starts drift by each run's
 * own length. `aligned`: on beats, the boundaries of `align_every` seconds counted from midnight
 * UTC plus `align_offset` seconds, so each run reads candles that have just closed.
 *
 * Because `align_every` divides a day and Unix time has no leap seconds, the boundaries from
 * midnight UTC are the multiples of the period since the epoch: a beat is n × period + offset.
 * Workflow code imports this file: plain arithmetic on workflow time, nothing else.
 */
import type { LoopConfig } from './config';

export const CADENCES = ['interval', 'aligned'] as const;
export type Cadence = (typeof CADENCES)[number];

export const SECONDS_PER_DAY = 86_400;
export const ALIGN_EVERY_RULE = 'must be a whole number of seconds that divides a day (86400), like 60, 300, 900, 3600 or 14400';

type Beat = Pick<LoopConfig, 'align_every' | 'align_offset'>;

function periodMs(config: Beat): number {
  return config.align_every * 1000;
}

/** The beat's index at or before `ms`: beats n × period + offset, so index n covers [beat n, beat n + 1). */
function beatIndex(config: Beat, ms: number): number {
  return Math.floor((ms - Math.round(config.align_offset * 1000)) / periodMs(config));
}

function beatAt(config: Beat, index: number): number {
  return index * periodMs(config) + Math.round(config.align_offset * 1000);
}

/** The first beat strictly after `ms`. */
export function nextBeat(config: Beat, ms: number): number {
  return beatAt(config, beatIndex(config, ms) + 1);
}

/** How many beats fall in (from, to]: those that passed without a cycle starting at them. */
export function beatsBetween(config: Beat, from: number, to: number): number {
  return Math.max(beatIndex(config, to) - beatIndex(config, from), 0);
}

/**
 * How late a cycle may start after its beat and still count as started at it: half a period, at
 * least 3 s (a server's timer fires a little late: the dev server's about half a second), at most
 * a minute. Later (a worker that was down when the timer fired), the run would read a candle long
 * since moving: the beat is counted missed and the loop waits for the next one.
 */
export function lateStartLimitMs(config: Beat): number {
  return Math.min(Math.max(periodMs(config) / 2, 3_000), 60_000);
}

/** `1m`, `15m`, `4h`, `90s`: the period as traders write it. */
export function periodText(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

const two = (n: number) => String(n).padStart(2, '0');

/** Where in its period a beat falls: `:02` in each minute, `:00:02` in each hour's quarters, `00:00:02 UTC` and so on. */
function offsetText(config: Beat): string {
  const whole = Math.floor(config.align_offset);
  const fraction = config.align_offset - whole;
  const secs = `${two(whole % 60)}${fraction > 0 ? String(Math.round(fraction * 1000) / 1000).slice(1) : ''}`;
  if (config.align_every < 60) return `+${config.align_offset}s`;
  if (config.align_every === 60) return `:${secs}`;
  if (config.align_every < 3600) return `:${two(Math.floor(whole / 60) % 60)}:${secs}`;
  return `${two(Math.floor(whole / 3600))}:${two(Math.floor(whole / 60) % 60)}:${secs} UTC`;
}

/** The loop's clock in a few words: `every 30 s` or `every 1m at :02`. */
export function cadenceText(config: Pick<LoopConfig, 'cadence' | 'ping_interval' | 'align_every' | 'align_offset'>): string {
  if (config.cadence === 'aligned') return `every ${periodText(config.align_every)} at ${offsetText(config)}`;
  return `every ${config.ping_interval} s`;
}

/**
 * The longest a healthy loop goes between two finished cycles, seconds: its wait (the pause, or a
 * period to the next beat) plus a whole cycle budget. Three of them without a cycle: stalled.
 */
export function expectedPeriodSeconds(config: Pick<LoopConfig, 'cadence' | 'ping_interval' | 'align_every' | 'max_execution_time'>): number {
  return (config.cadence === 'aligned' ? config.align_every : config.ping_interval) + config.max_execution_time;
}

/** What `status` warns about a loop's clock, or nothing. */
export function cadenceWarnings(config: Pick<LoopConfig, 'cadence' | 'align_every' | 'max_execution_time'>): string[] {
  if (config.cadence !== 'aligned' || config.max_execution_time <= config.align_every) return [];
  return [`the cycle budget (${config.max_execution_time} s) is longer than the period (${config.align_every} s): a long cycle misses beats, which are counted, not queued`];
}
