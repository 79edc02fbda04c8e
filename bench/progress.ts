// The progress line on stderr: suite i/n, its name, elapsed time and an estimate of the time
// left (from the previous run's durations, or the suites' size weights). On a TTY one line
// redrawn with \r every second; otherwise plain lines as suites start and end.

export const clock = (ms: number): string => {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

type Out = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export class Progress {
  private readonly t0 = Date.now();
  private suiteT0 = Date.now();
  private current = -1;
  private timer: NodeJS.Timeout | undefined;
  private readonly tty: boolean;
  /** The suite's latest output line (it names the size being measured). */
  private last = '';

  constructor(
    private readonly out: Out,
    private readonly names: readonly string[],
    /** Estimated ms per suite. */
    private readonly estimates: readonly number[],
  ) {
    this.tty = out.isTTY === true;
  }

  /** ms left: the rest of the current suite's estimate plus every later suite's. */
  left(now = Date.now()): number {
    if (this.current < 0) return this.estimates.reduce((a, b) => a + b, 0);
    const inSuite = now - this.suiteT0;
    let ms = Math.max(0, (this.estimates[this.current] ?? 0) - inSuite);
    for (let i = this.current + 1; i < this.estimates.length; i++) ms += this.estimates[i]!;
    return ms;
  }

  line(now = Date.now()): string {
    const i = this.current;
    return (
      `[${i + 1}/${this.names.length}] ${this.names[i] ?? ''}  ` +
      `${clock(now - this.suiteT0)} (total ${clock(now - this.t0)})  ~${clock(this.left(now))} left` +
      (this.last === '' ? '' : `  | ${this.last}`)
    );
  }

  /** The suite printed a line: shown after the times on a terminal. */
  note(line: string): void {
    const l = line.trim().replace(/\s+/g, ' ');
    if (l !== '' && !l.startsWith('BENCH_JSON')) this.last = l;
  }

  start(i: number): void {
    this.current = i;
    this.last = '';
    this.suiteT0 = Date.now();
    if (this.tty) {
      this.draw();
      this.timer ??= setInterval(() => this.draw(), 1000);
      this.timer.unref();
    } else {
      this.out.write(`${this.line()}\n`);
    }
  }

  finish(i: number, status: string, reason?: string): void {
    const took = clock(Date.now() - this.suiteT0);
    const why = reason !== undefined ? `: ${reason}` : '';
    const msg = `[${i + 1}/${this.names.length}] ${this.names[i]} ${status} in ${took}${why}`;
    this.out.write(this.tty ? `\r\x1b[K${msg}\n` : `${msg}\n`);
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private draw(): void {
    const width = this.out.columns || 100;
    this.out.write(`\r\x1b[K${this.line().slice(0, width - 1)}`);
  }
}
