// Tracked videos (video lessons, webinar recordings): resume where the viewer left off, and report what was
// really watched. The server merges the reported intervals and decides completion; this only describes what
// played. Everything specific to the page comes from the <video>'s data attributes:
//   data-heartbeat-url     where heartbeats are POSTed, e.g. /api/v1/progress/heartbeat (required: marks the video as tracked)
//   data-heartbeat-fields  a JSON object merged into each heartbeat's body, e.g. {"lessonId":12}
//   data-resume-at         seconds to start from (0: the beginning)
//   data-csrf-token        sent as the x-csrf-token header
//   data-tracking          "on" to send heartbeats (anything else: resume only)
// Each heartbeat's JSON answer ({coveredPercent, lessonComplete or credited, …}) updates the progress bar in
// #video-coverage and, once complete, the tag marked with data-completion-tag (its value, if any, is the text to show).
const video = document.querySelector('video[data-heartbeat-url]');

if (video) {
  const heartbeatUrl = video.dataset.heartbeatUrl;
  const fields = parseFields(video.dataset.heartbeatFields);
  const resumeAt = Number(video.dataset.resumeAt || 0);
  const tracking = video.dataset.tracking === 'on';
  const csrfToken = video.dataset.csrfToken;
  const HEARTBEAT_SECONDS = 10;
  let from = null; // where the current stretch of continuous playing began
  let last = null; // the last position seen in it

  const resume = () => {
    if (resumeAt > 0 && resumeAt < video.duration - 2) video.currentTime = resumeAt;
  };
  // This module runs after parsing; a cached video may already have its metadata by then.
  if (video.readyState >= HTMLMediaElement.HAVE_METADATA) resume();
  else video.addEventListener('loadedmetadata', resume, { once: true });

  const send = (start, end, keepalive = false) => {
    if (!tracking || !(end - start > 0.25)) return;
    fetch(heartbeatUrl, {
      method: 'POST',
      credentials: 'same-origin',
      keepalive,
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
      body: JSON.stringify({ ...fields, from: round(start), to: round(end) }),
    })
      .then((response) => (response.ok ? response.json() : null))
      .then((result) => result && showProgress(result))
      .catch(() => {}); // the next heartbeat covers this stretch again
  };

  const flush = (keepalive = false) => {
    if (from !== null && last !== null) send(from, last, keepalive);
    from = null;
    last = null;
  };

  video.addEventListener('timeupdate', () => {
    if (video.paused || video.seeking) return;
    const now = video.currentTime;
    if (from === null || now < last || now - last > 2 * Math.max(1, video.playbackRate)) {
      // A jump (seek or skip): what lies between was not watched.
      flush();
      from = now;
      last = now;
      return;
    }
    last = now;
    if (last - from >= HEARTBEAT_SECONDS) {
      send(from, last);
      from = last;
    }
  });
  video.addEventListener('pause', () => flush());
  video.addEventListener('ended', () => flush());
  video.addEventListener('seeking', () => flush());
  document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && flush(true));
  window.addEventListener('pagehide', () => flush(true));
}

/** The extra heartbeat fields: a JSON object, or none if the attribute is missing or not an object. */
function parseFields(json) {
  try {
    const value = JSON.parse(json || '{}');
    return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

function round(seconds) {
  return Math.round(seconds * 1000) / 1000;
}

function showProgress(result) {
  const bar = document.querySelector('#video-coverage progress');
  const label = document.querySelector('#video-coverage .academy-progress__label');
  if (bar) bar.value = result.coveredPercent;
  if (label) label.firstChild.textContent = `${result.coveredPercent}% complete`;
  const tag = document.querySelector('[data-completion-tag]');
  if ((result.lessonComplete || result.credited) && tag) {
    tag.textContent = tag.dataset.completionTag || 'Completed';
    tag.classList.replace('nhsuk-tag--grey', 'nhsuk-tag--green');
  }
}
