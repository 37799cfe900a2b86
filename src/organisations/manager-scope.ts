import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { CurrentUser } from '../accounts/identity';
import { NotFound } from '../common/errors';
import { StaffVisibility } from '../common/staff-visibility';
import { Membership } from './entities/membership.entity';
import { Organisation } from './entities/organisation.entity';

export const NOT_YOUR_ORGANISATION = 'There is no organisation at this address that you manage';

/**
 * Who manages what. A manager is an active member whose membership is marked as manager; administrators may open
 * every organisation. Every manager route asks `organisationFor` first and so answers 404 for any organisation the
 * viewer does not manage, the same as for one that does not exist.
 */
@Injectable()
export class ManagerScope implements OnModuleInit {
  constructor(
    @InjectRepository(Membership) private readonly memberships: Repository<Membership>,
    @InjectRepository(Organisation) private readonly organisations: Repository<Organisation>,
    private readonly visibility: StaffVisibility,
  ) {}

  onModuleInit(): void {
    this.visibility.use((viewerId, subjectUserId) => this.managerMaySee(viewerId, subjectUserId));
  }

  /** The organisations this person manages, by name. */
  async managedBy(userId: number): Promise<Array<{ id: number; name: string }>> {
    const rows = await this.memberships
      .createQueryBuilder('m')
      .innerJoin('m.organisation', 'o')
      .select(['m.id', 'o.id', 'o.name'])
      .where('m.userId = :userId AND m.status = :active AND m.isManager = :yes', { userId, active: 'active', yes: true })
      .andWhere('o.status = :live', { live: 'active' })
      .orderBy('o.nameKey')
      .getMany();
    return rows.map((m) => ({ id: m.organisation!.id, name: m.organisation!.name }));
  }

  /** The organisation, if the viewer may manage it (an administrator may manage any live one); NotFound otherwise. */
  async organisationFor(viewer: CurrentUser, organisationId: number): Promise<Organisation> {
    if (!Number.isSafeInteger(organisationId) || organisationId < 1) throw new NotFound(NOT_YOUR_ORGANISATION);
    // The organisation and the viewer's managing membership of it in one query (every manager page asks).
    const query = this.organisations.createQueryBuilder('o').where('o.id = :organisationId', { organisationId });
    if (viewer.role !== 'admin') {
      query.innerJoin(Membership, 'm', 'm.organisationId = o.id AND m.userId = :viewerId AND m.status = :active AND m.isManager = :yes', { viewerId: viewer.id, active: 'active', yes: true });
    }
    const organisation = await query.getOne();
    if (!organisation || organisation.status !== 'active') throw new NotFound(NOT_YOUR_ORGANISATION);
    return organisation;
  }

  /** Whether the viewer manages an organisation the person is an active member of. */
  async managerMaySee(viewerId: number, subjectUserId: number): Promise<boolean> {
    const row = await this.memberships
      .createQueryBuilder('manager')
      .innerJoin(Membership, 'staff', 'staff.organisationId = manager.organisationId AND staff.userId = :subjectUserId AND staff.status = :active', { subjectUserId, active: 'active' })
      .select('manager.id')
      .where('manager.userId = :viewerId AND manager.status = :active AND manager.isManager = :yes', { viewerId, yes: true })
      .limit(1)
      .getRawOne();
    return !!row;
  }
}
