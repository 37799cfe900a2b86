import { PageNumber } from '../../common/form-fields';

/** The queue's query: its page (a notice after a decision is read on its own). */
export class QueueQueryDto {
  @PageNumber()
  page?: number;

  notice?: string;
}
