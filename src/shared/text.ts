/** Plain text helpers shared by activities and workflow code (no I/O: the workflow bundle imports it). */

/** The first words of a text, for messages, on one line. */
export function shorten(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
