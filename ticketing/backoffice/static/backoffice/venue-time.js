// The event form's times are the chosen venue's: relabel them ("Europe/Berlin") and point the
// admin's "Now" and "Today" shortcuts at the venue's clock as soon as another venue is picked.
// The server reads the typed times in that zone when the form is saved, script or no script.
'use strict';
{
  const zones = JSON.parse(document.getElementById('venue-zones').textContent);
  const venue = document.getElementById('id_venue');

  function relabel() {
    const chosen = venue && zones[venue.value];
    if (!chosen) return;
    const [zone, offset] = chosen;
    for (const label of document.querySelectorAll('[data-venue-zone]')) label.textContent = zone;
    document.body.dataset.adminUtcOffset = offset;
  }

  if (venue) {
    // The venue is an autocomplete (select2), which announces changes through jQuery.
    window.django.jQuery(venue).on('change', relabel);
    document.addEventListener('formset:added', relabel);  // a new ticket type row
    relabel();
  }
}
