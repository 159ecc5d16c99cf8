/**
 * Building the page: every piece of loop data enters the DOM through textContent or setAttribute,
 * never as markup.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

export type Text = string | number | null | undefined;

export function el(tag: string, className?: string | null, text?: Text): HTMLElement {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function svgEl(tag: string, attrs: Record<string, string | number> = {}, text?: string): SVGElement {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The element the page's markup (page.ts) gives this id. */
export function byId(id: string): HTMLElement {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node;
}

export function stat(label: string, value: Text, tone?: string): { box: HTMLElement; value: HTMLElement } {
  const box = el('div', 'stat');
  box.appendChild(el('div', 'label', label));
  const v = el('div', `value${tone ? ` ${tone}` : ''}`, value);
  box.appendChild(v);
  return { box, value: v };
}

export function detailNode(grid: HTMLElement, key: string, value: HTMLElement): HTMLElement {
  grid.appendChild(el('div', 'k', key));
  grid.appendChild(value);
  return value;
}

export function detail(grid: HTMLElement, key: string, value: Text, tone?: string): HTMLElement {
  return detailNode(grid, key, el('div', `v${tone ? ` ${tone}` : ''}`, value));
}

/** Chips from [className, text] pairs, then "+N more" for what the record counted but did not list. */
export function chipList(items: readonly (readonly [string, string])[], unlisted: number): HTMLElement {
  const list = el('div', 'chip-list');
  for (const [className, text] of items) list.appendChild(el('span', className, text));
  if (unlisted > 0) list.appendChild(el('span', 'more', `+${unlisted} more`));
  return list;
}
