import { PageNumber } from '../../common/form-fields';

/** The queue's query: its page (the notice after a decision is read on its own). */
export class QueueQueryDto {
  @PageNumber()
  page?: number;
}
