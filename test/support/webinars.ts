import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Webinar } from '../../src/webinars/entities';
import type { TestApp } from './app';

/**
 * A scheduled webinar written straight to the database (no e-mails, no reminder jobs), for tests that need
 * one in a given state. Everything not given is a plausible default; the slug is unique.
 */
export async function saveWebinar(t: TestApp, fields: Partial<Webinar> & { authorId: number; startsAt: Date }): Promise<Webinar> {
  const repo = t.app.get(DataSource).getRepository(Webinar);
  const now = new Date();
  const title = fields.title ?? 'Clinical safety in practice';
  return repo.save(
    repo.create({
      slug: `${title.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 80)}-${randomBytes(4).toString('hex')}`,
      title,
      summary: `What ${title} is about`,
      description: '## Agenda\n\nTalk and questions.',
      presenters: 'Dr Ada Byron, CCIO\nSam Patel, clinical safety officer',
      topicId: null,
      durationMinutes: 60,
      capacity: 10,
      joinUrl: 'https://meet.example.org/abc',
      streamUrl: null,
      status: 'scheduled',
      cpdMinutes: 60,
      minAttendanceMinutes: 45,
      recordingKey: null,
      recordingType: null,
      recordingSeconds: null,
      recordingCaptionsKey: null,
      recordingUrl: null,
      recordingAddedAt: null,
      sequence: 0,
      cancelReason: null,
      cancelledAt: null,
      createdAt: now,
      updatedAt: now,
      ...fields,
    }),
  );
}
