import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { Clock } from '../../common/clock';
import { ValidationFailed, type FieldErrors } from '../../common/errors';
import { UnitOfWork } from '../../database/unit-of-work';
import { PeerProfile, PeerProfileSystem, PeerProfileTopic } from '../entities/peer.entities';
import { SYSTEM_CATEGORIES, type SystemCategory } from '../exchange-kinds';
import { ExchangeVocabulary, type SystemOption } from '../exchange-vocabulary';
import { NO_MEMBERSHIP_MESSAGE, PeerDirectory } from './peer-directory.service';
import type { PeerProfileFormDto } from './peers.dto';

/** The person's own profile as the form shows it. */
export interface OwnProfile {
  exists: boolean;
  listed: boolean;
  bio: string;
  openToContact: boolean | null;
  systemIds: number[];
  topicIds: number[];
  updatedAt: Date | null;
}

/** What the form offers: the systems by category (retired ones only where the person already has them), the topics. */
export interface ProfileChoices {
  systemGroups: Array<{ category: SystemCategory; label: string; systems: Array<SystemOption & { retired: boolean }> }>;
  topics: Array<{ id: number; slug: string; name: string }>;
}

export type SaveOutcome = 'created' | 'saved' | 'unchanged';

const sameSet = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * A person's own peer profile: opting in to the list (off until they say so), a short bio, the systems they have worked
 * with, the topics they can help with and whether others may contact them. Saving what is already saved changes
 * nothing (no write, the same updated time). Listing needs an active membership, as contacting does.
 */
@Injectable()
export class PeerProfiles {
  constructor(
    @InjectRepository(PeerProfile) private readonly profiles: Repository<PeerProfile>,
    @InjectRepository(PeerProfileSystem) private readonly systems: Repository<PeerProfileSystem>,
    @InjectRepository(PeerProfileTopic) private readonly topics: Repository<PeerProfileTopic>,
    private readonly vocabulary: ExchangeVocabulary,
    private readonly directory: PeerDirectory,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
  ) {}

  async own(userId: number): Promise<OwnProfile> {
    const [profile, systems, topics] = await Promise.all([
      this.profiles.findOne({ where: { userId } }),
      this.systems.find({ where: { userId }, select: { systemId: true }, order: { systemId: 'ASC' } }),
      this.topics.find({ where: { userId }, select: { topicId: true }, order: { topicId: 'ASC' } }),
    ]);
    return {
      exists: !!profile,
      listed: !!profile?.listed,
      bio: profile?.bio ?? '',
      openToContact: profile ? !!profile.openToContact : null,
      systemIds: systems.map((s) => s.systemId),
      topicIds: topics.map((t) => t.topicId),
      updatedAt: profile?.updatedAt ?? null,
    };
  }

  /** The systems offered (current ones, plus retired ones the person already has), grouped by category, and the topics. */
  async choices(selectedSystemIds: readonly number[]): Promise<ProfileChoices> {
    const [current, topics] = await Promise.all([this.vocabulary.currentSystems(), this.vocabulary.topics()]);
    const currentIds = new Set(current.map((s) => s.id));
    const retired = [...(await this.vocabulary.systemsById(selectedSystemIds.filter((id) => !currentIds.has(id)))).values()];
    const all = [...current.map((s) => ({ ...s, retired: false })), ...retired.map((s) => ({ ...s, retired: true }))];
    const systemGroups = (Object.keys(SYSTEM_CATEGORIES) as SystemCategory[])
      .map((category) => ({ category, label: SYSTEM_CATEGORIES[category], systems: all.filter((s) => s.category === category).sort((a, b) => a.label.localeCompare(b.label)) }))
      .filter((g) => g.systems.length);
    return { systemGroups, topics };
  }

  /**
   * Saves the form. Systems must be on the moderators' list (a retired one the person already had may stay), topics
   * the catalogue's. One transaction that holds the person's account row, so a double submit makes one profile.
   */
  async save(userId: number, form: PeerProfileFormDto): Promise<SaveOutcome> {
    const listed = form.listed === 'yes';
    const openToContact = form.openToContact === 'yes';
    const bio = form.bio ?? '';
    const systemIds = [...new Set(form.systems)].sort((a, b) => a - b);
    const topicIds = [...new Set(form.topics)].sort((a, b) => a - b);
    const errors: FieldErrors = {};
    const before = await this.own(userId);
    // Listing needs a membership. A profile listed before its person left stays marked listed (it is hidden while
    // they are in no organisation, and shown again when they rejoin), so saving it unchanged is not refused.
    if (listed && !before.listed && !(await this.directory.hasActiveMembership(userId))) errors.listed = NO_MEMBERSHIP_MESSAGE;
    const current = new Set((await this.vocabulary.currentSystems()).map((s) => s.id));
    if (systemIds.some((id) => !current.has(id) && !before.systemIds.includes(id))) errors.systems = 'Choose systems from the list';
    const topics = new Set((await this.vocabulary.topics()).map((t) => t.id));
    if (topicIds.some((id) => !topics.has(id))) errors.topics = 'Choose topics from the list';
    if (Object.keys(errors).length) throw new ValidationFailed(errors);

    return this.uow.run(async (tx) => {
      await this.uow.lockForUpdate(tx, 'User', { id: userId });
      const profile = await tx.getRepository(PeerProfile).findOne({ where: { userId } });
      const [haveSystems, haveTopics] = await Promise.all([
        tx.getRepository(PeerProfileSystem).find({ where: { userId }, select: { id: true, systemId: true } }),
        tx.getRepository(PeerProfileTopic).find({ where: { userId }, select: { id: true, topicId: true } }),
      ]);
      const fieldsSame = !!profile && !!profile.listed === listed && !!profile.openToContact === openToContact && profile.bio === bio;
      const systemsSame = sameSet(haveSystems.map((s) => s.systemId), systemIds);
      const topicsSame = sameSet(haveTopics.map((t) => t.topicId), topicIds);
      if (fieldsSame && systemsSame && topicsSame) return 'unchanged';
      const now = this.clock.now();
      if (profile) await tx.getRepository(PeerProfile).update({ id: profile.id }, { listed, openToContact, bio, updatedAt: now });
      else await tx.getRepository(PeerProfile).insert({ userId, listed, openToContact, bio, createdAt: now, updatedAt: now });
      if (!systemsSame) {
        const gone = haveSystems.filter((s) => !systemIds.includes(s.systemId)).map((s) => s.id);
        if (gone.length) await tx.getRepository(PeerProfileSystem).delete({ id: In(gone) });
        const added = systemIds.filter((id) => !haveSystems.some((s) => s.systemId === id));
        if (added.length) await tx.getRepository(PeerProfileSystem).insert(added.map((systemId) => ({ userId, systemId })));
      }
      if (!topicsSame) {
        const gone = haveTopics.filter((t) => !topicIds.includes(t.topicId)).map((t) => t.id);
        if (gone.length) await tx.getRepository(PeerProfileTopic).delete({ id: In(gone) });
        const added = topicIds.filter((id) => !haveTopics.some((t) => t.topicId === id));
        if (added.length) await tx.getRepository(PeerProfileTopic).insert(added.map((topicId) => ({ userId, topicId })));
      }
      return profile ? 'saved' : 'created';
    });
  }

  /** Deletes the profile with its systems and topics (conversations and blocks stay); false when there was none. */
  async remove(userId: number): Promise<boolean> {
    return this.uow.run(async (tx) => {
      await tx.getRepository(PeerProfileSystem).delete({ userId });
      await tx.getRepository(PeerProfileTopic).delete({ userId });
      return ((await tx.getRepository(PeerProfile).delete({ userId })).affected ?? 0) > 0;
    });
  }
}
