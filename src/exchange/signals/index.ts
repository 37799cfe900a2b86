import type { Provider, Type } from '@nestjs/common';
import { SignalsPersonalData } from './personal-data';
import { SignalsApiController } from './signals.api.controller';
import { SignalsPagesController } from './signals.pages.controller';
import { SignalsService } from './signals.service';

/** The signals part of the exchange: what it adds to ExchangeModule. */
export const SIGNALS_CONTROLLERS: Type[] = [SignalsPagesController, SignalsApiController];
export const SIGNALS_PROVIDERS: Provider[] = [SignalsService, SignalsPersonalData];
/** What other parts of the exchange (or other modules) may use: the signals service (the item page's panel, counts). */
export const SIGNALS_EXPORTS: Array<Type | string | symbol> = [SignalsService];
