// kube-proxy's BoundedFrequencyRunner (pkg/util/async/bounded_frequency_runner.go) on the
// virtual clock. run() asks for a run "soon": requests made at the same instant fold
// into one (the real one's buffered channel of size 1); runs are rate-limited by a token
// bucket of `burstRuns` tokens refilled one per `minInterval` (--iptables-min-sync-period),
// a refused request is retried when the next token is due, and a run happens at least
// every `maxInterval` (--iptables-sync-period) even with nothing requested.
import { TimerPriority } from './clock.ts';
import type { TimerHandle, VirtualClock } from './clock.ts';

export interface BoundedFrequencyRunnerOptions {
  minIntervalNs: number;
  maxIntervalNs: number;
  burstRuns: number;
}

export interface RunnerStats {
  /** Times fn ran. */
  runs: number;
  /** run() calls. */
  requested: number;
  /** run() calls folded into an already pending request. */
  coalesced: number;
  /** Attempts refused by the rate limit (and rescheduled). */
  deferred: number;
  /** Runs caused by maxInterval rather than a request. */
  periodic: number;
}

export class BoundedFrequencyRunner {
  readonly stats: RunnerStats = { runs: 0, requested: 0, coalesced: 0, deferred: 0, periodic: 0 };
  private immediate: TimerHandle | undefined;
  private timer: TimerHandle | undefined;
  /** Token bucket content in nanoseconds of refill (one token = minInterval). */
  private budget: number;
  private refilledAt: number;
  private wanted = false;
  private stopped = false;

  constructor(
    private readonly clock: VirtualClock,
    private readonly fn: () => void,
    private readonly opts: BoundedFrequencyRunnerOptions,
  ) {
    if (opts.burstRuns < 1) throw new RangeError('burstRuns must be >= 1');
    if (opts.maxIntervalNs <= 0 || opts.minIntervalNs > opts.maxIntervalNs) {
      throw new RangeError('need 0 <= minInterval <= maxInterval, maxInterval > 0');
    }
    this.budget = opts.burstRuns * opts.minIntervalNs;
    this.refilledAt = clock.now();
  }

  /** Begin the periodic schedule (the Loop goroutine starting). */
  start(): void {
    if (this.timer === undefined) this.arm(this.clock.now() + this.opts.maxIntervalNs);
  }

  stop(): void {
    this.stopped = true;
    this.clock.cancel(this.timer);
    this.clock.cancel(this.immediate);
    this.timer = this.immediate = undefined;
  }

  /** Request a run as soon as the rate limit allows. */
  run(): void {
    if (this.stopped) return;
    this.stats.requested++;
    if (this.immediate !== undefined || this.wanted) {
      this.stats.coalesced++;
      return;
    }
    this.immediate = this.clock.after(
      0,
      () => {
        this.immediate = undefined;
        this.tryRun(false);
      },
      TimerPriority.Late,
    );
  }

  private tryRun(periodic: boolean): void {
    const now = this.clock.now();
    const cap = this.opts.burstRuns * this.opts.minIntervalNs;
    this.budget = Math.min(cap, this.budget + (now - this.refilledAt));
    this.refilledAt = now;
    if (this.budget >= this.opts.minIntervalNs) {
      this.budget -= this.opts.minIntervalNs;
      this.wanted = false;
      this.stats.runs++;
      if (periodic) this.stats.periodic++;
      this.arm(now + this.opts.maxIntervalNs);
      this.fn();
      return;
    }
    // Not yet: come back when the next token is due (if that is before the next run).
    this.stats.deferred++;
    this.wanted = true;
    const due = now + (this.opts.minIntervalNs - this.budget);
    if (this.timer === undefined || due < this.timer.at) this.arm(due);
  }

  private arm(at: number): void {
    if (this.stopped) return;
    this.clock.cancel(this.timer);
    this.timer = this.clock.schedule(
      at,
      () => {
        this.timer = undefined;
        this.tryRun(!this.wanted);
      },
      TimerPriority.Late,
    );
  }
}
