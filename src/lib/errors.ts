/** An error as the one line people read, for every Node-side caller (the CLI, the dev stack, the dashboard, the servers). */

/** An error's message, or the thrown value as text when it is no Error. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
