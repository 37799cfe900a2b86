import { Injectable, Module } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { FieldErrors } from './errors';

/** An organisation as a picker offers it. */
export interface OrganisationOption {
  id: number;
  name: string;
  type: string;
  typeLabel: string;
  region: string | null;
  regionLabel: string | null;
  odsCode: string | null;
}

/** What a form's organisation picker sent: the typed text, and the choice made on a previous answer, if any. */
export interface OrganisationPickerInput {
  /** The text typed: a name, part of one, or an ODS code. */
  organisation: string;
  /** A radio: an organisation's id, or `new` to ask for a new organisation named by the text. */
  organisationChoice?: string;
  /** The text the radios were offered for; a choice made for other text is ignored and the new text matched. */
  organisationMatched?: string;
  /** With `new`: the type and region of the organisation asked for (optional). */
  organisationType?: string;
  organisationRegion?: string;
}

/** Which organisation an account joins. */
export type OrganisationPick =
  | { kind: 'existing'; organisationId: number }
  /** Ask for a new organisation (it waits, `requested`, for an administrator); one of that name asked for already is reused. */
  | { kind: 'request'; name: string; type: string | null; region: string | null }
  /** By name as typed (the API, the command line, tests): the active organisation of that name or ODS code, else a request. */
  | { kind: 'named'; name: string };

/** The picker as a form shows it again when the text did not name one organisation. */
export interface OrganisationPickerView {
  text: string;
  /** Close matches, as radios (none when nothing matched). */
  options: Array<OrganisationOption & { checked: boolean }>;
  /** "Ask for a new organisation" is chosen. */
  newChecked: boolean;
  typeOptions: Array<{ value: string; text: string; selected: boolean }>;
  regionOptions: Array<{ value: string; text: string; selected: boolean }>;
}

export type OrganisationPickerResult =
  | { kind: 'picked'; pick: OrganisationPick; label: string }
  | { kind: 'choose'; picker: OrganisationPickerView; errors: FieldErrors };

export interface OrganisationJoiningProvider {
  resolve(input: OrganisationPickerInput): Promise<OrganisationPickerResult>;
  /** Makes (or reopens) the account's membership inside the caller's transaction; returns the organisation joined. */
  join(tx: EntityManager, account: { id: number; email: string; verified: boolean }, pick: OrganisationPick): Promise<{ organisationId: number }>;
  /** Inside the transaction that marks the address verified: memberships on the address's verified domain become active. */
  emailVerified(tx: EntityManager, userId: number, email: string): Promise<void>;
  /** After that transaction: the managers of organisations still to approve the account hear of it (once per request). */
  afterEmailVerified(userId: number): Promise<void>;
}

/**
 * A port for the accounts module, which the organisations module depends on: sign-up asks it which organisation
 * the typed name means, and makes the new account's membership through it; verifying an address tells it. The
 * organisations module plugs its directory and memberships in when it starts.
 */
@Injectable()
export class OrganisationJoining {
  private provider: OrganisationJoiningProvider | null = null;

  /** Called once, by the organisations module. */
  use(provider: OrganisationJoiningProvider): void {
    this.provider = provider;
  }

  private get impl(): OrganisationJoiningProvider {
    if (!this.provider) throw new Error('No organisations module has registered with OrganisationJoining');
    return this.provider;
  }

  resolve(input: OrganisationPickerInput): Promise<OrganisationPickerResult> {
    return this.impl.resolve(input);
  }

  join(tx: EntityManager, account: { id: number; email: string; verified: boolean }, pick: OrganisationPick): Promise<{ organisationId: number }> {
    return this.impl.join(tx, account, pick);
  }

  emailVerified(tx: EntityManager, userId: number, email: string): Promise<void> {
    return this.impl.emailVerified(tx, userId, email);
  }

  afterEmailVerified(userId: number): Promise<void> {
    return this.impl.afterEmailVerified(userId);
  }
}

@Module({ providers: [OrganisationJoining], exports: [OrganisationJoining] })
export class OrganisationJoiningModule {}
