import type { DataSource } from 'typeorm';
import { slugify } from '../common/slug';
import { isUniqueViolation } from '../database/errors';
import { UnitOfWork } from '../database/unit-of-work';
import { ExchangeSystem } from './entities/exchange-system.entity';
import type { SystemCategory } from './exchange-kinds';

export interface StartingSystem {
  name: string;
  supplier: string;
  category: SystemCategory;
}

/**
 * The systems and suppliers the moderators' list starts with on a new install: widely used UK health and care
 * systems, so the first contributions and peer profiles have something to pick. From then on the list is the
 * moderators' to keep (add, rename, retire); nothing here runs again once the table has a row.
 */
export const STARTING_SYSTEMS: readonly StartingSystem[] = [
  { name: 'Millennium', supplier: 'Oracle Health', category: 'epr' },
  { name: 'Epic', supplier: 'Epic Systems', category: 'epr' },
  { name: 'CareFlow EPR', supplier: 'System C', category: 'epr' },
  { name: 'Lorenzo', supplier: 'Dedalus', category: 'epr' },
  { name: 'RiO', supplier: 'The Access Group', category: 'epr' },
  { name: 'Nervecentre', supplier: 'Nervecentre Software', category: 'epr' },
  { name: 'Medway PAS', supplier: 'System C', category: 'pas' },
  { name: 'SystmOne', supplier: 'TPP', category: 'gp_clinical' },
  { name: 'EMIS Web', supplier: 'Optum (EMIS)', category: 'gp_clinical' },
  { name: 'Liquidlogic Adults’ Social Care', supplier: 'System C', category: 'social_care' },
  { name: 'Mosaic', supplier: 'The Access Group', category: 'social_care' },
  { name: 'Mobile Care Monitoring', supplier: 'Person Centred Software', category: 'social_care' },
  { name: 'Sectra PACS', supplier: 'Sectra', category: 'pacs' },
  { name: 'WinPath', supplier: 'Clinisys', category: 'pathology' },
  { name: 'ICE order communications', supplier: 'Clinisys', category: 'pathology' },
  { name: 'Better Meds', supplier: 'Better', category: 'eprescribing' },
  { name: 'Rhapsody', supplier: 'Rhapsody', category: 'integration' },
  { name: 'HealthShare', supplier: 'InterSystems', category: 'integration' },
  { name: 'CareCentric shared care record', supplier: 'System C', category: 'integration' },
  { name: 'Health and Social Care Network (HSCN)', supplier: 'NHS England', category: 'infrastructure' },
  { name: 'Imprivata OneSign', supplier: 'Imprivata', category: 'cyber' },
  { name: 'Microsoft Defender for Endpoint', supplier: 'Microsoft', category: 'cyber' },
  { name: 'Microsoft 365', supplier: 'Microsoft', category: 'productivity' },
  { name: 'NHSmail', supplier: 'NHS England', category: 'productivity' },
  { name: 'Accurx', supplier: 'Accurx', category: 'other' },
];

/** A starting system's slug: from its supplier and name, as the list's facet URLs use it (?system=tpp-systmone). */
export const startingSystemSlug = (system: Pick<StartingSystem, 'name' | 'supplier'>) => slugify(`${system.supplier} ${system.name}`, 110);

/**
 * Fills the moderators' list with STARTING_SYSTEMS when it is empty, and only then: a list moderators have started
 * keeping (even one row, retired or not) is left alone. Returns how many systems it added. Two processes starting at
 * once may both find it empty: the unique slug decides, and the one that loses adds nothing.
 */
export async function seedStartingSystems(dataSource: DataSource, now: Date): Promise<number> {
  const systems = dataSource.getRepository(ExchangeSystem);
  if (await systems.exists({})) return 0;
  try {
    return await new UnitOfWork(dataSource).run(async (tx) => {
      const repo = tx.getRepository(ExchangeSystem);
      if (await repo.exists({})) return 0;
      await repo.insert(STARTING_SYSTEMS.map((s) => ({ slug: startingSystemSlug(s), name: s.name, supplier: s.supplier, category: s.category, retiredAt: null, createdById: null, createdAt: now })));
      return STARTING_SYSTEMS.length;
    });
  } catch (err) {
    if (isUniqueViolation(err)) return 0;
    throw err;
  }
}
