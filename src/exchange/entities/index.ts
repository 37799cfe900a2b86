import { ExchangeFile } from './exchange-file.entity';
import { ExchangeItemOrganisation, ExchangeItemSystem, ExchangeItemTopic } from './exchange-item-facets.entity';
import { ExchangeItem } from './exchange-item.entity';
import { ExchangeRevisionFile } from './exchange-revision-file.entity';
import { ExchangeRevision } from './exchange-revision.entity';
import { ExchangeAdoption, ExchangeHelpfulVote, ExchangeSave } from './exchange-signals.entity';
import { ExchangeSystem } from './exchange-system.entity';
import { PeerBlock, PeerMessage, PeerProfile, PeerProfileSystem, PeerProfileTopic } from './peer.entities';

/** Every entity the exchange module owns, for TypeOrmModule.forFeature. */
export const EXCHANGE_ENTITIES = [
  ExchangeItem,
  ExchangeRevision,
  ExchangeFile,
  ExchangeRevisionFile,
  ExchangeSystem,
  ExchangeItemTopic,
  ExchangeItemSystem,
  ExchangeItemOrganisation,
  ExchangeHelpfulVote,
  ExchangeSave,
  ExchangeAdoption,
  PeerProfile,
  PeerProfileSystem,
  PeerProfileTopic,
  PeerMessage,
  PeerBlock,
];
