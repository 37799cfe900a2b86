import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { PersonalDataRegistry } from '../common/personal-data';
import { Membership } from './entities/membership.entity';

/**
 * The organisations module's personal data: the person's memberships (which organisations they asked to join or
 * belong to, and whether they manage one). Erasing deletes them, so no manager sees the person any more. A deleted
 * manager's approvals of other people's memberships keep the account's id (the row now says "Deleted account").
 */
@Injectable()
export class OrganisationsPersonalData implements OnModuleInit {
  constructor(
    private readonly registry: PersonalDataRegistry,
    @InjectRepository(Membership) private readonly memberships: Repository<Membership>,
  ) {}

  onModuleInit(): void {
    this.registry.register({
      name: 'memberships',
      description: 'The organisations you belong to or asked to join, whether you manage them, and when you joined or left',
      export: async (userId) => {
        const rows = await this.memberships
          .createQueryBuilder('m')
          .innerJoin('m.organisation', 'o')
          .select(['m.id', 'm.status', 'm.isManager', 'm.requestedAt', 'm.joinedAt', 'm.updatedAt', 'o.id', 'o.name'])
          .where('m.userId = :userId', { userId })
          .orderBy('m.id')
          .getMany();
        return rows.map((m) => ({
          organisation: { id: m.organisation!.id, name: m.organisation!.name },
          status: m.status,
          manager: !!m.isManager,
          requestedAt: m.requestedAt,
          joinedAt: m.joinedAt,
          updatedAt: m.updatedAt,
        }));
      },
      erase: async (tx, userId) => ({ counts: { memberships: (await tx.getRepository(Membership).delete({ userId })).affected ?? 0 } }),
    });
  }
}
