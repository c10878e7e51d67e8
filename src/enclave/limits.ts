/**
 * Bounds on the outbound work an anonymous request can cause (DESIGN.md
 * "Resource rules"). Beyond a bound the request is refused at once with
 * `RateLimited` (HTTP 429): nothing waits without limit, nothing is dropped
 * half-done.
 */
import { EncumberError } from '../errors.ts';

/** Slots for work in flight, taken several at a time, all or none. */
export class InFlightBound {
  readonly #max: number;
  #used = 0;

  readonly what: string;

  constructor(max: number, what: string) {
    this.what = what;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`${what}: bound must be a positive integer, got ${max}`);
    this.#max = max;
  }

  get inFlight(): number {
    return this.#used;
  }

  /** Take `n` slots, or refuse (taking none) when that would pass the bound. */
  acquire(n: number): void {
    if (this.#used + n > this.#max) {
      throw new EncumberError('RateLimited', `${this.what}: ${this.#used} in flight, ${n} more would exceed the bound of ${this.#max}; retry later`, {
        expected: this.#max,
        actual: this.#used + n,
      });
    }
    this.#used += n;
  }

  release(n = 1): void {
    this.#used = Math.max(0, this.#used - n);
  }
}

/**
 * At most `concurrency` tasks run, at most `maxQueued` wait their turn (in
 * arrival order); a task beyond both is refused with `RateLimited`.
 */
export class BoundedQueue {
  readonly #concurrency: number;
  readonly #maxQueued: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  readonly what: string;

  constructor(opts: { concurrency: number; maxQueued: number }, what: string) {
    this.what = what;
    if (!Number.isSafeInteger(opts.concurrency) || opts.concurrency < 1) throw new RangeError(`${what}: concurrency must be a positive integer`);
    if (!Number.isSafeInteger(opts.maxQueued) || opts.maxQueued < 0) throw new RangeError(`${what}: maxQueued must be a non-negative integer`);
    this.#concurrency = opts.concurrency;
    this.#maxQueued = opts.maxQueued;
  }

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /** Run `task` when a slot is free; refuses synchronously (a rejected promise) when the queue is full. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#concurrency) {
      if (this.#waiting.length >= this.#maxQueued) {
        throw new EncumberError('RateLimited', `${this.what}: ${this.#running} running and ${this.#waiting.length} queued (the bound); retry later`, {
          expected: this.#maxQueued,
          actual: this.#waiting.length + 1,
        });
      }
      await new Promise<void>((start) => this.#waiting.push(start));
    } else {
      this.#running++;
    }
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter (the running count stays), or free it.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
