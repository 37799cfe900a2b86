import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { AuditModule } from '../audit/audit-trail';
import { PersonalDataModule } from '../common/personal-data';
import { UnitOfWork } from '../database/unit-of-work';
import { PrivacyApiController } from './privacy.api.controller';
import { PrivacyPagesController } from './privacy.pages.controller';
import { PrivacyService } from './privacy.service';

/**
 * People's rights over their data (UK GDPR): "Download my data" and "Delete my account". It holds no data of its own:
 * every module that does registers its sections with the PersonalDataRegistry (common/personal-data.ts).
 */
@Module({
  imports: [AccountsModule, AuditModule, PersonalDataModule],
  controllers: [PrivacyPagesController, PrivacyApiController],
  providers: [PrivacyService, UnitOfWork],
})
export class PrivacyModule {}
