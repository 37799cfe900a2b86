import { Injectable, Module } from '@nestjs/common';

export interface CertificateLink {
  code: string;
  downloadPath: string;
  verifyPath: string;
}

export type CertificateFinder = (userId: number, subjectType: 'course' | 'webinar', subjectId: number) => Promise<CertificateLink | null>;

/**
 * A port for pages outside the certificates module that show a learner's certificate for something (the
 * course page, the webinar page). The certificates module depends on learning, so learning cannot import it;
 * instead both import this small module, and the certificates module plugs its lookup in when it starts.
 */
@Injectable()
export class CertificateDirectory {
  private finder: CertificateFinder | null = null;

  /** Called once, by the certificates module. */
  use(finder: CertificateFinder): void {
    this.finder = finder;
  }

  /** The holder's current certificate for a subject: its code and paths, or null while it is being prepared. */
  find(userId: number, subjectType: 'course' | 'webinar', subjectId: number): Promise<CertificateLink | null> {
    if (!this.finder) throw new Error('No certificates module has registered with the CertificateDirectory');
    return this.finder(userId, subjectType, subjectId);
  }
}

@Module({ providers: [CertificateDirectory], exports: [CertificateDirectory] })
export class CertificateDirectoryModule {}
