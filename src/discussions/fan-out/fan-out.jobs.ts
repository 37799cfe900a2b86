import { Injectable } from '@nestjs/common';
import { JobHandler } from '../../jobs/job-handler.decorator';
import type { JobData, JobHandler as Handler } from '../../jobs/job-registry';
import { PostFanOut } from './post-fan-out';

declare module '../../jobs/job-registry' {
  interface JobRegistry {
    /** Enqueues again the fan-outs of visible posts still not fanned out a minute after they were written. */
    'discussions.fan-out-sweep': Record<string, never>;
  }
}

@Injectable()
@JobHandler('discussions.fan-out')
export class FanOutJob implements Handler<'discussions.fan-out'> {
  constructor(private readonly fanOut: PostFanOut) {}

  async handle({ postId }: JobData<'discussions.fan-out'>): Promise<void> {
    await this.fanOut.fanOut(postId);
  }
}

@Injectable()
@JobHandler('discussions.accepted')
export class AcceptedAnswerJob implements Handler<'discussions.accepted'> {
  constructor(private readonly fanOut: PostFanOut) {}

  async handle({ postId }: JobData<'discussions.accepted'>): Promise<void> {
    await this.fanOut.accepted(postId);
  }
}

@Injectable()
@JobHandler('discussions.fan-out-sweep', { everyMs: 60_000, sweep: true })
export class FanOutSweepJob implements Handler<'discussions.fan-out-sweep'> {
  constructor(private readonly fanOut: PostFanOut) {}

  async handle(): Promise<void> {
    await this.fanOut.sweep();
  }
}
