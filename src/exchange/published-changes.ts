import { Injectable } from '@nestjs/common';

/**
 * Tells this process's readers of the published exchange (the search's cached index and match lists) that what is
 * published changed here: an item published, a new revision of it published, or one withdrawn. Called after the change
 * has committed, so the next search reads it at once on this instance; other instances notice within their own
 * refresh interval (see search/exchange-search.service.ts).
 */
@Injectable()
export class PublishedChanges {
  private readonly listeners: Array<() => void> = [];

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  changed(): void {
    for (const listener of this.listeners) listener();
  }
}
