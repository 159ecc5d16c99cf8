/**
 * The results of the MTF calls this worker finished, each kept until no retry of its cycle can
 * come (the call's schedule-to-close timeout). A worker that had the app's answer but could not
 * report it (seen on a real cluster: the history service down longer than the SDK retries the
 * report, about 10 s) sees the call retried once its heartbeat timeout passes. The retry, when it
 * reaches the same worker, returns the answer instead of sending the cycle to the app again. The
 * memory is bounded, oldest first, so a worker with many loops keeps the recent ones.
 */
export class AnswerMemory<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  remember(key: string, value: T, keepMs: number): void {
    this.prune();
    this.entries.delete(key);
    this.entries.set(key, { value, until: this.now() + keepMs });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
  }

  /** The result kept for `key`, or undefined when none is (never had, or past its time). */
  recall(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.until >= this.now()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drops expired entries from the oldest on, up to the first still in time: cheap, and enough. */
  private prune(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (entry.until >= now) break;
      this.entries.delete(key);
    }
  }
}
