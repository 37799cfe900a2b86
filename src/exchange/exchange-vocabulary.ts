import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, Repository } from 'typeorm';
import { CatalogueService } from '../catalogue/catalogue.service';
import { OrganisationDirectory } from '../organisations/organisation-directory.service';
import type { ExchangeRevision } from './entities/exchange-revision.entity';
import { ExchangeSystem } from './entities/exchange-system.entity';
import { SYSTEM_CATEGORIES } from './exchange-kinds';
import { ProjectionNames, revisionLists } from './search-projection';

export interface SystemOption {
  id: number;
  slug: string;
  name: string;
  supplier: string;
  category: ExchangeSystem['category'];
  categoryLabel: string;
  /** "Millennium (Oracle Health)": how pages name it. */
  label: string;
}

export const systemOption = (s: ExchangeSystem): SystemOption => ({
  id: s.id,
  slug: s.slug,
  name: s.name,
  supplier: s.supplier,
  category: s.category,
  categoryLabel: SYSTEM_CATEGORIES[s.category] ?? SYSTEM_CATEGORIES.other,
  label: s.supplier && s.supplier !== s.name ? `${s.name} (${s.supplier})` : s.name,
});

/**
 * The words the exchange files things under: topics (the catalogue's, so courses and exchange items relate), the
 * moderators' list of systems and suppliers, and organisations' names. One place reads them for forms, facets and
 * the search projection.
 */
@Injectable()
export class ExchangeVocabulary {
  constructor(
    @InjectRepository(ExchangeSystem) private readonly systems: Repository<ExchangeSystem>,
    private readonly catalogue: CatalogueService,
    private readonly organisations: OrganisationDirectory,
  ) {}

  /** The catalogue's topics, by name. */
  async topics(): Promise<Array<{ id: number; slug: string; name: string }>> {
    return [...(await this.catalogue.topicsById()).values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Systems offered for new contributions and profiles (not retired), by name. */
  async currentSystems(): Promise<SystemOption[]> {
    const rows = await this.systems.find({ where: { retiredAt: IsNull() }, order: { name: 'ASC', supplier: 'ASC' } });
    return rows.map(systemOption);
  }

  /** Systems by id, retired ones included (they still name what was written with them). */
  async systemsById(ids: readonly number[]): Promise<Map<number, SystemOption>> {
    const wanted = [...new Set(ids)];
    if (!wanted.length) return new Map();
    const rows = await this.systems.find({ where: { id: In(wanted) } });
    return new Map(rows.map((s) => [s.id, systemOption(s)]));
  }

  async systemBySlug(slug: string): Promise<SystemOption | null> {
    const row = await this.systems.findOne({ where: { slug } });
    return row ? systemOption(row) : null;
  }

  /** The names the search projection writes into an item's searchable text. */
  async namesFor(revision: ExchangeRevision, organisationId: number): Promise<ProjectionNames> {
    const { topicIds, systemIds, partnerOrganisationIds } = revisionLists(revision);
    const [topics, systems, organisations] = await Promise.all([this.catalogue.topicsById(), this.systemsById(systemIds), this.organisations.describe([organisationId, ...partnerOrganisationIds])]);
    return {
      topics: new Map(topicIds.filter((id) => topics.has(id)).map((id) => [id, topics.get(id)!.name])),
      systems,
      organisations: new Map([...organisations].map(([id, o]) => [id, o.name])),
    };
  }
}
