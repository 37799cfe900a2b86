import { Injectable, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ValidationFailed, type FieldErrors } from '../common/errors';
import { UnitOfWork } from '../database/unit-of-work';
import type { MembershipStatus } from './organisation-kinds';
import { OrganisationJoining, type OrganisationOption, type OrganisationPick, type OrganisationPickerInput, type OrganisationPickerResult } from '../common/organisation-joining';
import { organisationNameKey, tidyOrganisationName } from './entities/organisation.entity';
import { MembershipsService } from './memberships.service';
import { OrganisationDirectory } from './organisation-directory.service';
import { isOrganisationType, isRegion } from './organisation-kinds';

/** How many close matches a form offers as radios. */
export const PICKER_OPTIONS = 10;

export const CHOOSE_ORGANISATION_MESSAGE = 'Choose your organisation from the list, or ask for a new one';
export const UNKNOWN_CHOICE_MESSAGE = 'The organisation you chose is not one you can join. Choose one from the list, or ask for a new one';
export const CHOSEN_GONE_MESSAGE = 'The organisation you chose can no longer be joined. Choose it again from the list, or ask for a new one';
export const ORGANISATION_TEXT_MESSAGE = 'Enter the name of your organisation';

/**
 * The organisation picker of the sign-up and "join another organisation" forms, without JavaScript: the typed text is
 * matched when the form is sent. One organisation of exactly that name (whatever the case and spacing) or ODS code is
 * taken; otherwise the form comes back with the close matches as radios and "ask for a new organisation" (with its
 * type and region), the rest of the form as it was. A choice counts only for the text it was offered for, so changing
 * the text matches again. Plugged into the accounts module's OrganisationJoining port.
 */
@Injectable()
export class OrganisationPicker implements OnModuleInit {
  constructor(
    private readonly directory: OrganisationDirectory,
    private readonly memberships: MembershipsService,
    private readonly joining: OrganisationJoining,
    private readonly uow: UnitOfWork,
  ) {}

  onModuleInit(): void {
    this.joining.use({
      resolve: (input) => this.resolve(input),
      join: (tx, account, pick) => this.join(tx, account, pick),
      emailVerified: async (tx, userId, email) => {
        await this.memberships.activateOnDomain(tx, userId, email);
      },
      afterEmailVerified: (userId) => this.memberships.notifyManagers(userId),
    });
  }

  async resolve(input: OrganisationPickerInput): Promise<OrganisationPickerResult> {
    const text = tidyOrganisationName(typeof input.organisation === 'string' ? input.organisation : '');
    if (text.length < 2 || text.length > 150) throw new ValidationFailed({ organisation: text.length > 150 ? 'Organisation must be 150 characters or fewer' : ORGANISATION_TEXT_MESSAGE });
    const offeredForThis = typeof input.organisationMatched === 'string' && organisationNameKey(input.organisationMatched) === organisationNameKey(text);
    const choice = offeredForThis && typeof input.organisationChoice === 'string' ? input.organisationChoice.trim() : '';
    const type = typeof input.organisationType === 'string' ? input.organisationType.trim() : '';
    const region = typeof input.organisationRegion === 'string' ? input.organisationRegion.trim() : '';
    const exact = await this.directory.exactMatches(text);

    if (choice === 'new') {
      // Asking for one that exists after all (someone else's was approved meanwhile) joins that one.
      if (exact.length === 1) return this.picked(exact[0]);
      const errors: FieldErrors = {};
      if (type && !isOrganisationType(type)) errors.organisationType = 'Choose the type of organisation from the list';
      if (region && !isRegion(region)) errors.organisationRegion = 'Choose the region from the list';
      if (Object.keys(errors).length) return this.choose(text, exact, { choice, type, region }, errors);
      return { kind: 'picked', pick: { kind: 'request', name: text, type: type || null, region: region || null }, label: text };
    }
    if (choice) {
      const option = /^[1-9][0-9]{0,9}$/.test(choice) ? await this.directory.findActive(Number(choice)) : null;
      if (option) return this.picked(option);
      return this.choose(text, exact, { type, region }, { organisationChoice: UNKNOWN_CHOICE_MESSAGE });
    }
    if (exact.length === 1) return this.picked(exact[0]);
    // Sent again without choosing from what was offered for this text: say so.
    return this.choose(text, exact, { type, region }, offeredForThis ? { organisationChoice: CHOOSE_ORGANISATION_MESSAGE } : {});
  }

  /**
   * Inside the caller's transaction (sign-up): the organisation picked (a request made if it is new), and the account's
   * membership of it. Meant for accounts whose address is not verified yet, so no manager has a request to hear about.
   */
  async join(tx: EntityManager, account: { id: number; email: string; verified: boolean }, pick: OrganisationPick): Promise<{ organisationId: number }> {
    const organisationId = await this.organisationOf(tx, pick, account.id);
    await this.memberships.join(tx, account, organisationId);
    return { organisationId };
  }

  /** The organisation picked: checked to be joinable, or asked for. */
  private async organisationOf(tx: EntityManager, pick: OrganisationPick, accountId: number): Promise<number> {
    if (pick.kind === 'existing') {
      if (!(await this.directory.isActive(tx, pick.organisationId))) throw new ValidationFailed({ organisation: CHOSEN_GONE_MESSAGE });
      return pick.organisationId;
    }
    if (pick.kind === 'request') return this.directory.request(tx, pick, accountId);
    return this.directory.named(tx, pick.name, accountId);
  }

  /**
   * "Join another organisation": joins what was picked in a transaction of its own (a request made if it is new) and
   * e-mails the managers when they now have a request to decide.
   */
  async joinPicked(account: { id: number; email: string; verified: boolean }, pick: OrganisationPick): Promise<{ organisationId: number; status: MembershipStatus; changed: boolean }> {
    const joined = await this.uow.run(async (tx) => {
      const organisationId = await this.organisationOf(tx, pick, account.id);
      const membership = await this.memberships.join(tx, account, organisationId);
      return { organisationId, ...membership };
    });
    if (joined.notify) await this.memberships.notifyManagers(account.id);
    return { organisationId: joined.organisationId, status: joined.status, changed: joined.changed };
  }

  private picked(option: OrganisationOption): OrganisationPickerResult {
    return { kind: 'picked', pick: { kind: 'existing', organisationId: option.id }, label: option.name };
  }

  private async choose(text: string, exact: OrganisationOption[], chosen: { choice?: string; type: string; region: string }, errors: FieldErrors): Promise<OrganisationPickerResult> {
    const options = exact.length > 1 ? exact.slice(0, PICKER_OPTIONS) : await this.directory.search(text, PICKER_OPTIONS);
    return {
      kind: 'choose',
      errors,
      picker: {
        text,
        options: options.map((o) => ({ ...o, checked: false })),
        newChecked: chosen.choice === 'new',
        typeOptions: this.directory.typeOptions(chosen.type),
        regionOptions: this.directory.regionOptions(chosen.region),
      },
    };
  }
}
