import { ValidationFailed } from '../../common/errors';
import type { ExchangeRevision } from '../entities/exchange-revision.entity';
import { REVIEW_CHECKS } from '../exchange-kinds';
import { CHECKS_MESSAGE, FEEDBACK_MESSAGE, parseDecision, parseReason, REASON_MESSAGE } from './moderation.service';
import { changesBetween, figuresOf, revisionFacts, type RevisionNames } from './revision-content';
import { parseSystem, sameSystemKey } from './systems.service';

const fieldsOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationFailed) return err.fieldErrors;
    throw err;
  }
  return {};
};

describe('the decision form', () => {
  it('publishes only with all four checks, whatever else is sent', () => {
    expect(parseDecision({ decision: 'publish', checks: [...REVIEW_CHECKS], feedback: '' })).toEqual({ decision: 'publish', checks: REVIEW_CHECKS, feedback: '' });
    expect(fieldsOf(() => parseDecision({ decision: 'publish', checks: REVIEW_CHECKS.slice(1) }))).toEqual({ checks: CHECKS_MESSAGE });
    expect(fieldsOf(() => parseDecision({ decision: 'publish', checks: REVIEW_CHECKS[0] }))).toEqual({ checks: CHECKS_MESSAGE });
    // A made-up code counts for nothing; a repeated one once.
    expect(fieldsOf(() => parseDecision({ decision: 'publish', checks: [...REVIEW_CHECKS.slice(1), REVIEW_CHECKS[1], 'made_up'] }))).toEqual({ checks: CHECKS_MESSAGE });
  });

  it('returns only with feedback, kept as written but for its line endings and outer space', () => {
    expect(fieldsOf(() => parseDecision({ decision: 'return', feedback: ' \r\n ' }))).toEqual({ feedback: FEEDBACK_MESSAGE });
    expect(fieldsOf(() => parseDecision({ decision: 'return', feedback: ['a', 'b'] }))).toEqual({ feedback: FEEDBACK_MESSAGE });
    expect(parseDecision({ decision: 'return', feedback: '  Fix **this**\r\n- and that  ' })).toEqual({ decision: 'return', checks: [], feedback: 'Fix **this**\n- and that' });
    expect(Object.keys(fieldsOf(() => parseDecision({ decision: 'return', feedback: 'x'.repeat(5001) })))).toEqual(['feedback']);
  });

  it('needs a decision', () => {
    expect(Object.keys(fieldsOf(() => parseDecision({ checks: [...REVIEW_CHECKS] })))).toEqual(['decision']);
    expect(Object.keys(fieldsOf(() => parseDecision(undefined)))).toEqual(['decision']);
  });

  it('a withdrawal needs a reason', () => {
    expect(fieldsOf(() => parseReason('  '))).toEqual({ reason: REASON_MESSAGE });
    expect(fieldsOf(() => parseReason(undefined))).toEqual({ reason: REASON_MESSAGE });
    expect(parseReason(' Names a patient\r\n')).toBe('Names a patient');
  });
});

describe('systems on the list', () => {
  it('are the same whatever the case and spacing of name and supplier', () => {
    expect(sameSystemKey(' Millennium ', 'Oracle  Health')).toBe(sameSystemKey('MILLENNIUM', 'oracle health'));
    expect(sameSystemKey('Millennium', 'Oracle Health')).not.toBe(sameSystemKey('Millennium', 'Someone Else'));
    expect(parseSystem({ name: '  Rio  EPR ', supplier: ' Servelec ', category: 'epr' })).toEqual({ name: 'Rio EPR', supplier: 'Servelec', category: 'epr' });
    expect(Object.keys(fieldsOf(() => parseSystem({ name: '', supplier: '', category: 'nope' })))).toEqual(['name', 'supplier', 'category']);
  });
});

describe('what a revision changes', () => {
  const revision = (changes: Partial<ExchangeRevision>) =>
    ({
      title: 'Discharge letters',
      summary: 'Faster letters',
      careSetting: 'acute',
      context: 'Letters took a week.',
      actions: 'We changed the template.',
      results: 'Two days.',
      keyFigures: JSON.stringify([{ label: 'Sent within 24 hours', before: 61, after: 94, unit: '%' }]),
      lessons: 'Start small.',
      differently: null,
      purpose: null,
      howToUse: null,
      toolType: null,
      licence: null,
      tip: null,
      topicIds: '[1]',
      systemIds: '[10]',
      partnerOrganisationIds: '[]',
      changeNote: null,
      ...changes,
    }) as ExchangeRevision;
  const names: RevisionNames = {
    topics: new Map([
      [1, 'Digital records'],
      [2, 'Cyber security'],
    ]),
    systems: new Map([
      [10, { label: 'Millennium (Oracle Health)' }],
      [11, { label: 'SystmOne (TPP)' }],
    ]),
    organisations: new Map(),
  };
  const facts = (r: ExchangeRevision, attachments = [] as Array<{ id: number; fileName: string }>) =>
    revisionFacts('case_study', r, names, { attachments: attachments.map((a) => ({ ...a, contentType: 'application/pdf', bytes: 1, version: null })), toolFile: null });

  it('is nothing when nothing differs', () => {
    expect(changesBetween(facts(revision({})), facts(revision({})))).toEqual([]);
  });

  it('lists each changed section with both versions, and what lists gained and lost', () => {
    const before = facts(revision({}), [{ id: 1, fileName: 'old.pdf' }]);
    const after = facts(
      revision({ context: 'Letters took **ten** days.', topicIds: '[1,2]', systemIds: '[11]', keyFigures: JSON.stringify([{ label: 'Sent within 24 hours', before: 61, after: 97, unit: '%' }]) }),
      [{ id: 2, fileName: 'new.pdf' }],
    );
    const changes = changesBetween(before, after);
    expect(changes.map((c) => c.label)).toEqual(['The context and the problem', 'Results as figures', 'Topics', 'Systems and suppliers', 'Attachments']);
    expect(changes[0]).toEqual({ label: 'The context and the problem', beforeHtml: '<p>Letters took a week.</p>\n', afterHtml: '<p>Letters took <strong>ten</strong> days.</p>\n' });
    expect(changes[1]).toEqual({ label: 'Results as figures', added: ['Sent within 24 hours: 61% before, 97% after'], removed: ['Sent within 24 hours: 61% before, 94% after'] });
    expect(changes[2]).toEqual({ label: 'Topics', added: ['Cyber security'], removed: [] });
    expect(changes[3]).toEqual({ label: 'Systems and suppliers', added: ['SystmOne (TPP)'], removed: ['Millennium (Oracle Health)'] });
    expect(changes[4]).toEqual({ label: 'Attachments', added: ['new.pdf (file 2)'], removed: ['old.pdf (file 1)'] });
  });

  it('escapes plain fields and sanitises Markdown', () => {
    const changes = changesBetween(facts(revision({})), facts(revision({ title: '<b>Bold</b> title', lessons: '<script>x()</script> [link](javascript:alert(1))' })));
    expect(changes[0]).toEqual({ label: 'Title', beforeHtml: '<p>Discharge letters</p>', afterHtml: '<p>&lt;b&gt;Bold&lt;/b&gt; title</p>' });
    expect(changes[1].afterHtml).not.toContain('<script>');
    expect(changes[1].afterHtml).not.toContain('href="javascript');
  });

  it('reads stored key figures defensively', () => {
    expect(figuresOf('not json')).toEqual([]);
    expect(figuresOf('{"a":1}')).toEqual([]);
    expect(figuresOf(JSON.stringify([{ label: 'ok', before: 1, after: 2 }, { label: 'bad', before: 'x', after: 2 }]))).toEqual([{ label: 'ok', before: 1, after: 2, unit: '' }]);
  });
});
