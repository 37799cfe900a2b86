import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { PersonalDataRegistry } from '../../common/personal-data';
import { UnitOfWork } from '../../database/unit-of-work';
import { ExchangeItem } from '../entities/exchange-item.entity';
import { ExchangeAdoption, ExchangeHelpfulVote, ExchangeSave } from '../entities/exchange-signals.entity';

type ItemRef = Pick<ExchangeItem, 'slug' | 'kind' | 'title' | 'status'>;
const itemOf = (row: { item?: unknown }) => {
  const i = row.item as ItemRef;
  return { slug: i.slug, kind: i.kind, title: i.title, status: i.status };
};

/**
 * The exchange signals' personal data: the items the person marked helpful, the items they saved, and the adoptions
 * they recorded for their organisations. Erasing deletes their votes and saves (each item's count drops by one, in the
 * same transaction); an adoption is their organisation's, so it stays, no longer saying who recorded it.
 */
@Injectable()
export class SignalsPersonalData implements OnModuleInit {
  constructor(
    private readonly registry: PersonalDataRegistry,
    private readonly uow: UnitOfWork,
    @InjectRepository(ExchangeHelpfulVote) private readonly votes: Repository<ExchangeHelpfulVote>,
    @InjectRepository(ExchangeSave) private readonly saves: Repository<ExchangeSave>,
    @InjectRepository(ExchangeAdoption) private readonly adoptions: Repository<ExchangeAdoption>,
  ) {}

  onModuleInit(): void {
    this.registry.register({
      name: 'exchangeSignals',
      description: 'The case studies, tools and hacks you marked helpful or saved, and the adoptions you recorded for your organisations (with their notes)',
      export: async (userId) => {
        const itemColumns = ['i.id', 'i.slug', 'i.kind', 'i.title', 'i.status'];
        const [votes, saves, adoptions] = await Promise.all([
          this.votes.createQueryBuilder('v').innerJoin('v.item', 'i').select(['v.id', 'v.createdAt', ...itemColumns]).where('v.userId = :userId', { userId }).orderBy('v.id').getMany(),
          this.saves.createQueryBuilder('s').innerJoin('s.item', 'i').select(['s.id', 's.createdAt', ...itemColumns]).where('s.userId = :userId', { userId }).orderBy('s.id').getMany(),
          this.adoptions
            .createQueryBuilder('a')
            .innerJoin('a.item', 'i')
            .innerJoin('a.organisation', 'o')
            .select(['a.id', 'a.note', 'a.createdAt', 'a.updatedAt', 'o.id', 'o.name', ...itemColumns])
            .where('a.recordedById = :userId', { userId })
            .orderBy('a.id')
            .getMany(),
        ]);
        return {
          helpful: votes.map((v) => ({ item: itemOf(v), markedAt: v.createdAt })),
          saved: saves.map((s) => ({ item: itemOf(s), savedAt: s.createdAt })),
          adoptionsRecorded: adoptions.map((a) => {
            const o = a.organisation as { id: number; name: string };
            return { item: itemOf(a), organisation: { id: o.id, name: o.name }, note: a.note, recordedAt: a.createdAt, updatedAt: a.updatedAt };
          }),
        };
      },
      erase: async (tx, userId) => {
        // Locked first, so that a vote or save being taken back at this moment is not counted down twice.
        const votes = await this.uow.lockAllForUpdate(tx, ExchangeHelpfulVote, [{ userId }]);
        const saves = await this.uow.lockAllForUpdate(tx, ExchangeSave, [{ userId }]);
        const items = tx.getRepository(ExchangeItem);
        if (votes.length) {
          await items.decrement({ id: In(votes.map((v) => v.itemId)) }, 'helpfulCount', 1);
          await tx.getRepository(ExchangeHelpfulVote).delete({ id: In(votes.map((v) => v.id)) });
        }
        if (saves.length) {
          await items.decrement({ id: In(saves.map((s) => s.itemId)) }, 'saveCount', 1);
          await tx.getRepository(ExchangeSave).delete({ id: In(saves.map((s) => s.id)) });
        }
        const kept = (await tx.getRepository(ExchangeAdoption).update({ recordedById: userId }, { recordedById: null })).affected ?? 0;
        return { counts: { exchangeHelpfulVotes: votes.length, exchangeSaves: saves.length, exchangeAdoptionsKept: kept } };
      },
    });
  }
}
