import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, IsNull, Not, Repository } from 'typeorm';
import { EXPORT_PAGE_SIZE, pagedRows, PersonalDataRegistry } from '../../common/personal-data';
import { PeerBlock, PeerMessage, PeerProfile, PeerProfileSystem, PeerProfileTopic } from '../entities/peer.entities';
import { ExchangeVocabulary } from '../exchange-vocabulary';

type Named = { id: number; name: string } | undefined;

/**
 * The peers part's personal data: the person's peer profile (with its systems and topics), the messages they sent and
 * received through the contact relay, and the people they blocked. Who blocked them is not theirs to see, so it is
 * not exported; erasing removes those blocks too, with everything else here (the conversations go for both people:
 * each message is between the erased person and one other).
 */
@Injectable()
export class PeersPersonalData implements OnModuleInit {
  constructor(
    private readonly registry: PersonalDataRegistry,
    private readonly vocabulary: ExchangeVocabulary,
    @InjectRepository(PeerProfile) private readonly profiles: Repository<PeerProfile>,
    @InjectRepository(PeerProfileSystem) private readonly systems: Repository<PeerProfileSystem>,
    @InjectRepository(PeerProfileTopic) private readonly topics: Repository<PeerProfileTopic>,
    @InjectRepository(PeerMessage) private readonly messages: Repository<PeerMessage>,
    @InjectRepository(PeerBlock) private readonly blocks: Repository<PeerBlock>,
  ) {}

  onModuleInit(): void {
    this.registry.register(
      {
        name: 'peerProfile',
        description: 'Your peer profile: whether it is listed, your bio, the systems you have worked with, the topics you can help with and whether others may contact you',
        export: async (userId) => {
          const [profile, systemRows, topicRows, topics] = await Promise.all([
            this.profiles.findOne({ where: { userId } }),
            this.systems.find({ where: { userId }, select: { systemId: true }, order: { systemId: 'ASC' } }),
            this.topics.find({ where: { userId }, select: { topicId: true }, order: { topicId: 'ASC' } }),
            this.vocabulary.topics(),
          ]);
          if (!profile) return null;
          const systems = await this.vocabulary.systemsById(systemRows.map((s) => s.systemId));
          return {
            listed: !!profile.listed,
            bio: profile.bio,
            openToContact: !!profile.openToContact,
            systems: systemRows.flatMap((s) => {
              const system = systems.get(s.systemId);
              return system ? [{ slug: system.slug, name: system.name, supplier: system.supplier }] : [];
            }),
            topics: topicRows.flatMap((t) => {
              const topic = topics.find((x) => x.id === t.topicId);
              return topic ? [{ slug: topic.slug, name: topic.name }] : [];
            }),
            createdAt: profile.createdAt,
            updatedAt: profile.updatedAt,
          };
        },
        erase: async (tx, userId) => ({
          counts: {
            peerProfileSystems: (await tx.getRepository(PeerProfileSystem).delete({ userId })).affected ?? 0,
            peerProfileTopics: (await tx.getRepository(PeerProfileTopic).delete({ userId })).affected ?? 0,
            peerProfiles: (await tx.getRepository(PeerProfile).delete({ userId })).affected ?? 0,
          },
        }),
      },
      {
        name: 'peerMessages',
        description: 'The messages you sent to other peers and received from them through the academy, with who they were between and when',
        export: (userId) =>
          pagedRows(
            (after: PeerMessage | null) =>
              this.messages
                .createQueryBuilder('m')
                .leftJoin('m.sender', 's')
                .leftJoin('m.recipient', 'r')
                .select(['m.id', 'm.senderId', 'm.recipientId', 'm.inReplyToId', 'm.subject', 'm.body', 'm.createdAt', 's.id', 's.name', 'r.id', 'r.name'])
                .where(new Brackets((b) => b.where('m.senderId = :userId', { userId }).orWhere('m.recipientId = :userId', { userId })))
                .andWhere('m.id > :after', { after: after?.id ?? 0 })
                .orderBy('m.id')
                .limit(EXPORT_PAGE_SIZE)
                .getMany(),
            (m) => {
              const sent = m.senderId === userId;
              const other = (sent ? m.recipient : m.sender) as Named;
              return {
                id: m.id,
                direction: sent ? 'sent' : 'received',
                with: { id: sent ? m.recipientId : m.senderId, name: other?.name ?? null },
                inReplyTo: m.inReplyToId,
                subject: m.subject,
                body: m.body,
                sentAt: m.createdAt,
              };
            },
          ),
        erase: async (tx, userId) => {
          const repository = tx.getRepository(PeerMessage);
          // Replies first: they point at the message that began their conversation.
          const replies =
            ((await repository.delete({ senderId: userId, inReplyToId: Not(IsNull()) })).affected ?? 0) + ((await repository.delete({ recipientId: userId, inReplyToId: Not(IsNull()) })).affected ?? 0);
          const started = ((await repository.delete({ senderId: userId })).affected ?? 0) + ((await repository.delete({ recipientId: userId })).affected ?? 0);
          return { counts: { peerMessages: replies + started } };
        },
      },
      {
        name: 'peerBlocks',
        description: 'The people you stopped from contacting you through the academy, and when',
        export: async (userId) => {
          const rows = await this.blocks
            .createQueryBuilder('b')
            .leftJoin('b.blocked', 'u')
            .select(['b.id', 'b.blockedId', 'b.createdAt', 'u.id', 'u.name'])
            .where('b.blockerId = :userId', { userId })
            .orderBy('b.id')
            .getMany();
          return rows.map((b) => ({ person: { id: b.blockedId, name: (b.blocked as Named)?.name ?? null }, blockedAt: b.createdAt }));
        },
        erase: async (tx, userId) => ({
          counts: {
            peerBlocks: ((await tx.getRepository(PeerBlock).delete({ blockerId: userId })).affected ?? 0) + ((await tx.getRepository(PeerBlock).delete({ blockedId: userId })).affected ?? 0),
          },
        }),
      },
    );
  }
}
