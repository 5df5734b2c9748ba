// The live sales view refreshes itself from its JSON twin every few seconds (not while the tab
// is hidden), updating the cells marked data-live.
'use strict';
{
  const REFRESH_MS = 5000;
  const root = document.querySelector('[data-live-url]');

  function fill(row, values) {
    if (!row) return;
    for (const cell of row.querySelectorAll('[data-live]')) {
      const value = values[cell.dataset.live];
      if (value !== undefined) cell.textContent = value;
    }
  }

  async function refresh() {
    if (document.hidden) return;
    try {
      const response = await fetch(root.dataset.liveUrl, {headers: {Accept: 'application/json'}});
      if (!response.ok) return;
      const live = await response.json();
      root.querySelector('[data-live="generated_at"]').textContent = live.generated_at;
      for (const type of live.ticket_types) {
        fill(root.querySelector(`[data-ticket-type="${type.id}"]`), type);
      }
      fill(root.querySelector('[data-ticket-type="totals"]'), live.totals);
      for (const row of live.sales) fill(root.querySelector(`[data-window="${row.window}"]`), row);
      if (live.queue) fill(root.querySelector('[data-queue-live]'), live.queue);
    } catch (error) {
      // Offline for a moment: the next refresh tries again.
    }
  }

  if (root) setInterval(refresh, REFRESH_MS);
}
