// New replies on an open discussion thread, from its event stream (GET /discussions/threads/{id}/events).
// The server renders the thread, and without JavaScript it is brought up to date by reloading; this only adds.
//   #discussion-replies        the list of replies: data-events-url (the stream), data-live="append" on the
//                              thread's last page (new replies are added to it) or "notice" on earlier pages
//   #discussion-live-status    a polite live region: what arrived is said there
//   #discussion-reply-count    the number of replies, kept up to date (and the word after it)
// Names and roles are user text: only ever set with textContent. bodyHtml was sanitised by the server when the
// post was written (common/markdown.ts), exactly as the page itself shows it. Focus is never moved.
const list = document.getElementById('discussion-replies');

if (list && list.dataset.eventsUrl && 'EventSource' in window) {
  const status = document.getElementById('discussion-live-status');
  const count = document.getElementById('discussion-reply-count');
  const append = list.dataset.live === 'append';
  const url = new URL(list.dataset.eventsUrl, window.location.href);
  // Replies published between this page being rendered and the stream opening are sent first.
  const newest = newestPostId();
  if (append && newest) url.searchParams.set('after', String(newest));

  const source = new EventSource(url.href);
  source.addEventListener('post', (event) => {
    const post = parse(event.data);
    if (!post || !Number.isInteger(post.id) || post.id <= 0) return;
    if (Number.isInteger(post.replyCount)) showCount(post.replyCount);
    const name = post.author && typeof post.author.name === 'string' ? post.author.name : 'a former member';
    if (!append) {
      notice('discussion-live-replies', 'New replies', ' — ', 'go to the last page', safeHref(post.lastPageHref || post.href));
      say(`New reply from ${name}`);
      return;
    }
    if (document.getElementById(`post-${post.id}`)) return;
    list.append(item(post));
    const none = document.querySelector('[data-no-replies]');
    if (none) none.hidden = true;
    say(`New reply from ${name}`);
  });
  source.addEventListener('changed', () => {
    notice('discussion-live-changed', 'This thread has changed.', ' ', 'Reload to see the latest.', window.location.pathname + window.location.search);
  });
  window.addEventListener('pagehide', () => source.close());

  function newestPostId() {
    let max = 0;
    for (const li of list.querySelectorAll('[data-post-id]')) max = Math.max(max, Number(li.dataset.postId) || 0);
    return max;
  }

  function say(text) {
    if (!status) return;
    // Cleared first so that the same words are announced again.
    status.textContent = '';
    setTimeout(() => (status.textContent = text), 50);
  }

  /** One notice above the replies per kind, shown once and kept (its words say all there is to say). */
  function notice(id, lead, gap, linkText, href) {
    if (document.getElementById(id)) return;
    const box = element('div', 'nhsuk-inset-text discussion-live-notice');
    box.id = id;
    const p = element('p', 'nhsuk-body');
    const link = element('a', 'nhsuk-link');
    link.href = href;
    link.textContent = linkText;
    p.append(lead, gap, link);
    box.append(p);
    list.before(box);
  }

  /** A reply as the thread page shows one (views/discussions/threads/thread.hbs): who, when, what, and where to act on it. */
  function item(post) {
    const li = element('li', 'discussion-post');
    li.id = `post-${post.id}`;
    li.dataset.postId = String(post.id);
    li.dataset.status = 'visible';
    const card = element('div', 'nhsuk-card nhsuk-u-margin-bottom-4');
    const content = element('div', 'nhsuk-card__content');

    const meta = element('p', 'nhsuk-body-s academy-course-meta');
    meta.dataset.postAuthor = '';
    const who = document.createElement('strong');
    who.textContent = post.author && typeof post.author.name === 'string' ? post.author.name : 'A former member';
    meta.append(who);
    for (const about of [post.author && post.author.roleLabel, post.author && post.author.organisationName]) {
      if (typeof about === 'string' && about) meta.append(` · ${about}`);
    }
    if (typeof post.createdAt === 'string') {
      const time = document.createElement('time');
      time.dateTime = post.createdAt;
      time.textContent = typeof post.createdLabel === 'string' ? post.createdLabel : post.createdAt;
      meta.append(' · ', time);
    }
    content.append(meta);

    const body = element('div', 'academy-prose discussion-post__body');
    // Sanitised by the server when the post was written; the page renders the same HTML.
    body.innerHTML = typeof post.bodyHtml === 'string' ? post.bodyHtml : '';
    content.append(body);

    const links = element('ul', 'nhsuk-list discussion-post__links nhsuk-body-s nhsuk-u-margin-bottom-0');
    const reload = document.createElement('li');
    const link = document.createElement('a');
    link.href = safeHref(post.href);
    link.textContent = 'Reload to reply, quote or vote';
    reload.append(link);
    links.append(reload);
    content.append(links);

    card.append(content);
    li.append(card);
    return li;
  }

  /** The count, and the word after it ("1 reply", "2 replies"). */
  function showCount(n) {
    if (!count) return;
    count.textContent = String(n);
    const word = count.nextSibling;
    if (word && word.nodeType === Node.TEXT_NODE && /^\s*repl(y|ies)\b/.test(word.textContent)) word.textContent = word.textContent.replace(/repl(y|ies)/, n === 1 ? 'reply' : 'replies');
  }
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** A link the server sent, kept to this site's own paths. */
function safeHref(href) {
  return typeof href === 'string' && href.startsWith('/') && !href.startsWith('//') ? href : window.location.pathname;
}

function element(name, className) {
  const el = document.createElement(name);
  el.className = className;
  return el;
}
