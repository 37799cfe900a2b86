/**
 * A port for pages outside the certificates module that show a learner's certificate for something
 * (the course page). The certificates module provides it; keeping it here avoids an import cycle.
 */
export abstract class CertificateDirectory {
  /** The holder's current certificate for a subject: its code and download path, or null while it is being prepared. */
  abstract find(userId: number, subjectType: 'course' | 'webinar', subjectId: number): Promise<{ code: string; downloadPath: string; verifyPath: string } | null>;
}
