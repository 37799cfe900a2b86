// The organisation picker, enhanced: as you type, organisations are suggested from GET /api/v1/organisations?q=
// through a native <datalist>, so the browser's own list gives keyboard use (arrow keys, Enter, Escape) and what
// screen readers announce. Choosing a suggestion fills in the exact name, which the server then takes as it is;
// without JavaScript the server matches the typed text when the form is sent.
const PAUSE_MS = 250;
const MIN_LENGTH = 2;

for (const input of document.querySelectorAll('input[data-organisation-picker]')) {
  const list = document.createElement('datalist');
  list.id = `${input.id}-suggestions`;
  const status = document.createElement('div');
  status.className = 'nhsuk-u-visually-hidden';
  status.setAttribute('role', 'status');
  input.after(list, status);
  input.setAttribute('list', list.id);
  // The browser's own memory of typed values would cover the suggestions.
  input.setAttribute('autocomplete', 'off');

  let timer = 0;
  let asked = '';
  const suggest = async () => {
    const q = input.value.trim();
    if (q.length < MIN_LENGTH || q === asked) return;
    asked = q;
    try {
      const response = await fetch(`/api/v1/organisations?q=${encodeURIComponent(q)}`, { credentials: 'same-origin', headers: { accept: 'application/json' } });
      if (!response.ok || input.value.trim() !== q) return;
      const found = await response.json();
      list.replaceChildren(
        ...found.map((organisation) => {
          const option = document.createElement('option');
          option.value = organisation.name;
          option.label = [organisation.typeLabel, organisation.regionLabel, organisation.odsCode ? `ODS code ${organisation.odsCode}` : null].filter(Boolean).join(' · ');
          return option;
        }),
      );
      status.textContent = found.length ? `${found.length} ${found.length === 1 ? 'organisation matches' : 'organisations match'}: use the arrow keys to choose` : 'No organisation matches yet: you can ask for a new one when you send the form';
    } catch {
      // Offline for a moment: the form works without suggestions.
    }
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(suggest, PAUSE_MS);
  });
}
