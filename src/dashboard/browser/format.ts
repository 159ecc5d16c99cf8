/** Times and durations as the page writes them. */

/** A duration: `0.42 s`, `12.5 s`, `2 m 5 s`; `-` when unknown. */
export function seconds(s: number | null | undefined): string {
  if (s === null || s === undefined) return '-';
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  const r = Math.round(s % 60);
  return `${m} m${r ? ` ${r} s` : ''}`;
}

/** A config duration as set: 0.5 s, 30 s, 2 m. */
export function interval(s: number): string {
  return s < 60 ? `${String(Math.round(s * 1000) / 1000)} s` : seconds(s);
}

export function clock(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleTimeString('en-GB') : '-';
}

/** A date as well as a time, for what may lie days back. */
export function dateTime(iso: string): string {
  return new Date(iso).toLocaleString('en-GB');
}

export function ago(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

/** The relative "next cycle" text, redrawn every second from the time the loop announced. */
export function nextCycleText(node: Element): string {
  const at = node.getAttribute('data-next-at');
  if (!at) return node.getAttribute('data-next-idle') || '-';
  const s = (Date.parse(at) - Date.now()) / 1000;
  if (s < 0.05) return 'due now';
  return `in ${s < 10 ? `${s.toFixed(1)} s` : interval(Math.round(s))}`;
}
