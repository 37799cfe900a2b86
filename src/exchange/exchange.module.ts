import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountsModule } from '../accounts/accounts.module';
import { AuditModule } from '../audit/audit-trail';
import { CatalogueModule } from '../catalogue/catalogue.module';
import { PersonalDataModule } from '../common/personal-data';
import { UnitOfWork } from '../database/unit-of-work';
import { MailModule } from '../mail/mail.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { OrganisationsModule } from '../organisations/organisations.module';
import { EXCHANGE_ENTITIES } from './entities';
import { ExchangeVocabulary } from './exchange-vocabulary';

/**
 * The peer exchange: case studies, tools and hacks shared across organisations, reviewed by moderators before they
 * are public; the peer signals on them (helpful, adopted, saved, downloaded); and peer profiles with the contact relay.
 * See docs/exchange.md.
 */
@Module({
  imports: [TypeOrmModule.forFeature(EXCHANGE_ENTITIES), AccountsModule, AuditModule, CatalogueModule, MailModule, NotificationsModule, OrganisationsModule, PersonalDataModule],
  controllers: [],
  providers: [ExchangeVocabulary, UnitOfWork],
  exports: [ExchangeVocabulary],
})
export class ExchangeModule {}
