// trackwatch's dashboard works without this file; it adds conveniences: copy buttons,
// select-all, and live queue counts.
document.addEventListener('DOMContentLoaded', () => {
  document.querySelectorAll('button.copy').forEach(b => b.addEventListener('click', () => {
    const el = document.getElementById(b.dataset.copy);
    if (el && navigator.clipboard) navigator.clipboard.writeText(el.textContent).then(() => { b.textContent = 'Copied'; });
  }));
  const all = document.getElementById('all');
  if (all) all.addEventListener('change', () => {
    document.querySelectorAll('input[type=checkbox][name=alert_id], input[type=checkbox][name=case_id]').forEach(c => { c.checked = all.checked; });
  });
  const counts = document.getElementById('counts');
  const refresh = () => fetch(counts.dataset.src, {credentials: 'same-origin'}).then(r => r.ok ? r.json() : null).then(s => {
    if (s) counts.textContent = 'queue ' + s.queue_cases + ' cases · untouched ' + s.untouched_cases;
  }).catch(() => {});
  if (counts) { refresh(); setInterval(refresh, 30000); }
});
