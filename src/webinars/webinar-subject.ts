import { cpdHours } from '../catalogue/catalogue.service';
import type { CertificateFacts, CertificateSubject } from '../certificates/certificate-subjects';
import type { EntityManager, Repository } from 'typeorm';
import type { AttendanceService } from './attendance.service';
import type { Webinar } from './entities';

/** Webinars as certificate subjects: the reference is a credited attendance (live or by the recording). */
export class WebinarCertificateSubject implements CertificateSubject {
  readonly type = 'webinar' as const;

  constructor(
    private readonly attendance: AttendanceService,
    private readonly webinars: Repository<Webinar>,
  ) {}

  async facts(attendanceId: number): Promise<CertificateFacts | null> {
    const row = await this.attendance.credited(attendanceId);
    if (!row?.creditedAt) return null;
    const webinar = await this.webinars.findOneBy({ id: row.webinarId });
    if (!webinar || webinar.status === 'draft') return null;
    return { userId: row.userId, subjectType: 'webinar', subjectId: webinar.id, subjectTitle: webinar.title, cpdMinutes: webinar.cpdMinutes, achievedAt: row.creditedAt };
  }

  issued(attendanceId: number, tx?: EntityManager): Promise<void> {
    return this.attendance.recordCertificate(attendanceId, tx);
  }

  async summary(webinarId: number) {
    const webinar = await this.webinars.findOneBy({ id: webinarId });
    if (!webinar) return null;
    return {
      title: webinar.title,
      description: `Attendance at the webinar “${webinar.title}” (${cpdHours(webinar.cpdMinutes)} CPD hours).`,
      criteria: `Attend the live webinar for at least ${webinar.minAttendanceMinutes} minutes, or watch most of its recording.`,
      cpdMinutes: webinar.cpdMinutes,
      path: `/webinars/${webinar.slug}`,
    };
  }
}
