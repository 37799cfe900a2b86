/**
 * Group commit for hot paths: calls that arrive while a batch is being worked on wait, and go together in
 * the next one. Under load one query (or one transaction) serves many requests; alone, a call waits only
 * for the rest of the current turn of the event loop. Each caller still gets its own answer or error, and
 * nothing is answered before its batch is done, so a caller told "done" is told the truth.
 */
export class Batcher<Item, Result> {
  private waiting: Array<{ item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }> = [];
  private running = 0;
  private scheduled = false;

  /**
   * `work` gets the items in arrival order and returns, in the same order, each one's result or the Error
   * for that item alone; if it throws, every item of the batch gets that error.
   */
  constructor(
    private readonly work: (items: Item[]) => Promise<Array<Result | Error>>,
    private readonly options: { maxItems: number; concurrency: number } = { maxItems: 200, concurrency: 1 },
  ) {}

  submit(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.options.concurrency || !this.waiting.length) return;
    this.scheduled = true;
    // After the I/O callbacks of this turn, so requests that arrived together go together.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.running >= this.options.concurrency || !this.waiting.length) return;
    const batch = this.waiting.splice(0, this.options.maxItems);
    this.running++;
    this.schedule(); // more waiting than one batch takes, and room for another
    try {
      const results = await this.work(batch.map((entry) => entry.item));
      batch.forEach((entry, i) => (results[i] instanceof Error ? entry.reject(results[i]) : entry.resolve(results[i] as Result)));
    } catch (err) {
      for (const entry of batch) entry.reject(err);
    } finally {
      this.running--;
      this.schedule();
    }
  }
}
