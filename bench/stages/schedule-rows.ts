/**
 * Stage 6's table (see schedule.ts): each design's figures, and ours beside the Schedule.
 */
import { costText, type Row } from '../report';
import { SAMPLE, type ScheduleStage } from './schedule-designs';

const cpuText = (value: number | null) => (value === null ? 'n/a' : `${value}`);
const msText = (value: number) => (Number.isFinite(value) ? `${value}` : 'n/a');

export function scheduleRows(stages: ScheduleStage[]): Row[] {
  const rows: Row[] = [];
  for (const { step, runs } of stages) {
    const stage = `6 vs Schedule, ${step.loops} loop${step.loops === 1 ? '' : 's'}, every ${step.periodS} s`;
    for (const r of runs) {
      const name = r.spreadS === null ? r.design : `${r.design} over ${r.spreadS} s`;
      if (r.note?.startsWith('not run') || r.note?.startsWith('stopped')) {
        rows.push({ stage, figure: name, value: r.note, target: '', met: null });
        continue;
      }
      const scheduler = r.design.startsWith('schedule') ? ` + ${r.schedulerEventsPerAction ?? 'n/a'} scheduler` : '';
      const events = `${costText(r.events)}${scheduler}`;
      const missed = r.design === 'ours interval' ? `no beats (${Math.min(SAMPLE, r.loops)} sampled loops)` : `${r.missed} missed`;
      const lateness = [r.latenessMs.p50, r.latenessMs.p99, r.latenessMs.max].map(msText).join(' / ');
      rows.push({
        stage,
        figure: `${name}: events / Actions per cycle; lateness p50 / p99 / max; late (> 1 s) / missed of due; CPU s per 1,000 cycles worker / server above its idle`,
        value: `${events} / ${r.actionsPerCycle}; ${lateness} ms; ${r.late} late / ${missed} of ${r.due}${r.drainPerS === null ? '' : ` (a boundary drains at ${r.drainPerS} cycles/s)`}; ${cpuText(r.workerCpuPer1000)} / ${cpuText(r.serverCpuPer1000)}`,
        target: r.design === 'ours aligned' ? '≤ 2 Actions per quiet cycle' : '(reported)',
        met: r.design === 'ours aligned' ? r.actions.length > 0 && r.actions.every((a) => a <= 2) : null,
      });
    }
    const schedule = runs.find((r) => r.design === 'schedule' && r.note === undefined);
    for (const ours of runs.filter((r) => (r.design === 'ours aligned' || r.design === 'ours aligned, spread') && r.note === undefined)) {
      if (!schedule) break;
      // A missed beat adds no lateness: a design must not win on p99 by skipping beats.
      const fewer = ours.actionsPerCycle < schedule.actionsPerCycle;
      const sooner = ours.latenessMs.p99 <= schedule.latenessMs.p99;
      const kept = ours.missed <= schedule.missed;
      rows.push({
        stage,
        figure: `${ours.spreadS === null ? 'ours aligned' : `ours aligned over ${ours.spreadS} s`} vs the Schedule: Actions per cycle; lateness p99; missed beats`,
        value: `${ours.actionsPerCycle} vs ${schedule.actionsPerCycle}; ${msText(ours.latenessMs.p99)} vs ${msText(schedule.latenessMs.p99)} ms; ${ours.missed} vs ${schedule.missed}`,
        target: 'fewer Actions; p99 and missed no worse',
        met: fewer && sooner && kept,
      });
    }
  }
  return rows;
}
