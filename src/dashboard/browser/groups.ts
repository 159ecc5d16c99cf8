/**
 * The page's sections by group (config key `group`): one per group, sorted by name, loops without
 * a group last under "no group", each headed by one summary line (loops, failing, paused, READY).
 */
import { readyCount } from '../../shared/findings';
import type { DashboardLoop } from '../view';
import { el } from './dom';

/** The section of the loops without a group: no group's name is empty (LABEL_PATTERN), so none is taken for it. */
const NO_GROUP = '';

export interface GroupCounts {
  loops: number;
  /** FAILING_AFTER failed cycles in a row (the server's `failing`: MtfLoopState's threshold). */
  failing: number;
  /** Held by the pause update (in force, not only requested): the cards' PAUSED badge. */
  paused: number;
  /** READY contracts the loops' last cycles found, the count their cards show; null when none of them said. */
  ready: number | null;
}

export function groupCounts(loops: readonly DashboardLoop[]): GroupCounts {
  const ready = loops.map((l) => (l.status?.last_cycle ? readyCount(l.status.last_cycle) : null)).filter((n): n is number => n !== null);
  return {
    loops: loops.length,
    failing: loops.filter((l) => l.failing).length,
    paused: loops.filter((l) => Boolean(l.status?.pause?.since)).length,
    ready: ready.length > 0 ? ready.reduce((a, b) => a + b, 0) : null,
  };
}

/** The summary line's parts, in order: [data-count name, text, whether it asks for attention]. */
function summaryParts(c: GroupCounts): Array<[string, string, boolean]> {
  return [
    ['loops', `${c.loops} loop${c.loops === 1 ? '' : 's'}`, false],
    ['failing', `${c.failing} failing`, c.failing > 0],
    ['paused', `${c.paused} paused`, c.paused > 0],
    ['ready', c.ready === null ? 'READY unknown' : `${c.ready} READY this cycle`, false],
  ];
}

const READY_TITLE = "READY contracts found by each loop's last cycle, summed over the loops whose answer said";

interface Section {
  node: HTMLElement;
  head: HTMLElement;
  summary: HTMLElement;
  text: string;
}

/** Kept across refreshes, like the cards: a summary line that did not change is not redrawn (nor re-announced). */
const sections = new Map<string, Section>();

function sectionOf(name: string): Section {
  const known = sections.get(name);
  if (known) return known;
  const node = el('section', 'group');
  node.setAttribute('data-group', name);
  node.setAttribute('aria-label', name === NO_GROUP ? 'loops without a group' : `group ${name}`);
  const head = el('div', 'group-head');
  head.appendChild(el('h2', name === NO_GROUP ? 'none' : null, name === NO_GROUP ? 'no group' : name));
  const summary = el('div', 'group-summary');
  head.appendChild(summary);
  const section = { node, head, summary, text: '' };
  sections.set(name, section);
  return section;
}

function showCounts(section: Section, counts: GroupCounts): void {
  const parts = summaryParts(counts);
  const text = JSON.stringify(parts);
  if (text === section.text) return;
  section.text = text;
  section.summary.replaceChildren(
    ...parts.flatMap(([name, words, attention], i) => {
      const part = el('span', `count${attention ? ` ${name}` : ''}`, words);
      part.setAttribute('data-count', name);
      if (name === 'ready') part.title = READY_TITLE;
      return i === 0 ? [part] : [el('span', 'sep', ' · '), part];
    }),
  );
}

/** Group names as a reader sorts them (`binance` before `Bitmart` before `bybit`), the loops without one last. */
function byName(a: string, b: string): number {
  return Number(a === NO_GROUP) - Number(b === NO_GROUP) || a.localeCompare(b, 'en');
}

/** A loop and its card, as the page places it. */
export interface Shown {
  loop: DashboardLoop;
  node: HTMLElement;
}

/**
 * What #loops holds: the cards, in the order given, in their groups' sections. When no loop has a
 * group, the cards as they are, with no heading at all: a lone "no group" over every card would say
 * nothing and push them all down, so a page without labels stays as it was.
 */
export function grouped(shown: readonly Shown[]): HTMLElement[] {
  if (!shown.some(({ loop }) => loop.group !== null)) {
    sections.clear();
    return shown.map(({ node }) => node);
  }
  const members = new Map<string, Shown[]>();
  for (const one of shown) {
    const name = one.loop.group ?? NO_GROUP;
    members.set(name, [...(members.get(name) ?? []), one]);
  }
  for (const name of Array.from(sections.keys())) if (!members.has(name)) sections.delete(name);
  return Array.from(members.entries())
    .sort(([a], [b]) => byName(a, b))
    .map(([name, group]) => {
      const section = sectionOf(name);
      showCounts(section, groupCounts(group.map(({ loop }) => loop)));
      section.node.replaceChildren(section.head, ...group.map(({ node }) => node));
      return section.node;
    });
}
