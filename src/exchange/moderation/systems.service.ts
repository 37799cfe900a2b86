import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import type { CurrentUser } from '../../accounts/identity';
import { AuditTrail } from '../../audit/audit-trail';
import { Clock } from '../../common/clock';
import { Conflict, NotFound, ValidationFailed, type FieldErrors } from '../../common/errors';
import { slugify } from '../../common/slug';
import { isUniqueViolation } from '../../database/errors';
import { UnitOfWork } from '../../database/unit-of-work';
import { ExchangeSystem } from '../entities/exchange-system.entity';
import { isSystemCategory, SYSTEM_CATEGORIES, type SystemCategory } from '../exchange-kinds';
import { systemOption, type SystemOption } from '../exchange-vocabulary';

export const SYSTEM_NAME_MAX = 120;
export const SYSTEM_NOT_FOUND = 'There is no system on the list at this address';

export interface SystemInput {
  name: string;
  supplier: string;
  category: SystemCategory;
}

/** Spaces as one, none at the ends: "Oracle  Health " and "Oracle Health" are one supplier. */
const tidy = (value: unknown) => (typeof value === 'string' ? value.replace(/\s+/g, ' ').trim() : '');

/** How two systems are told to be the same one: name and supplier, whatever their case. */
export const sameSystemKey = (name: string, supplier: string) => `${tidy(name).toLocaleLowerCase('en-GB')}\u0000${tidy(supplier).toLocaleLowerCase('en-GB')}`;

/** The add or rename form, checked; problems keyed by field. */
export function parseSystem(body: Record<string, unknown> | undefined): SystemInput {
  const raw = body ?? {};
  const name = tidy(raw.name);
  const supplier = tidy(raw.supplier);
  const category = raw.category;
  const errors: FieldErrors = {};
  if (!name) errors.name = 'Enter the system’s name, like Millennium or SystmOne';
  else if ([...name].length > SYSTEM_NAME_MAX) errors.name = `The name must be ${SYSTEM_NAME_MAX} characters or fewer`;
  if (!supplier) errors.supplier = 'Enter its supplier, like Oracle Health or TPP (the organisation’s own name for one built in house)';
  else if ([...supplier].length > SYSTEM_NAME_MAX) errors.supplier = `The supplier must be ${SYSTEM_NAME_MAX} characters or fewer`;
  if (!isSystemCategory(category)) errors.category = 'Choose what kind of system it is';
  if (Object.keys(errors).length) throw new ValidationFailed(errors);
  return { name, supplier, category: category as SystemCategory };
}

export interface ListedSystem extends SystemOption {
  retired: boolean;
  retiredAt: Date | null;
  /** Published items that name it. */
  itemCount: number;
}

/**
 * The moderators' list of systems and suppliers: add, rename, retire and restore, each audited. A system is one name
 * and supplier, compared without regard to case; two moderators adding the same one at once add it once (its slug,
 * made from supplier and name, is unique). Retired systems stay on the items and profiles that name them, and are no
 * longer offered for new ones (ExchangeVocabulary.currentSystems).
 */
@Injectable()
export class SystemsService {
  private readonly logger = new Logger('ExchangeSystems');

  constructor(
    private readonly db: DataSource,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    private readonly audit: AuditTrail,
    @InjectRepository(ExchangeSystem) private readonly systems: Repository<ExchangeSystem>,
  ) {}

  /** Every system, current and retired, grouped by category in the categories' order, by name within each. */
  async list(): Promise<Array<{ category: SystemCategory; label: string; systems: ListedSystem[] }>> {
    const [rows, counts] = await Promise.all([
      this.systems.find({ order: { name: 'ASC', supplier: 'ASC' } }),
      this.db
        .createQueryBuilder()
        .from('exchange_item_systems', 's')
        .innerJoin('exchange_items', 'i', 'i.id = s.item_id AND i.status = :published', { published: 'published' })
        .select(['s.system_id AS systemId', 'COUNT(*) AS count'])
        .groupBy('s.system_id')
        .getRawMany<{ systemId: number | string; count: number | string }>(),
    ]);
    const used = new Map(counts.map((c) => [Number(c.systemId), Number(c.count)]));
    const byName = (a: ExchangeSystem, b: ExchangeSystem) => a.name.localeCompare(b.name, 'en-GB', { sensitivity: 'base' }) || a.supplier.localeCompare(b.supplier, 'en-GB', { sensitivity: 'base' });
    return (Object.keys(SYSTEM_CATEGORIES) as SystemCategory[])
      .map((category) => ({
        category,
        label: SYSTEM_CATEGORIES[category],
        systems: rows
          .filter((s) => (isSystemCategory(s.category) ? s.category : 'other') === category)
          .sort(byName)
          .map((s) => ({ ...systemOption(s), retired: s.retiredAt !== null, retiredAt: s.retiredAt, itemCount: used.get(s.id) ?? 0 })),
      }))
      .filter((group) => group.systems.length);
  }

  async get(id: number): Promise<ExchangeSystem> {
    const system = await this.systems.findOne({ where: { id } });
    if (!system) throw new NotFound(SYSTEM_NOT_FOUND);
    return system;
  }

  /** Refuses a name and supplier already on the list (another system than `exceptId`). */
  private async refuseDuplicate(input: SystemInput, exceptId: number | null): Promise<void> {
    const key = sameSystemKey(input.name, input.supplier);
    const all = await this.systems.find({ select: { id: true, name: true, supplier: true, retiredAt: true } });
    const twin = all.find((s) => s.id !== exceptId && sameSystemKey(s.name, s.supplier) === key);
    if (twin) {
      const message = twin.retiredAt
        ? `${twin.name} (${twin.supplier}) is already on the list, retired. Restore it instead of adding it again.`
        : `${twin.name} (${twin.supplier}) is already on the list.`;
      throw new Conflict(message, { name: message }, 'duplicate_system');
    }
  }

  /** A slug from supplier and name not yet taken: the first free of base, base-2, base-3 … */
  private async freeSlug(input: SystemInput): Promise<string> {
    const base = slugify(`${input.supplier} ${input.name}`, 110) || 'system';
    const taken = new Set((await this.systems.createQueryBuilder('s').select('s.slug', 'slug').where('s.slug LIKE :prefix', { prefix: `${base}%` }).getRawMany<{ slug: string }>()).map((r) => r.slug));
    if (!taken.has(base)) return base;
    for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
  }

  async add(actor: CurrentUser, input: SystemInput): Promise<ExchangeSystem> {
    for (let attempt = 1; ; attempt++) {
      await this.refuseDuplicate(input, null);
      const slug = await this.freeSlug(input);
      try {
        const system = await this.uow.run(async (tx) => {
          const now = this.clock.now();
          const result = await tx.getRepository(ExchangeSystem).insert({ slug, name: input.name, supplier: input.supplier, category: input.category, retiredAt: null, createdById: actor.id, createdAt: now });
          const id = Number(result.identifiers[0].id);
          await this.audit.record(tx, actor, { action: 'exchange.system_added', target: { type: 'exchange_system', id, label: `${input.name} (${input.supplier})` }, details: { name: input.name, supplier: input.supplier, category: input.category, slug } });
          return tx.getRepository(ExchangeSystem).findOneByOrFail({ id });
        });
        this.logger.log(`System ${system.id} (${system.slug}) added by ${actor.id}`);
        return system;
      } catch (err) {
        // Someone took the slug meanwhile: the same system added at the same moment (refused as a duplicate on the
        // next turn), or another whose slug happens to match (the next free one is taken).
        if (!isUniqueViolation(err) || attempt >= 5) throw err;
      }
    }
  }

  /** Renames it (name, supplier, category). Its slug stays, so links filtered by it keep working. */
  async update(actor: CurrentUser, id: number, input: SystemInput): Promise<boolean> {
    await this.get(id);
    await this.refuseDuplicate(input, id);
    return this.uow.run(async (tx) => {
      const system = await this.uow.lockForUpdate(tx, ExchangeSystem, { id });
      if (!system) throw new NotFound(SYSTEM_NOT_FOUND);
      if (system.name === input.name && system.supplier === input.supplier && system.category === input.category) return false;
      await tx.getRepository(ExchangeSystem).update({ id }, { name: input.name, supplier: input.supplier, category: input.category });
      await this.audit.record(tx, actor, {
        action: 'exchange.system_changed',
        target: { type: 'exchange_system', id, label: `${input.name} (${input.supplier})` },
        details: { from: { name: system.name, supplier: system.supplier, category: system.category }, to: input },
      });
      return true;
    });
  }

  /** Retires it (`retire`) or brings it back; false when it already was so. */
  async setRetired(actor: CurrentUser, id: number, retire: boolean): Promise<{ changed: boolean; system: ExchangeSystem }> {
    return this.uow.run(async (tx) => {
      const system = await this.uow.lockForUpdate(tx, ExchangeSystem, { id });
      if (!system) throw new NotFound(SYSTEM_NOT_FOUND);
      if ((system.retiredAt !== null) === retire) return { changed: false, system };
      const retiredAt = retire ? this.clock.now() : null;
      await tx.getRepository(ExchangeSystem).update({ id }, { retiredAt });
      await this.audit.record(tx, actor, {
        action: retire ? 'exchange.system_retired' : 'exchange.system_restored',
        target: { type: 'exchange_system', id, label: `${system.name} (${system.supplier})` },
        details: { slug: system.slug },
      });
      return { changed: true, system: { ...system, retiredAt } };
    });
  }
}
