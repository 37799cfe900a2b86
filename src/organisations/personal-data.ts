import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { PersonalDataRegistry } from '../common/personal-data';
import { Membership } from './entities/membership.entity';
import { RequirementDigest } from './entities/requirement-digest.entity';
import { RequirementNotice } from './entities/requirement-notice.entity';
import { RequirementPerson } from './entities/requirement-person.entity';

/**
 * The organisations module's personal data: the person's memberships (which organisations they asked to join or
 * belong to, and whether they manage one), and their required learning: the requirements that name them, the
 * reminders sent to them and, for a manager, the weekly digests. Erasing deletes them, so no manager sees the person
 * any more. What a deleted manager did for their organisation (approving someone, setting a requirement) stays the
 * organisation's, under the account's id (the row now says "Deleted account").
 */
@Injectable()
export class OrganisationsPersonalData implements OnModuleInit {
  constructor(
    private readonly registry: PersonalDataRegistry,
    @InjectRepository(Membership) private readonly memberships: Repository<Membership>,
    @InjectRepository(RequirementPerson) private readonly named: Repository<RequirementPerson>,
    @InjectRepository(RequirementNotice) private readonly notices: Repository<RequirementNotice>,
    @InjectRepository(RequirementDigest) private readonly digests: Repository<RequirementDigest>,
  ) {}

  onModuleInit(): void {
    this.registry.register(
      {
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
      },
      {
        name: 'requiredLearning',
        description: 'Courses your organisations require of you by name, the reminders we sent you about required courses, and (for managers) the weekly digests',
        export: async (userId) => {
          const [named, notices, digests] = await Promise.all([
            this.named
              .createQueryBuilder('p')
              .innerJoin('p.requirement', 'r')
              .innerJoin('r.organisation', 'o')
              .innerJoin('r.course', 'c')
              .select(['p.id', 'p.addedAt', 'r.id', 'r.dueKind', 'r.dueDays', 'r.dueDate', 'r.renewalMonths', 'r.archivedAt', 'o.id', 'o.name', 'c.id', 'c.title'])
              .where('p.userId = :userId', { userId })
              .orderBy('p.id')
              .getMany(),
            this.notices
              .createQueryBuilder('n')
              .innerJoin('n.requirement', 'r')
              .innerJoin('r.organisation', 'o')
              .innerJoin('r.course', 'c')
              .select(['n.id', 'n.stage', 'n.dueDate', 'n.createdAt', 'r.id', 'o.id', 'o.name', 'c.id', 'c.title'])
              .where('n.userId = :userId', { userId })
              .orderBy('n.id')
              .getMany(),
            this.digests.find({ where: { managerId: userId }, select: { id: true, isoWeek: true, createdAt: true }, order: { id: 'ASC' } }),
          ]);
          const about = (r: { organisation?: { id: number; name: string }; course?: unknown }) => ({
            organisation: { id: r.organisation!.id, name: r.organisation!.name },
            course: r.course as { id: number; title: string },
          });
          return {
            namedIn: named.map((p) => ({
              ...about(p.requirement!),
              due: p.requirement!.dueKind === 'date' ? { by: p.requirement!.dueDate } : { daysAfterJoining: p.requirement!.dueDays },
              renewalMonths: p.requirement!.renewalMonths,
              namedAt: p.addedAt,
              archivedAt: p.requirement!.archivedAt,
            })),
            reminders: notices.map((n) => ({ ...about(n.requirement as { organisation?: { id: number; name: string }; course?: unknown }), stage: n.stage, dueDate: n.dueDate, sentAt: n.createdAt })),
            weeklyDigests: digests.map((d) => ({ week: d.isoWeek, sentAt: d.createdAt })),
          };
        },
        erase: async (tx, userId) => ({
          counts: {
            requirementsNamingThem: (await tx.getRepository(RequirementPerson).delete({ userId })).affected ?? 0,
            requirementReminders: (await tx.getRepository(RequirementNotice).delete({ userId })).affected ?? 0,
            requirementDigests: (await tx.getRepository(RequirementDigest).delete({ managerId: userId })).affected ?? 0,
          },
        }),
      },
    );
  }
}
