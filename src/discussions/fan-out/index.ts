import type { Provider, Type } from '@nestjs/common';

/** The fan-out part of discussions: what it adds to DiscussionsModule. */
export const FAN_OUT_CONTROLLERS: Type[] = [];
export const FAN_OUT_PROVIDERS: Provider[] = [];
export const FAN_OUT_EXPORTS: Array<Type | string | symbol> = [];
