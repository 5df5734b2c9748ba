// The door view refreshes its counts from its JSON twin every few seconds (not while the tab is
// hidden), updating the cells marked data-door; the arrivals and log refresh with the page.
'use strict';
{
  const REFRESH_MS = 5000;
  const root = document.querySelector('[data-door-url]');

  function fill(row, values) {
    if (!row) return;
    for (const cell of row.querySelectorAll('[data-door]')) {
      const value = values[cell.dataset.door];
      if (value !== undefined) cell.textContent = value;
    }
  }

  async function refresh() {
    if (document.hidden) return;
    try {
      const response = await fetch(root.dataset.doorUrl, {headers: {Accept: 'application/json'}});
      if (!response.ok) return;
      const live = await response.json();
      root.querySelector('[data-door="generated_at"]').textContent = live.generated_at;
      for (const type of live.ticket_types) {
        fill(root.querySelector(`[data-ticket-type="${type.id}"]`), type);
      }
      fill(root.querySelector('[data-ticket-type="totals"]'), live.totals);
      for (const [result, n] of Object.entries(live.scans)) {
        fill(root.querySelector(`[data-result="${result}"]`), {n});
      }
      fill(root.querySelector('[data-result="conflicts"]'), {n: live.conflicts});
    } catch (error) {
      // Offline for a moment: the next refresh tries again.
    }
  }

  if (root) setInterval(refresh, REFRESH_MS);
}
