import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AccountsModule } from './accounts/accounts.module';
import { AdminModule } from './admin/admin.module';
import { AuditModule } from './audit/audit-trail';
import { CatalogueModule } from './catalogue/catalogue.module';
import { CertificatesModule } from './certificates/certificates.module';
import { NotificationsModule } from './notifications/notifications.module';
import { OrganisationsModule } from './organisations/organisations.module';
import { DiscussionsModule } from './discussions/discussions.module';
import { ExchangeModule } from './exchange/exchange.module';
import { PrivacyModule } from './privacy/privacy.module';
import { WebinarsModule } from './webinars/webinars.module';
import { AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { dataSourceOptions, initialiseDataSource } from './database/data-source';
import { HealthModule } from './health/health.module';
import { HomeModule } from './home/home.module';
import { JobsModule } from './jobs/jobs.module';
import { LearningModule } from './learning/learning.module';
import { MailModule } from './mail/mail.module';
import { PerPersonCacheModule } from './redis/per-person-cache';
import { RedisModule } from './redis/redis.module';
import { StorageModule } from './storage/storage.module';
import { ClockModule } from './common/clock';

@Module({})
export class AppModule {
  /** The whole academy for one validated configuration (tests build several, each with its own). */
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ClockModule,
        TypeOrmModule.forRootAsync({
          useFactory: async () => ({ ...(await dataSourceOptions(config)), autoLoadEntities: true, retryAttempts: 3, retryDelay: 2000 }),
          // Migrations run after connecting, under a lock, rather than through TypeORM's migrationsRun (which takes none).
          dataSourceFactory: async (options) => initialiseDataSource(new DataSource(options!), { migrate: config.migrateOnBoot }),
        }),
        RedisModule,
        PerPersonCacheModule,
        JobsModule,
        MailModule,
        StorageModule,
        AccountsModule,
        CatalogueModule,
        LearningModule,
        CertificatesModule,
        NotificationsModule,
        WebinarsModule,
        AuditModule,
        OrganisationsModule,
        ExchangeModule,
        DiscussionsModule,
        PrivacyModule,
        AdminModule,
        HomeModule,
        HealthModule,
      ],
    };
  }
}
