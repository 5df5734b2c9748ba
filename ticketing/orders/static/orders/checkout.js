/* Fan checkout: countdowns on the server's clock, unlocking Buy at the on-sale moment,
   availability refreshed from a cacheable endpoint, and a running subtotal. Everything here is an
   enhancement: the forms work without it. Texts come translated from the page (data-text-*),
   numbers are formatted by Intl in the page's language. */
(function () {
  "use strict";

  var POLL_MS = 5000;
  var offset = 0; // server clock minus this device's clock, in ms
  var locale = document.documentElement.lang || "en";

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  // "2 days", "2 Tage", "5 minutes": Intl knows each language's plural forms.
  function unit(n, name) {
    try {
      return new Intl.NumberFormat(locale, { style: "unit", unit: name, unitDisplay: "long" })
        .format(n);
    } catch (e) {
      return n + " " + name + (n === 1 ? "" : "s");
    }
  }

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
    return (days ? unit(days, "day") + " " : "") + clock;
  }

  // What a screen reader hears, now and then rather than every second.
  function milestone(ms, template) {
    var s = Math.ceil(ms / 1000);
    var marks = [600, 300, 120, 60, 30, 10];
    for (var i = 0; i < marks.length; i++) {
      if (s === marks[i]) {
        return fill(template, { time: s >= 60 ? unit(s / 60, "minute") : unit(s, "second") });
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
      var said = milestone(left, section.getAttribute("data-text-left") || "{time}");
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

  // Sold out: Buy disabled and labelled so, and the notify-me form offered; seats back: the
  // other way round.
  function setSoldOut(form, soldOut) {
    var notice = document.querySelector("[data-sold-out]");
    var buy = form.querySelector("[data-buy]");
    var notify = document.querySelector("[data-notify]");
    if (notice) notice.hidden = !soldOut;
    if (buy) {
      buy.disabled = soldOut;
      buy.textContent = soldOut
        ? form.getAttribute("data-text-sold-out")
        : document.querySelector("[data-text-buy]").textContent;
    }
    if (notify) notify.hidden = !soldOut;
  }

  function applyAvailability(form, data) {
    if (data.status === "on_sale") {
      setSoldOut(form, !data.ticket_types.some(function (row) { return row.available > 0; }));
    }
    data.ticket_types.forEach(function (row) {
      var container = form.querySelector('[data-ticket-type="' + row.id + '"]');
      if (!container) return;
      container.querySelector("[data-available]").textContent = row.available
        ? fill(form.getAttribute("data-text-available"),
               { available: row.available, max: row.max_quantity })
        : form.getAttribute("data-text-sold-out");
      renderOptions(container.querySelector("select"), row.max_quantity);
    });
    updateSubtotal(form);
  }

  // The sum of what is chosen, as the hold page will charge it; hidden while nothing is.
  function updateSubtotal(form) {
    var output = form.querySelector("[data-subtotal]");
    if (!output) return;
    var total = 0;
    var currency = null;
    form.querySelectorAll("[data-ticket-type]").forEach(function (row) {
      var quantity = Number(row.querySelector("select").value) || 0;
      if (!quantity) return;
      // Prices in cents, so that 3 × 19.90 adds up to 59.70 exactly.
      total += Math.round(Number(row.getAttribute("data-price")) * 100) * quantity;
      currency = row.getAttribute("data-currency");
    });
    output.hidden = !currency;
    if (!currency) return;
    var amount = total / 100;
    var text;
    try {
      text = new Intl.NumberFormat(form.getAttribute("data-locale") || locale,
                                   { style: "currency", currency: currency }).format(amount);
    } catch (e) {
      text = amount.toFixed(2) + " " + currency;
    }
    output.querySelector("[data-subtotal-amount]").textContent = text;
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
    form.addEventListener("change", function () { updateSubtotal(form); });
    updateSubtotal(form);
    if (form.hasAttribute("data-queue-gated")) {
      // The waiting room (queue/waiting-room.js) shows the form when the fan's turn comes.
      form.addEventListener("queue:admitted", function () { pollAvailability(form); },
                            { once: true });
      return;
    }
    var section = document.querySelector('[data-countdown-kind="on-sale"]');
    if (!section) {
      pollAvailability(form);
      return;
    }
    syncClock(section.getAttribute("data-time-url")).then(function () {
      countdown(section, function (section, announce) {
        form.querySelector("[data-unlock]").disabled = false;
        var done = section.getAttribute("data-text-done");
        section.querySelector("[data-countdown-title]").textContent = done;
        section.querySelector("[data-clock]").hidden = true;
        if (announce) announce.textContent = done;
        var notify = document.querySelector("[data-notify]");
        if (notify) notify.hidden = true;
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
        var done = section.getAttribute("data-text-done");
        section.querySelector("[data-countdown-title]").textContent = done;
        var message = document.querySelector("[data-expired-message]");
        if (message) message.hidden = false;
        if (announce) announce.textContent = done;
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
