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
import { PublishedChanges } from './published-changes';
import { CONTRIBUTIONS_CONTROLLERS, CONTRIBUTIONS_EXPORTS, CONTRIBUTIONS_PROVIDERS } from './contributions';
import { MODERATION_CONTROLLERS, MODERATION_EXPORTS, MODERATION_PROVIDERS } from './moderation';
import { PEERS_CONTROLLERS, PEERS_EXPORTS, PEERS_PROVIDERS } from './peers';
import { SEARCH_CONTROLLERS, SEARCH_EXPORTS, SEARCH_PROVIDERS } from './search';
import { SIGNALS_CONTROLLERS, SIGNALS_EXPORTS, SIGNALS_PROVIDERS } from './signals';

/**
 * The peer exchange: case studies, tools and hacks shared across organisations, reviewed by moderators before they
 * are public; the peer signals on them (helpful, adopted, saved, downloaded); and peer profiles with the contact relay.
 * See docs/exchange.md.
 */
@Module({
  imports: [TypeOrmModule.forFeature(EXCHANGE_ENTITIES), AccountsModule, AuditModule, CatalogueModule, MailModule, NotificationsModule, OrganisationsModule, PersonalDataModule],
  // Each part lists its own in its index.ts. Search's controllers come last: /exchange/{slug} must not shadow the
  // fixed paths the others declare (Fastify prefers static segments anyway; the order keeps the intent visible).
  controllers: [...CONTRIBUTIONS_CONTROLLERS, ...MODERATION_CONTROLLERS, ...SIGNALS_CONTROLLERS, ...PEERS_CONTROLLERS, ...SEARCH_CONTROLLERS],
  providers: [ExchangeVocabulary, PublishedChanges, UnitOfWork, ...CONTRIBUTIONS_PROVIDERS, ...MODERATION_PROVIDERS, ...SIGNALS_PROVIDERS, ...PEERS_PROVIDERS, ...SEARCH_PROVIDERS],
  exports: [ExchangeVocabulary, ...CONTRIBUTIONS_EXPORTS, ...MODERATION_EXPORTS, ...SIGNALS_EXPORTS, ...PEERS_EXPORTS, ...SEARCH_EXPORTS],
})
export class ExchangeModule {}
