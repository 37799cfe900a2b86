import { Injectable, Module } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** What the person chose for their certificates when deleting their account. */
export type CertificateChoice = 'keep' | 'revoke';

export interface ErasureOptions {
  /** The person as they were before erasure: some data is found by address (the e-mails sent to them). */
  email: string;
  certificates: CertificateChoice;
  /** The Clock's now, the same for every section. */
  at: Date;
}

/**
 * What a section's erasure did: how many rows of each kind it removed or changed (for the audit entry, never the data
 * itself), and work that cannot be part of the transaction (a session store, stored files, e-mails to other people),
 * run once it has committed.
 */
export interface ErasureResult {
  counts?: Record<string, number>;
  afterCommit?: () => Promise<void>;
}

/**
 * One kind of personal data a feature module holds. `export` gives everything about the person, as one value or,
 * for what can be long (progress rows, e-mails), as items read a page at a time so the download streams. `erase`
 * removes it (or, where other people's records depend on it, anonymises it) inside the deletion's transaction.
 */
export interface PersonalDataSection {
  /** The key in the downloaded document: camelCase, unique. */
  name: string;
  /** What it holds, in words for the "Download your data" page. */
  description: string;
  /** `person.email`: for what is found by address rather than by account (the e-mails sent to them). */
  export(userId: number, person: { email: string }): Promise<unknown> | AsyncIterable<unknown>;
  erase(tx: EntityManager, userId: number, options: ErasureOptions): Promise<ErasureResult | void>;
}

/**
 * A port between the privacy module and every module that holds personal data: each registers its sections when it
 * starts (see src/<module>/personal-data.ts); the privacy module reads them all for a download and erases them all in
 * one transaction for a deletion, without importing any of those modules' entities. A module that starts keeping
 * something about people registers a section for it, or the download and the deletion do not know it exists.
 */
@Injectable()
export class PersonalDataRegistry {
  private readonly registered: PersonalDataSection[] = [];

  register(...sections: PersonalDataSection[]): void {
    for (const section of sections) {
      if (this.registered.some((s) => s.name === section.name)) throw new Error(`Two personal-data sections are named "${section.name}"`);
      this.registered.push(section);
    }
  }

  /** In the order they registered (each module's own in the order it gave them). */
  sections(): readonly PersonalDataSection[] {
    return this.registered;
  }
}

@Module({ providers: [PersonalDataRegistry], exports: [PersonalDataRegistry] })
export class PersonalDataModule {}

/** The number of rows a section reads at a time while exporting. */
export const EXPORT_PAGE_SIZE = 500;

/**
 * The rows of a keyset-paged query, one page in memory at a time: `page(after)` returns the rows following `after`
 * (null for the first page), in the order the key gives them, at most EXPORT_PAGE_SIZE.
 */
export async function* pagedRows<T, R = T>(page: (after: T | null) => Promise<T[]>, shape: (row: T) => R | Promise<R>): AsyncGenerator<R> {
  let after: T | null = null;
  for (;;) {
    const rows = await page(after);
    for (const row of rows) yield await shape(row);
    if (rows.length < EXPORT_PAGE_SIZE) return;
    after = rows[rows.length - 1];
  }
}

export const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  !!value && typeof value === 'object' && typeof (value as Record<symbol, unknown>)[Symbol.asyncIterator] === 'function';
