import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { EXPORT_PAGE_SIZE, pagedRows, PersonalDataRegistry } from '../common/personal-data';
import { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { MailMessage } from './mail-message.entity';
import { MailTemplates } from './mail-templates';

/**
 * The mail module's personal data: the e-mails the academy sent (or is about to send) to the person's address, each
 * with its subject as they received it, its kind, when and whether it went. Nothing of e-mails to anyone else. Erasing
 * deletes them from the outbox, those still waiting to go included.
 */
@Injectable()
export class MailPersonalData implements OnModuleInit {
  constructor(
    private readonly registry: PersonalDataRegistry,
    private readonly templates: MailTemplates,
    @InjectRepository(MailMessage) private readonly messages: Repository<MailMessage>,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.registry.register({
      name: 'emails',
      description: 'The e-mails we sent you: the subject, what kind of e-mail it was, when it was sent and whether it was delivered',
      export: (_userId, { email }) =>
        pagedRows(
          (after: MailMessage | null) =>
            this.messages
              .createQueryBuilder('m')
              .select(['m.id', 'm.template', 'm.payload', 'm.status', 'm.createdAt', 'm.sentAt'])
              .where('m.toAddress = :email', { email })
              .andWhere('m.id > :after', { after: after?.id ?? 0 })
              .orderBy('m.id')
              .limit(EXPORT_PAGE_SIZE)
              .getMany(),
          (m) => ({ id: m.id, subject: this.subjectOf(m), kind: m.template, status: m.status, createdAt: m.createdAt, sentAt: m.sentAt }),
        ),
      erase: async (tx, _userId, { email }) => ({ counts: { emails: (await tx.getRepository(MailMessage).delete({ toAddress: email })).affected ?? 0 } }),
    });
  }

  /** The subject line as it was sent: the template's, with the message's own data. */
  private subjectOf(message: Pick<MailMessage, 'template' | 'payload'>): string | null {
    if (!this.templates.has(message.template)) return null;
    try {
      const data = Object.fromEntries(Object.entries(JSON.parse(message.payload) as Record<string, unknown>).filter(([key]) => !key.startsWith('__')));
      return this.templates.render(message.template, { ...data, academyName: this.config.academyName, publicUrl: this.config.publicUrl }).subject;
    } catch {
      return null;
    }
  }
}
