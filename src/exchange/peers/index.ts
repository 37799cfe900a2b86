import type { Provider, Type } from '@nestjs/common';
import { PeerDirectory } from './peer-directory.service';
import { PeerProfiles } from './peer-profiles.service';
import { PeerRelay } from './peer-relay.service';
import { PeersApiController } from './peers.api.controller';
import { PeersPagesController } from './peers.pages.controller';
import { PeersPersonalData } from './personal-data';

/** The peers part of the exchange: what it adds to ExchangeModule. */
export const PEERS_CONTROLLERS: Type[] = [PeersPagesController, PeersApiController];
export const PEERS_PROVIDERS: Provider[] = [PeerDirectory, PeerProfiles, PeerRelay, PeersPersonalData];
/** What other parts of the exchange (or other modules) may use: finding peers (e.g. the author of an item, to contact). */
export const PEERS_EXPORTS: Array<Type | string | symbol> = [PeerDirectory, PeerRelay];
