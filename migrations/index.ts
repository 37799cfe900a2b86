import { AccountsAndMail1764000000000 } from './1764000000000-accounts-and-mail';
import { CoursesAndLearning1764100000000 } from './1764100000000-courses-and-learning';
import { LessonCaptions1764200000000 } from './1764200000000-lesson-captions';
import { ProgressTracking1764250000000 } from './1764250000000-progress-tracking';
import { Certificates1764500000000 } from './1764500000000-certificates';
import { MailPreferences1764600000000 } from './1764600000000-mail-preferences';
import { Webinars1764700000000 } from './1764700000000-webinars';
import { MailDeliveryLease1764800000000 } from './1764800000000-mail-delivery-lease';
import { RegistrationSequence1764900000000 } from './1764900000000-registration-sequence';
import { CertificateRecipientSalt1765000000000 } from './1765000000000-certificate-recipient-salt';
import { Organisations1765100000000 } from './1765100000000-organisations';
import { RequiredLearning1765120000000 } from './1765120000000-required-learning';
import { ManagerView1765130000000 } from './1765130000000-manager-view';
import { Administration1765140000000 } from './1765140000000-administration';
import { PersonalData1765150000000 } from './1765150000000-personal-data';
import { CertificateRecipientIdentity1765160000000 } from './1765160000000-certificate-recipient-identity';
import { ManagerDigestPreference1765170000000 } from './1765170000000-manager-digest-preference';
import { PeerExchange1765200000000 } from './1765200000000-peer-exchange';
import { ExchangeSearch1765230000000 } from './1765230000000-exchange-search';
import { Discussions1765300000000 } from './1765300000000-discussions';

/** Every migration, in order. Listed here (not globbed) so ts and compiled runs load exactly the same set. */
export const migrations = [AccountsAndMail1764000000000, CoursesAndLearning1764100000000, LessonCaptions1764200000000, ProgressTracking1764250000000, Certificates1764500000000, MailPreferences1764600000000, Webinars1764700000000, MailDeliveryLease1764800000000, RegistrationSequence1764900000000, CertificateRecipientSalt1765000000000, Organisations1765100000000, RequiredLearning1765120000000, ManagerView1765130000000, Administration1765140000000, PersonalData1765150000000, CertificateRecipientIdentity1765160000000, ManagerDigestPreference1765170000000, PeerExchange1765200000000, ExchangeSearch1765230000000, Discussions1765300000000];
