/* The event page as the waiting room (templates: queue/waiting_room.html).
 *
 * Polls the status document every fan shares (CDN-cached), joins once (proof of work, from
 * QueueCore), works out its own place from the published draw, asks for the admission pass when
 * its turn comes, and then shows the ticket form with the pass in it. The queue ticket and the
 * pass are kept in localStorage per event, so a reload or a second tab keeps the same place;
 * the affiliate and click id from the Tickets link are kept with them. Times follow the
 * server's clock (the status's server_time). Texts come translated from the page (data-text-*).
 */
(function () {
  "use strict";

  var POLL_MS = 3000;
  var FAR_POLL_MS = 6000; // more than FAR_MINUTES from the door: half the polls
  var FAR_MINUTES = 5;
  var HIDDEN_POLL_MS = 15000;
  var JOIN_LOCK_MS = 20000; // another tab is joining: wait this long before trying ourselves

  var section, form, key, lockKey, locale;
  var offset = 0; // server clock minus this device's clock, in ms
  var status = null;
  var joining = false;
  var asking = false;
  var admittedShown = false;
  var timers = {};
  var far = false; // this fan's turn is more than FAR_MINUTES away

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, name) { return values[name]; });
  }

  function text(name) { return section.getAttribute("data-text-" + name) || ""; }

  function serverNow() { return Date.now() + offset; }

  function load() {
    try { return JSON.parse(localStorage.getItem(key)) || null; } catch (e) { return null; }
  }

  function save(record) {
    try { localStorage.setItem(key, JSON.stringify(record)); } catch (e) { /* private mode */ }
  }

  function forget() {
    try { localStorage.removeItem(key); localStorage.removeItem(lockKey); } catch (e) {}
  }

  function show(phase) {
    section.querySelectorAll("[data-queue-phase]").forEach(function (element) {
      element.hidden = element.getAttribute("data-queue-phase") !== phase;
    });
    var keep = section.querySelector("[data-queue-keep]");
    keep.hidden = ["pre", "waiting", "joining", "sold-out"].indexOf(phase) < 0;
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function clock(ms) {
    var total = Math.max(0, Math.ceil(ms / 1000));
    var hours = Math.floor(total / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    return (hours ? hours + ":" : "") + pad(minutes) + ":" + pad(total % 60);
  }

  function unit(n, name) {
    try {
      return new Intl.NumberFormat(locale, { style: "unit", unit: name, unitDisplay: "long" })
        .format(n);
    } catch (e) {
      return n + " " + name + (n === 1 ? "" : "s");
    }
  }

  // A clock element counting down to `target` (server time); `done` once when it gets there.
  function countdown(name, element, target, done) {
    clearTimeout(timers[name]);
    function tick() {
      var left = target - serverNow();
      element.textContent = clock(left);
      if (left <= 0) { if (done) done(); return; }
      timers[name] = setTimeout(tick, Math.min(left, (left % 1000) + 20));
    }
    tick();
  }

  function soldOutNotice(soldOut) {
    var notice = document.querySelector("[data-sold-out]");
    if (notice) notice.hidden = !soldOut;
  }

  // The affiliate and click id of the Tickets link ride along with the queue ticket: a reload
  // or a tab opened without them still credits the link the fan came from.
  function keepAttribution(record) {
    ["affiliate", "click"].forEach(function (name) {
      var input = form.querySelector('input[name="' + name + '"]');
      if (!input) return;
      if (input.value && !record[name]) record[name] = input.value;
      else if (!input.value && record[name]) input.value = record[name];
    });
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    });
  }

  function join() {
    if (joining) return;
    var lock = 0;
    try { lock = Number(localStorage.getItem(lockKey)) || 0; } catch (e) {}
    if (Date.now() - lock < JOIN_LOCK_MS) return; // the other tab's ticket comes by `storage`
    try { localStorage.setItem(lockKey, String(Date.now())); } catch (e) {}
    joining = true;
    show("joining");
    var challenge = status.pow.challenge;
    window.QueueCore.solvePow(challenge, status.pow.difficulty)
      .then(function (nonce) {
        return post(section.getAttribute("data-join-url"), { challenge: challenge, nonce: nonce });
      })
      .then(function (answer) {
        if (answer.status !== 201) return false; // not open yet, or a stale challenge
        if (!load()) {
          var record = answer.data;
          keepAttribution(record);
          save(record);
        }
        return true;
      })
      .catch(function () { return false; })
      .then(function (joined) {
        joining = false;
        try { localStorage.removeItem(lockKey); } catch (e) {}
        // Joined: show the place now; else the next poll tries again (never in a tight loop).
        if (joined) render();
      });
  }

  // The ticket's 0-based place once the order is known, else null (the pre-queue before the
  // draw). A pre-queue place is worked out from the published seed once, then kept.
  function placeOf(record) {
    if (record.kind === "fifo") {
      return Promise.resolve(status.pre_queue_count + record.number - 1);
    }
    if (!status.seed) return Promise.resolve(null);
    if (record.number > status.pre_queue_count) {
      // Not in the pre-queue that was drawn (it closed as this ticket was issued): join anew.
      forget();
      return Promise.resolve(undefined);
    }
    if (record.seed === status.seed && typeof record.place === "number") {
      return Promise.resolve(record.place);
    }
    return window.QueueCore.position(status.seed, status.pre_queue_count, record.number - 1)
      .then(function (place) {
        record.seed = status.seed;
        record.place = place;
        save(record);
        return place;
      });
  }

  function showWaiting(record, place) {
    var ahead = Math.max(place - status.admitted_up_to, 0);
    if (typeof record.startAhead !== "number") {
      record.startAhead = ahead;
      save(record);
    }
    var rule = new Intl.PluralRules(locale).select(ahead) === "one" ? "ahead-one" : "ahead-other";
    section.querySelector("[data-queue-ahead]").textContent =
      fill(text(rule), { n: new Intl.NumberFormat(locale).format(ahead) });
    var eta = section.querySelector("[data-queue-eta]");
    var rate = status.rate_per_minute;
    if (rate > 0) {
      var minutes = Math.round(ahead / rate);
      var time = minutes < 90 ? unit(minutes, "minute") : unit(Math.round(minutes / 60), "hour");
      eta.textContent = minutes < 1 ? text("eta-soon") : fill(text("eta"), { time: time });
    }
    eta.hidden = !(rate > 0);
    far = rate > 0 && ahead / rate > FAR_MINUTES;
    var progress = section.querySelector("[data-queue-progress]");
    progress.value = record.startAhead > 0
      ? Math.round(100 * (1 - ahead / record.startAhead)) : 100;
    show("waiting");
  }

  // One request for the pass; a "not yet" (the status ran ahead of the origin) waits for the
  // next poll rather than asking again at once.
  function askPass(record) {
    if (asking) return;
    asking = true;
    post(section.getAttribute("data-pass-url"), { ticket: record.ticket })
      .then(function (answer) {
        var current = load() || record;
        if (answer.status === 200) {
          current.pass = answer.data.pass;
          current.expires_at = answer.data.expires_at;
          save(current);
        } else if (answer.status === 410) {
          current.lapsed = true;
          save(current);
        } else if (answer.status === 400) {
          forget(); // not a ticket of this room (a new draw): join afresh
        } else {
          return false;
        }
        return true;
      })
      .catch(function () { return false; })
      .then(function (changed) {
        asking = false;
        if (changed) render();
      });
  }

  function showAdmitted(record) {
    show("admitted"); // sold out or not, from here on the form's availability tells
    form.querySelector("[data-queue-pass]").value = record.pass;
    keepAttribution(record);
    if (admittedShown) return;
    admittedShown = true;
    form.hidden = false;
    form.querySelector("[data-unlock]").disabled = false;
    form.dispatchEvent(new CustomEvent("queue:admitted"));
    countdown("window", section.querySelector("[data-queue-window-clock]"), record.expires_at,
      function () {
        form.querySelector("[data-unlock]").disabled = true;
        var current = load();
        if (current && current.ticket === record.ticket) {
          current.lapsed = true;
          save(current);
        }
        render();
      });
  }

  function showLapsed() {
    admittedShown = false;
    form.hidden = true;
    show("lapsed");
  }

  var rendering = 0;

  // Draws the page from the latest status and this browser's record; joins or asks for the
  // pass when it is time.
  function render() {
    if (!status) return;
    var record = load();
    var countdownBox = section.querySelector("[data-queue-countdown]");
    var beforeSale = serverNow() < status.on_sale_at;
    countdownBox.hidden = !beforeSale;
    // "Tell me when tickets go on sale" is moot once they are: the fan is in the queue.
    var notify = document.querySelector("[data-notify]");
    if (notify && !beforeSale) notify.hidden = true;
    if (beforeSale) {
      countdown("sale", section.querySelector("[data-queue-clock]"), status.on_sale_at, poll);
    }
    if (status.state === "off") {
      // The promoter turned the room off: the plain ticket form, as without one.
      section.hidden = true;
      form.hidden = false;
      form.querySelector("[data-unlock]").disabled = !!beforeSale;
      if (!admittedShown) form.dispatchEvent(new CustomEvent("queue:admitted"));
      admittedShown = true;
      return;
    }
    if (record && record.pass && record.expires_at > serverNow() && !record.lapsed) {
      showAdmitted(record);
      return;
    }
    if (record && (record.lapsed || record.pass)) {
      showLapsed();
      return;
    }
    if (status.state === "scheduled" || status.state === "closed") {
      show(status.state);
      return;
    }
    if (!record) {
      join();
      return;
    }
    keepAttribution(record);
    var run = ++rendering;
    placeOf(record).then(function (place) {
      if (run !== rendering) return; // a newer status came meanwhile
      if (place === undefined) {
        join();
        return;
      }
      if (place === null) {
        show("pre");
        return;
      }
      if (place < status.admitted_up_to) {
        askPass(record); // the turn has come: the pass, then the form
        return;
      }
      soldOutNotice(status.sold_out);
      if (status.sold_out) {
        show("sold-out"); // and the page's sold-out notice, until seats come back
        return;
      }
      showWaiting(record, place);
    }).catch(function () { show("error"); });
  }

  var pollTimer = null;

  function poll() {
    clearTimeout(pollTimer);
    fetch(section.getAttribute("data-status-url"), { credentials: "omit" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        var received = Date.now();
        var age = Number(response.headers.get("Age")) || 0;
        return response.json().then(function (data) {
          offset = data.server_time + age * 1000 - received;
          status = data;
          render();
        });
      })
      .catch(function () { if (!status) show("error"); })
      .then(function () {
        var record = load();
        if (record && record.pass && !record.lapsed && record.expires_at > serverNow()) {
          return; // admitted: the ticket form and its availability take over
        }
        var wait = document.visibilityState === "hidden" ? HIDDEN_POLL_MS
          : far ? FAR_POLL_MS : POLL_MS;
        // A little jitter, so that a crowd that loaded together does not poll together.
        pollTimer = setTimeout(poll, wait + Math.random() * 1000);
      });
  }

  function init() {
    section = document.querySelector("[data-queue]");
    if (!section) return;
    form = document.querySelector("form[data-queue-gated]");
    locale = section.getAttribute("data-locale") || document.documentElement.lang || "en";
    key = "queue:" + section.getAttribute("data-event");
    lockKey = key + ":joining";
    var record = load();
    if (record) { keepAttribution(record); save(record); }
    section.querySelector("[data-queue-rejoin]").addEventListener("click", function () {
      forget();
      admittedShown = false;
      far = false;
      show("joining");
      poll(); // a fresh status, with a fresh challenge to join with
    });
    // Another tab joined or got the pass: take it over at once.
    window.addEventListener("storage", function (event) {
      if (event.key === key) render();
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && status) poll();
    });
    poll();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
