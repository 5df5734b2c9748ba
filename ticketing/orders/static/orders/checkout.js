/* Fan checkout: countdowns on the server's clock, unlocking Buy at the on-sale moment, and
   availability refreshed from a cacheable endpoint. Everything here is an enhancement: the
   forms work without it. */
(function () {
  "use strict";

  var POLL_MS = 5000;
  var offset = 0; // server clock minus this device's clock, in ms

  function serverNow() {
    return Date.now() + offset;
  }

  // Three samples of the server clock; the one with the shortest round trip wins, its server
  // reading taken to be from the middle of that trip.
  function syncClock(url) {
    var best = null;
    function sample() {
      var sent = Date.now();
      return fetch(url, { cache: "no-store" })
        .then(function (response) { return response.json(); })
        .then(function (body) {
          var received = Date.now();
          var roundTrip = received - sent;
          if (!best || roundTrip < best.roundTrip) {
            best = { roundTrip: roundTrip, offset: body.now - (sent + roundTrip / 2) };
          }
        });
    }
    return sample().then(sample).then(sample)
      .catch(function () { /* keep the device clock */ })
      .then(function () { if (best) offset = best.offset; });
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function formatLeft(ms) {
    var total = Math.max(0, Math.ceil(ms / 1000));
    var days = Math.floor(total / 86400);
    var hours = Math.floor((total % 86400) / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var seconds = total % 60;
    var clock = (days || hours ? pad(hours) + ":" : "") + pad(minutes) + ":" + pad(seconds);
    return (days ? days + (days === 1 ? " day " : " days ") : "") + clock;
  }

  // What a screen reader hears, now and then rather than every second.
  function milestone(ms) {
    var s = Math.ceil(ms / 1000);
    var marks = [600, 300, 120, 60, 30, 10];
    for (var i = 0; i < marks.length; i++) {
      if (s === marks[i]) {
        return s >= 60 ? (s / 60) + " minute" + (s === 60 ? "" : "s") + " left" : s + " seconds left";
      }
    }
    return null;
  }

  function countdown(section, onZero) {
    var target = Number(section.getAttribute("data-countdown"));
    var clock = section.querySelector("[data-clock]");
    var announce = section.querySelector("[data-announce]");
    var lastSaid = null;
    function tick() {
      var left = target - serverNow();
      if (left <= 0) {
        clock.textContent = "00:00";
        onZero(section, announce);
        return;
      }
      clock.textContent = formatLeft(left);
      var said = milestone(left);
      if (said && said !== lastSaid && announce) {
        announce.textContent = said;
        lastSaid = said;
      }
      // Wake just after the next whole second, so the unlock is not late by a frame.
      setTimeout(tick, Math.min(left, (left % 1000) + 20));
    }
    tick();
  }

  // --- Event page -------------------------------------------------------------------------

  function renderOptions(select, max) {
    var chosen = Math.min(Number(select.value) || 0, max);
    if (select.options.length === max + 1) return;
    select.textContent = "";
    for (var n = 0; n <= max; n++) {
      var option = document.createElement("option");
      option.value = String(n);
      option.textContent = String(n);
      option.selected = n === chosen;
      select.appendChild(option);
    }
  }

  function applyAvailability(form, data) {
    var soldOut = document.querySelector("[data-sold-out]");
    if (soldOut && data.status === "on_sale") {
      soldOut.hidden = data.ticket_types.some(function (row) { return row.available > 0; });
    }
    data.ticket_types.forEach(function (row) {
      var container = form.querySelector('[data-ticket-type="' + row.id + '"]');
      if (!container) return;
      container.querySelector("[data-available]").textContent = row.available
        ? row.available + " left · up to " + row.max_quantity + " per order"
        : "Sold out";
      renderOptions(container.querySelector("select"), row.max_quantity);
    });
  }

  function pollAvailability(form) {
    var url = form.getAttribute("data-availability");
    function poll() {
      if (document.visibilityState !== "hidden") {
        fetch(url)
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (data) { if (data) applyAvailability(form, data); })
          .catch(function () {});
      }
      // A little jitter, so a crowd that loaded together does not poll together.
      setTimeout(poll, POLL_MS + Math.random() * 1000);
    }
    poll();
  }

  function initEventPage() {
    var form = document.querySelector("form[data-availability]");
    if (!form) return;
    var section = document.querySelector('[data-countdown-kind="on-sale"]');
    if (!section) {
      pollAvailability(form);
      return;
    }
    syncClock(section.getAttribute("data-time-url")).then(function () {
      countdown(section, function (section, announce) {
        form.querySelector("[data-unlock]").disabled = false;
        section.querySelector("[data-countdown-title]").textContent = "Tickets are on sale now";
        section.querySelector("[data-clock]").hidden = true;
        if (announce) announce.textContent = "Tickets are on sale now.";
        pollAvailability(form);
      });
    });
  }

  // --- Hold page --------------------------------------------------------------------------

  function initHoldPage() {
    var section = document.querySelector('[data-countdown-kind="hold"]');
    if (!section) return;
    syncClock(section.getAttribute("data-time-url")).then(function () {
      countdown(section, function (section, announce) {
        var fieldset = document.querySelector("[data-lock-on-expiry]");
        if (fieldset) fieldset.disabled = true;
        section.querySelector("[data-countdown-title]").textContent = "Your hold ran out";
        var message = document.querySelector("[data-expired-message]");
        if (message) message.hidden = false;
        if (announce) announce.textContent = "Your hold ran out.";
      });
    });
  }

  function initPrint() {
    var button = document.querySelector("[data-print]");
    if (!button) return;
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  }

  function init() {
    initEventPage();
    initHoldPage();
    initPrint();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
