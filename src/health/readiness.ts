import { Injectable } from '@nestjs/common';

/**
 * Whether this web process wants new requests. On SIGTERM it starts draining: `/health/ready` answers 503 so that the
 * load balancer stops sending requests here, while those already sent are still served (see main.ts).
 */
@Injectable()
export class Readiness {
  private isDraining = false;

  get draining(): boolean {
    return this.isDraining;
  }

  drain(): void {
    this.isDraining = true;
  }
}
