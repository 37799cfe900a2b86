import { Injectable, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { AuditEntry } from './audit-entry.entity';
import { AuditLogReader } from './audit-log.reader';

export interface AuditActor {
  id: number | null;
  name: string;
}

export interface AuditRecord {
  action: string;
  target: { type: string; id: number | null; label: string };
  details?: Record<string, unknown>;
}

/** The academy itself, for actions no person took (the command line, a sweep). */
export const SYSTEM_ACTOR: AuditActor = { id: null, name: 'Peer Academy' };

/**
 * Writes the audit log. Every privileged change calls `record` with the transaction making the change, so the
 * entry exists exactly when the change does. Reading and filtering it is AuditLogReader's; the admin pages show and export it.
 */
@Injectable()
export class AuditTrail {
  constructor(private readonly clock: Clock) {}

  async record(tx: EntityManager, actor: AuditActor, entry: AuditRecord): Promise<void> {
    await tx.getRepository(AuditEntry).insert({
      actorId: actor.id,
      actorName: actor.name.slice(0, 120),
      action: entry.action,
      targetType: entry.target.type,
      targetId: entry.target.id,
      targetLabel: entry.target.label.slice(0, 200),
      details: JSON.stringify(entry.details ?? {}),
      createdAt: this.clock.now(),
    });
  }

  /**
   * When a person deletes their account: earlier entries about them (an administrator changed their role, say) named
   * them by name and address, and now say `replacement`, in their label and wherever a value in their details is their
   * name or holds their address. Entries of what the person did as an administrator keep who did it, as an audit log
   * must.
   */
  async forgetPerson(tx: EntityManager, person: { id: number; name: string; email: string }, replacement: string): Promise<void> {
    const entries = tx.getRepository(AuditEntry);
    const about = await entries.find({ where: { targetType: 'user', targetId: person.id }, select: { id: true, details: true } });
    const email = person.email.toLowerCase();
    const scrub = (value: unknown): unknown => {
      if (typeof value === 'string') return value === person.name || value.toLowerCase().includes(email) ? replacement : value;
      if (Array.isArray(value)) return value.map(scrub);
      if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)]));
      return value;
    };
    const details = (text: string) => {
      try {
        return JSON.stringify(scrub(JSON.parse(text)));
      } catch {
        return '{}';
      }
    };
    for (const entry of about) await entries.update({ id: entry.id }, { targetLabel: replacement, details: details(entry.details) });
  }
}

@Module({ imports: [TypeOrmModule.forFeature([AuditEntry])], providers: [AuditTrail, AuditLogReader], exports: [AuditTrail, AuditLogReader, TypeOrmModule] })
export class AuditModule {}
