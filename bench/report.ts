/** The bench's table: one row per figure, with its target where the issue set one. */

export interface Row {
  stage: string;
  figure: string;
  value: string;
  target: string;
  met: boolean | null;
}

export function summarize(values: number[]): { min: number; max: number; mode: number } {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  const mode = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? NaN;
  return { min: Math.min(...values), max: Math.max(...values), mode };
}

/** `11` when every value is 11, `11 (11–13)` when they vary: the usual value, then the range. */
export function costText(values: number[]): string {
  if (values.length === 0) return 'n/a';
  const { min, max, mode } = summarize(values);
  return min === max ? String(mode) : `${mode} (${min}–${max})`;
}

export function table(rows: Row[]): string {
  const lines = ['| stage | figure | value | target | met |', '| --- | --- | --- | --- | --- |'];
  for (const r of rows)
    lines.push(`| ${r.stage} | ${r.figure} | ${r.value} | ${r.target} | ${r.met === null ? '–' : r.met ? 'yes' : '**no**'} |`);
  return lines.join('\n');
}
