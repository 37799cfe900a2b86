import { Injectable } from '@nestjs/common';
import type { CurrentUser } from '../../accounts/identity';
import { Forbidden } from '../../common/errors';
import { MembershipsService } from '../../organisations/memberships.service';
import type { ExchangeItem } from '../entities/exchange-item.entity';

export const NOT_A_MEMBER_MESSAGE = 'You need to belong to an organisation before you can share a case study, tool or hack. Ask to join your organisation, and once it has accepted you, come back here.';
export const NOT_A_MEMBER_CODE = 'not_a_member';

/** Refused because the person is an active member of no organisation: what they share is always an organisation's. */
export class NotAMember extends Forbidden {
  constructor() {
    super(NOT_A_MEMBER_MESSAGE, NOT_A_MEMBER_CODE);
  }
}

/**
 * Who may see what of the exchange. Published items are public. An item that is not (a draft, one waiting for review
 * or returned, one withdrawn), and a newer revision of a published one, may be seen only by its author, the active
 * managers of its organisation, moderators and administrators; to everyone else it does not exist (404).
 */
@Injectable()
export class ExchangeAccess {
  constructor(private readonly memberships: MembershipsService) {}

  /** Whether the viewer may see the item's unpublished work. */
  async maySeeUnpublished(viewer: CurrentUser | null, item: Pick<ExchangeItem, 'authorId' | 'organisationId'>): Promise<boolean> {
    if (!viewer) return false;
    if (viewer.role === 'admin' || viewer.role === 'moderator') return true;
    if (item.authorId !== null && item.authorId === viewer.id) return true;
    const memberships = await this.memberships.membershipsOf(viewer.id);
    return memberships.some((m) => m.organisationId === item.organisationId && m.isManager && m.status === 'active');
  }

  /** The organisations the person may share on behalf of: those they are an active member of (and that are live), by name. */
  async sharingOrganisations(userId: number): Promise<Array<{ id: number; name: string }>> {
    const memberships = await this.memberships.membershipsOf(userId);
    return memberships.filter((m) => m.status === 'active' && m.organisationStatus === 'active').map((m) => ({ id: m.organisationId, name: m.organisationName }));
  }

  /** As sharingOrganisations, refusing someone who belongs to none. */
  async requireSharingOrganisations(userId: number): Promise<Array<{ id: number; name: string }>> {
    const organisations = await this.sharingOrganisations(userId);
    if (!organisations.length) throw new NotAMember();
    return organisations;
  }
}
