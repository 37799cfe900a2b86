// Live questions of a webinar: the server renders the list (and it works without JavaScript by reloading);
// this keeps it up to date from the event stream (`questions` events carry the whole list, most votes first).
// Question bodies and names are user text: they are only ever set with textContent, never as HTML.
// Everything page-specific comes from the list's data attributes:
//   data-stream-url        the text/event-stream to follow
//   data-base              /webinars/<slug>: where the vote and moderation forms post
//   data-csrf-token        the token every form carries
//   data-voted-ids         ids of the questions this viewer has voted for, comma-separated
//   data-my-question-ids   ids of this viewer's own questions (no vote button on those)
//   data-moderator         "true" for the webinar's author and admins (moderation buttons)
//   data-open              "true" while questions are open (vote buttons)
const list = document.getElementById('question-list');

if (list && 'EventSource' in window) {
  const status = document.getElementById('questions-status');
  const empty = document.getElementById('questions-empty');
  const base = list.dataset.base;
  const csrfToken = list.dataset.csrfToken || '';
  const voted = idSet(list.dataset.votedIds);
  const mine = idSet(list.dataset.myQuestionIds);
  const moderator = list.dataset.moderator === 'true';
  const open = list.dataset.open === 'true';
  let last = null;

  const source = new EventSource(list.dataset.streamUrl);
  source.addEventListener('questions', (event) => {
    let questions;
    try {
      questions = JSON.parse(event.data);
    } catch {
      return;
    }
    if (!Array.isArray(questions)) return;
    // The first frame is the list as it is now, usually what the server just rendered: only say so when it changed.
    const changed = last !== null && last !== event.data;
    last = event.data;
    render(questions);
    if (changed && status) say('Questions updated');
  });
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED && status) say('Live updates have stopped. Use “Refresh questions” to see new ones.');
  });
  window.addEventListener('pagehide', () => source.close());

  function say(text) {
    // Cleared first so that the same words are announced again.
    status.textContent = '';
    setTimeout(() => (status.textContent = text), 50);
  }

  function render(questions) {
    // Keep the keyboard where it was: a button whose form is still there after the update gets focus back.
    const focusedForm = list.contains(document.activeElement) ? document.activeElement.closest('form') : null;
    const focusedAction = focusedForm ? focusedForm.getAttribute('action') : null;

    const items = questions.filter((q) => q && typeof q.id === 'number').map(item);
    list.replaceChildren(...items);
    if (empty) empty.hidden = items.length > 0;

    if (focusedAction) {
      const again = [...list.querySelectorAll('form')].find((f) => f.getAttribute('action') === focusedAction);
      if (again) again.querySelector('button')?.focus();
    }
  }

  function item(q) {
    const li = element('li', 'nhsuk-card nhsuk-u-margin-bottom-3');
    li.id = `question-${q.id}`;
    const content = element('div', 'nhsuk-card__content');
    li.append(content);

    const body = element('p', 'nhsuk-body');
    String(q.body ?? '')
      .split('\n')
      .forEach((line, index) => {
        if (index) body.append(document.createElement('br'));
        body.append(document.createTextNode(line));
      });
    content.append(body);

    const votes = Number(q.votes) || 0;
    const meta = element('p', 'nhsuk-body-s nhsuk-u-margin-bottom-2');
    meta.append(`Asked by ${String(q.askedBy ?? '')}${mine.has(q.id) ? ' (you)' : ''} · ${votes} ${votes === 1 ? 'vote' : 'votes'}`);
    if (q.status === 'answered') meta.append(' ', tag('Answered', 'green'));
    if (q.status === 'hidden') meta.append(' ', tag('Hidden', 'grey'));
    if (voted.has(q.id)) {
      const note = document.createElement('span');
      note.textContent = 'You voted for this';
      meta.append(' · ', note);
    }
    content.append(meta);

    if (open && !mine.has(q.id) && !voted.has(q.id) && q.status !== 'hidden') {
      content.append(form(`${base}/questions/${q.id}/vote`, 'Upvote', ` the question from ${q.askedBy}`));
    }
    if (moderator) {
      if (q.status !== 'answered') content.append(form(`${base}/questions/${q.id}/status`, 'Mark answered', `: the question from ${q.askedBy}`, 'answered'));
      if (q.status !== 'hidden') content.append(form(`${base}/questions/${q.id}/status`, 'Hide', `: the question from ${q.askedBy}`, 'hidden'));
      if (q.status !== 'open') content.append(form(`${base}/questions/${q.id}/status`, 'Reopen', `: the question from ${q.askedBy}`, 'open'));
    }
    return li;
  }

  function form(action, label, hiddenLabel, moderation) {
    const f = element('form', 'academy-inline-form');
    f.method = 'post';
    f.setAttribute('action', action);
    f.append(hidden('_csrf', csrfToken));
    if (moderation) f.append(hidden('status', moderation));
    const button = element('button', 'nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-0');
    button.type = 'submit';
    button.dataset.module = 'nhsuk-button';
    const extra = element('span', 'nhsuk-u-visually-hidden');
    extra.textContent = hiddenLabel;
    button.append(label, extra);
    f.append(button);
    return f;
  }
}

function idSet(text) {
  return new Set(
    String(text || '')
      .split(',')
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0),
  );
}

function element(name, className) {
  const el = document.createElement(name);
  el.className = className;
  return el;
}

function tag(text, colour) {
  const strong = element('strong', `nhsuk-tag nhsuk-tag--${colour}`);
  strong.textContent = text;
  return strong;
}

function hidden(name, value) {
  const input = document.createElement('input');
  input.type = 'hidden';
  input.name = name;
  input.value = value;
  return input;
}
