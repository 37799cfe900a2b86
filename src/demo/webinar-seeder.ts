import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { storedFileReader, mp4DurationSeconds } from '../catalogue/authoring/video-duration';
import { Topic } from '../catalogue/entities/topic.entity';
import { londonFields, londonToUtc } from '../common/london-time';
import type { FileStorage } from '../storage/file-storage';
import { Webinar } from '../webinars/entities';

/** One demo webinar, as written in src/demo/content/webinars/<slug>.json. Times are relative to the seeding. */
export interface WebinarDefinition {
  slug: string;
  title: string;
  summary: string;
  /** Markdown. */
  description: string;
  /** "Name, role and organisation", one per presenter. */
  presenters: string[];
  /** A topic by name, as in the course definitions (found or created by slug). */
  topic: string;
  /** Days from the day of seeding (negative: in the past), in London. */
  startsInDays: number;
  /** London wall-clock time, "HH:MM". */
  startTime: string;
  durationMinutes: number;
  capacity: number;
  joinUrl: string;
  cpdHours: number;
  minAttendanceMinutes: number;
  /** An uploaded recording: a file of src/demo/content (stored as `demo/<path>`, like course media). */
  recording?: string;
  /** Its WebVTT captions, likewise. */
  captions?: string;
}

const slugify = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
const DAY_MS = 24 * 3600_000;

/** The definitions in `dir`, sorted by file name. */
export function webinarDefinitions(dir: string): WebinarDefinition[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as WebinarDefinition);
}

/**
 * Creates the demo webinars, published ('scheduled'), by the demo author: upcoming ones in the days ahead and
 * past ones, one of them with the demo video as its recording. A webinar whose slug exists is left alone, so
 * this is safe at every start. The demo files must already be in storage (see copyDemoFiles). No reminders
 * are scheduled and nobody is e-mailed: the demo starts with no registrants. Returns how many were created.
 */
export async function seedDemoWebinars(dataSource: DataSource, storage: FileStorage, authorId: number, dir: string, now: Date): Promise<number> {
  const webinars = dataSource.getRepository(Webinar);
  const topics = dataSource.getRepository(Topic);
  let created = 0;
  for (const definition of webinarDefinitions(dir)) {
    if (await webinars.existsBy({ slug: definition.slug })) continue;
    const topicSlug = slugify(definition.topic);
    const topic = (await topics.findOneBy({ slug: topicSlug })) ?? (await topics.save(topics.create({ slug: topicSlug, name: definition.topic })));
    const day = londonFields(new Date(now.getTime() + definition.startsInDays * DAY_MS)).date;
    const startsAt = londonToUtc(day, definition.startTime);
    const recording = definition.recording ? await recordingOf(storage, `demo/${definition.recording}`) : null;
    const ended = startsAt.getTime() + definition.durationMinutes * 60_000 <= now.getTime();
    try {
      await webinars.insert({
        slug: definition.slug,
        title: definition.title,
        summary: definition.summary,
        description: definition.description,
        presenters: definition.presenters.join('\n'),
        topicId: topic.id,
        startsAt,
        durationMinutes: definition.durationMinutes,
        capacity: definition.capacity,
        joinUrl: definition.joinUrl,
        streamUrl: null,
        status: 'scheduled',
        cpdMinutes: Math.round(definition.cpdHours * 60),
        minAttendanceMinutes: definition.minAttendanceMinutes,
        recordingKey: recording && ended ? recording.key : null,
        recordingType: recording && ended ? 'video/mp4' : null,
        recordingSeconds: recording && ended ? recording.seconds : null,
        recordingCaptionsKey: recording && ended && definition.captions ? `demo/${definition.captions}` : null,
        recordingUrl: null,
        recordingAddedAt: recording && ended ? new Date(Math.min(now.getTime(), startsAt.getTime() + DAY_MS)) : null,
        sequence: 0,
        cancelReason: null,
        cancelledAt: null,
        authorId,
        createdAt: now,
        updatedAt: now,
      });
      created++;
    } catch (err) {
      // Another process seeding at the same moment made it first.
      if (await webinars.existsBy({ slug: definition.slug })) continue;
      throw err;
    }
  }
  return created;
}

async function recordingOf(storage: FileStorage, key: string): Promise<{ key: string; seconds: number } | null> {
  const size = await storage.size(key);
  if (!size) return null;
  const seconds = await mp4DurationSeconds(storedFileReader(storage, key, size), size);
  return seconds ? { key, seconds } : null;
}
