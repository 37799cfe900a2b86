// While a completed course's certificate is being prepared, check every few seconds and show the link when it exists.
const status = document.getElementById('certificate-status');
if (status) {
  const courseId = Number(status.dataset.courseId);
  let tries = 0;
  const check = async () => {
    tries++;
    try {
      const response = await fetch('/api/v1/certificates', { credentials: 'same-origin', headers: { accept: 'application/json' } });
      if (response.ok) {
        const found = (await response.json()).find((c) => c.subject.type === 'course' && c.subject.id === courseId && c.status === 'valid');
        if (found) {
          status.innerHTML = '';
          const p = document.createElement('p');
          p.className = 'nhsuk-card__description';
          const download = document.createElement('a');
          download.href = `/certificates/${found.code}.pdf`;
          download.setAttribute('download', '');
          download.textContent = 'Download your certificate';
          const verify = document.createElement('a');
          verify.href = `/verify/${found.code}`;
          verify.textContent = 'Verification page';
          p.append(download, ' (PDF) · ', verify);
          status.append(p);
          return;
        }
      }
    } catch {
      // offline for a moment: try again
    }
    if (tries < 60) setTimeout(check, 3000);
  };
  setTimeout(check, 2000);
}
