import { Injectable } from '@nestjs/common';
import { RateLimiter } from '../accounts/rate-limiter';
import type { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';

/**
 * Certificate lookups per IP address and minute: enough for people, too few to walk the code space. One budget for
 * every door to a certificate by its code, found or not: the verify page and API, and the Open Badges assertion,
 * baked badge and badge class.
 */
@Injectable()
export class VerificationThrottle {
  constructor(
    private readonly limiter: RateLimiter,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  hit(ip: string): Promise<void> {
    return this.limiter.hit(`verify:ip:${ip}`, this.config.verifyRateLimitPerMinute, 60);
  }
}
