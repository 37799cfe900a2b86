import { Global, Injectable, Module } from '@nestjs/common';

/**
 * The time, from one place. Features that reason about time (video allowances, reminders, expiry) ask the
 * clock rather than `new Date()`, so tests can move time instead of sleeping: `clock.travel(ms)`.
 */
@Injectable()
export class Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  /** Moves this process's clock forward (or back). For tests and benchmarks; nothing in the app calls it. */
  travel(ms: number): void {
    this.offsetMs += ms;
  }
}

@Global()
@Module({ providers: [Clock], exports: [Clock] })
export class ClockModule {}
