/* The door scanner: pairing, the camera, the answer screen, manual search, offline mode and sync.

   Online, every scan goes to the server (POST scans), which alone decides; the phone keeps what
   it learnt. When the network is down (or slower than ANSWER_TIMEOUT_MS), the phone decides from
   its bundle (verify.js), shows the answer at once and keeps the scan in IndexedDB; a sync
   (when back online, every SYNC_EVERY_MS, or "Sync now") uploads those scans, shows the
   conflicts the server found, and downloads a fresh bundle (revocations, other doors'
   check-ins). The time from the camera frame to the painted answer is a performance measure
   named "checkin-answer". */
(function () {
  "use strict";

  const ANSWER_TIMEOUT_MS = 2500;
  const SYNC_EVERY_MS = 30000;
  const SYNC_BATCH = 500;  // the server's limit per call
  const ADMITTED = ["valid", "reentry"];
  const LOOKS = {
    valid: { colour: "ok", title: "Valid" },
    reentry: { colour: "ok", title: "Re-entry" },
    already_checked_in: { colour: "warn", title: "Already checked in" },
    wrong_event: { colour: "stop", title: "Wrong event" },
    cancelled: { colour: "stop", title: "Refunded or cancelled" },
    unknown: { colour: "stop", title: "Not a ticket of ours" },
  };

  const Store = window.CheckinStore;
  const Verify = window.CheckinVerify;
  const api = document.body.dataset.api;
  const $ = function (id) { return document.getElementById(id); };

  let token = null;
  let device = null;
  let bundle = null;
  let eventId = null;
  let scans = [];  // this device's scans (IndexedDB "scans"), oldest first
  let state = null;  // what verify.js judges with, built from bundle + scans
  let camera = null;
  let syncing = null;
  let lastSync = null;
  let answerTimer = null;

  // --- server ------------------------------------------------------------------------------

  class Offline extends Error {}

  async function call(path, options) {
    options = options || {};
    if (!navigator.onLine) throw new Offline("offline");
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(api + path, {
        method: options.method || "GET",
        headers: headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        credentials: "omit",
        cache: "no-store",
        signal: AbortSignal.timeout(options.timeout || 15000),
      });
    } catch (error) {
      throw new Offline(error.message);  // no network, or too slow to wait for at the door
    }
    let data = null;
    try { data = await response.json(); } catch (error) { data = null; }
    if (response.status === 401 && token) {
      await forget("This phone was unpaired in the back office (or never was). Pair it again.");
    }
    if (response.status >= 500) throw new Offline("server error " + response.status);
    return { status: response.status, data: data || {} };
  }

  // --- state -------------------------------------------------------------------------------

  async function rebuild() {
    const events = new Map((bundle.events || []).map(function (event) { return [event.id, event]; }));
    const checkedIn = new Map();
    (bundle.checked_in || []).forEach(function (row) { checkedIn.set(row.secret, { at: row.at, device: row.device }); });
    scans.forEach(function (scan) {
      const admitted = ADMITTED.includes(scan.server_result || scan.result);
      if (admitted && scan.secret && !checkedIn.has(scan.secret)) {
        checkedIn.set(scan.secret, { at: scan.scanned_at, device: device ? device.name : "this phone" });
      }
    });
    state = {
      keys: state && state.keySource === bundle.keys ? state.keys : await Verify.importKeys(bundle.keys),
      keySource: bundle.keys,
      events: events,
      revoked: new Set((bundle.revoked || []).map(function (row) { return row.event + ":" + row.secret; })),
      checkedIn: checkedIn,
      tickets: new Map((bundle.tickets || []).map(function (t) { return [t.secret, t]; })),
      ticketsById: new Map((bundle.tickets || []).map(function (t) { return [t.id, t]; })),
    };
  }

  async function saveBundle(fresh) {
    bundle = fresh;
    await Store.set("bundle", fresh);
    await rebuild();
    renderEvents();
  }

  // --- pairing -----------------------------------------------------------------------------

  async function pair(code) {
    $("pair-error").hidden = true;
    let answer;
    try {
      answer = await call("pair", { method: "POST", body: { code: code.toUpperCase().replace(/[\s-]/g, "") } });
    } catch (error) {
      return showPairError("No network: pairing needs it once. Try again when online.");
    }
    if (answer.status !== 201) return showPairError(answer.data.detail || "Pairing failed.");
    await Store.clear();
    token = answer.data.token;
    device = answer.data.device;
    scans = [];
    await Store.set("token", token);
    await Store.set("device", device);
    const fresh = await call("bundle");
    if (fresh.status !== 200) return showPairError(fresh.data.detail || "Could not load the events.");
    await saveBundle(fresh.data);
    showScanner();
  }

  function showPairError(text) {
    $("pair-error").textContent = text;
    $("pair-error").hidden = false;
  }

  async function forget(reason) {
    if (camera) camera.stop();
    camera = null;
    token = null;
    await Store.clear();
    $("scanner").hidden = true;
    $("pairing").hidden = false;
    if (reason) showPairError(reason);
  }

  // --- the scanner -------------------------------------------------------------------------

  function showScanner() {
    $("pairing").hidden = true;
    $("scanner").hidden = false;
    $("device-name").textContent = device ? device.name : "";
    renderEvents();
    renderScans();
    renderNetwork();
    startCamera();
  }

  function startCamera() {
    if (camera) return;
    $("camera-start").hidden = true;
    $("camera-status").textContent = "Starting the camera…";
    camera = window.CheckinCamera.start($("video"), onCode);
    camera.ready.then(function (decoder) {
      const offlineReady = Object.keys(state.keys).length > 0;
      $("camera-status").textContent = "Point the camera at a ticket's QR code." +
        (offlineReady ? "" : " This browser cannot check tickets offline (no Ed25519): keep it online.");
      $("camera-status").dataset.decoder = decoder;
    }, function (error) {
      camera = null;
      $("camera-status").textContent = "No camera (" + error.name + "). Allow the camera, or search by name.";
      $("camera-start").hidden = false;
    });
  }

  function renderEvents() {
    if (!bundle) return;
    const select = $("event");
    const events = bundle.events || [];
    if (!events.some(function (e) { return e.id === eventId; })) eventId = nearestEvent(events);
    select.replaceChildren.apply(select, events.map(function (event) {
      const option = new Option(event.name + " · " + dateTime(event.starts_at), String(event.id));
      option.selected = event.id === eventId;
      return option;
    }));
    if (!events.length) select.replaceChildren(new Option("No events to scan for", ""));
    renderCounts();
  }

  function nearestEvent(events) {
    let best = null;
    events.forEach(function (event) {
      const distance = Math.abs(Date.parse(event.starts_at) - Date.now());
      if (!best || distance < best.distance) best = { id: event.id, distance: distance };
    });
    return best ? best.id : null;
  }

  function renderCounts() {
    const event = state && state.events.get(eventId);
    if (!event) { $("counts").textContent = ""; return; }
    let checked = 0;
    state.checkedIn.forEach(function (value, secret) {
      const ticket = state.tickets.get(secret);
      if (ticket && ticket.event === eventId) checked++;
    });
    $("counts").textContent = Math.max(checked, event.checked_in) + " of " + event.sold + " checked in" +
      (event.tickets_included === false ? ". Offline checks need this event's tickets: they come with a sync closer to the day." : "");
  }

  function onCode(code, frameTime) {
    const parsed = Verify.parse(code);
    decide({ code: code }, parsed ? parsed.secret : null, frameTime);
  }

  /* One scan: the server's answer when it gives one in time, else the phone's own. */
  async function decide(what, secret, frameTime) {
    if (!eventId) return;
    const scan = Object.assign({ id: crypto.randomUUID(), event: eventId, scanned_at: new Date().toISOString() }, what);
    let answer = null;
    let refused = null;  // the server's 4xx: nothing to sync later, the phone answers alone
    try {
      if (what.code && what.code.length > 1024) throw new Offline("not a ticket code");
      const reply = await call("scans", { method: "POST", body: scan, timeout: ANSWER_TIMEOUT_MS });
      if (reply.status === 200) {
        answer = reply.data;
        answer.online = true;
        Object.assign(scan, { result: answer.result, server_result: answer.result, synced: true,
                              message: answer.message });
      } else {
        refused = reply.data.detail || "refused (" + reply.status + ")";
      }
    } catch (error) {
      if (!(error instanceof Offline)) throw error;
    }
    if (!token) return;  // unpaired by the answer
    if (!answer) {
      if (what.ticket) {
        const ticket = state.ticketsById.get(what.ticket);
        answer = ticket ? Verify.judgeTicket(ticket.event, ticket.secret, eventId, state)
                        : { result: "unknown", ticket: null, checked_in: null };
        secret = ticket ? ticket.secret : null;
      } else {
        answer = await Verify.judgeCode(what.code, eventId, state);
      }
      answer.online = false;
      Object.assign(scan, { result: answer.result, synced: refused !== null, message: refused });
    }
    const ticket = answer.ticket || (secret && state.tickets.get(secret)) || null;
    scan.secret = secret || null;
    scan.name = ticket ? ticket.name : null;
    scan.order = ticket ? ticket.order : null;
    scans.push(scan);
    await Store.addScan(scan);
    if (ADMITTED.includes(scan.result) && scan.secret && !state.checkedIn.has(scan.secret)) {
      state.checkedIn.set(scan.secret, { at: scan.scanned_at, device: device ? device.name : "" });
    }
    showAnswer(answer, ticket, frameTime);
    renderScans();
    renderCounts();
    renderNetwork();
  }

  function showAnswer(answer, ticket, frameTime) {
    const look = LOOKS[answer.result] || LOOKS.unknown;
    const box = $("answer");
    box.className = "answer answer-" + look.colour;
    box.dataset.result = answer.result;
    $("answer-title").textContent = look.title;
    $("answer-name").textContent = ticket ? [ticket.name, ticket.ticket_type, ticket.order].filter(Boolean).join(" · ") : "";
    $("answer-detail").textContent = detail(answer, ticket) + (answer.online ? "" : " (checked on this phone, offline)");
    box.hidden = false;
    beep(look.colour);
    clearTimeout(answerTimer);
    answerTimer = setTimeout(hideAnswer, look.colour === "ok" ? 2500 : 4000);
    if (frameTime !== undefined) {
      // The answer is painted after this animation frame: measure from the decoded video frame.
      requestAnimationFrame(function () {
        const channel = new MessageChannel();
        channel.port1.onmessage = function () {
          performance.measure("checkin-answer", {
            start: frameTime, end: performance.now(),
            detail: { result: answer.result, online: answer.online },
          });
        };
        channel.port2.postMessage(null);
      });
    }
  }

  function detail(answer, ticket) {
    const first = answer.checked_in;
    switch (answer.result) {
      case "already_checked_in":
      case "reentry":
        return first ? "First in at " + time(first.at) + (first.device ? " by " + first.device : "") + "." : "";
      case "wrong_event": {
        const other = state.events.get(ticket ? ticket.event : (answer.ticket || {}).event);
        return other ? "This ticket is for " + other.name + " (" + dateTime(other.starts_at) + ")." : "This ticket is for another event.";
      }
      case "cancelled":
        return "The order was refunded or cancelled. Do not admit.";
      case "unknown":
        return "Forged, damaged or from another seller. Do not admit.";
      default:
        return ticket && ticket.payment_status && ticket.payment_status !== "paid" ? "Payment: " + ticket.payment_status + "." : "";
    }
  }

  function hideAnswer() {
    $("answer").hidden = true;
  }

  // --- sound -------------------------------------------------------------------------------

  let audio = null;

  function unlockAudio() {
    if (!audio && window.AudioContext) audio = new AudioContext();
    if (audio && audio.state === "suspended") audio.resume();
  }

  function beep(colour) {
    if (!audio) return;
    const tones = { ok: [[880, 0, 0.12]], warn: [[660, 0, 0.12], [660, 0.18, 0.12]], stop: [[220, 0, 0.45]] }[colour];
    const now = audio.currentTime;
    tones.forEach(function (tone) {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.type = colour === "stop" ? "square" : "sine";
      oscillator.frequency.value = tone[0];
      gain.gain.setValueAtTime(0.3, now + tone[1]);
      gain.gain.exponentialRampToValueAtTime(0.001, now + tone[1] + tone[2]);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(now + tone[1]);
      oscillator.stop(now + tone[1] + tone[2]);
    });
  }

  // --- search ------------------------------------------------------------------------------

  async function search(query) {
    let results = null;
    try {
      const reply = await call("search?event=" + eventId + "&q=" + encodeURIComponent(query), { timeout: ANSWER_TIMEOUT_MS });
      if (reply.status === 200) results = reply.data.results;
    } catch (error) {
      if (!(error instanceof Offline)) throw error;
    }
    if (!results) results = searchOffline(query);
    const list = $("search-results");
    list.replaceChildren.apply(list, results.map(function (ticket) {
      const item = document.createElement("li");
      const label = document.createElement("span");
      const checked = ticket.checked_in || state.checkedIn.get((state.ticketsById.get(ticket.id) || {}).secret);
      label.textContent = [ticket.name, ticket.order, ticket.ticket_type].join(" · ") +
        (ticket.state === "cancelled" ? " · cancelled" : "") + (checked ? " · in at " + time(checked.at) : "");
      const admit = document.createElement("button");
      admit.type = "button";
      admit.textContent = "Admit";
      admit.setAttribute("aria-label", "Admit " + ticket.name);
      admit.addEventListener("click", function () {
        const known = state.ticketsById.get(ticket.id);
        decide({ ticket: ticket.id }, known ? known.secret : null);
      });
      item.append(label, " ", admit);
      return item;
    }));
    if (!results.length) {
      const none = document.createElement("li");
      none.textContent = "No ticket found for this event.";
      list.replaceChildren(none);
    }
  }

  function searchOffline(query) {
    const words = query.trim().toLowerCase();
    const order = query.toUpperCase().replace(/[\s-]/g, "");
    return (bundle.tickets || []).filter(function (ticket) {
      return ticket.event === eventId && (ticket.order === order || (ticket.name || "").toLowerCase().includes(words));
    }).slice(0, 25);
  }

  // --- sync --------------------------------------------------------------------------------

  function sync() {
    if (!syncing) syncing = runSync().finally(function () { syncing = null; renderNetwork(); });
    return syncing;
  }

  async function runSync() {
    if (!token) return;
    try {
      const pending = scans.filter(function (scan) { return !scan.synced; });
      for (let start = 0; start < pending.length; start += SYNC_BATCH) {
        await upload(pending.slice(start, start + SYNC_BATCH));
      }
      if (!token) return;
      const fresh = await call("bundle");
      if (fresh.status === 200) await saveBundle(fresh.data);
      lastSync = new Date();
    } catch (error) {
      if (!(error instanceof Offline)) throw error;
    }
    renderScans();
  }

  async function upload(batch) {
    const reply = await call("sync", {
      method: "POST",
      body: { scans: batch.map(function (scan) {
        const row = { id: scan.id, event: scan.event, scanned_at: scan.scanned_at, result: scan.result };
        if (scan.code) row.code = scan.code; else row.ticket = scan.ticket;
        return row;
      }) },
    });
    if (reply.status !== 200) {
      if (reply.status === 401) throw new Offline("unpaired");
      // The server refuses the whole batch for one scan (its event gone from this device, say):
      // one by one, the others still get through and the refused one stops being retried.
      if (batch.length > 1) {
        for (const scan of batch) await upload([scan]);
        return;
      }
      Object.assign(batch[0], { synced: true, message: "not synced: " + (reply.data.detail || reply.status) });
    } else {
      const byId = new Map(reply.data.results.map(function (row) { return [row.id, row]; }));
      batch.forEach(function (scan) {
        const row = byId.get(scan.id);
        if (!row) return;
        Object.assign(scan, { synced: true, server_result: row.result, conflict: Boolean(row.conflict),
                              message: row.message, checked_in: row.checked_in || null });
      });
    }
    await Store.updateScans(batch);
  }

  // --- rendering ---------------------------------------------------------------------------

  function renderNetwork() {
    const online = navigator.onLine;
    $("network").textContent = online ? "Online" : "Offline";
    $("network").className = "badge " + (online ? "badge-online" : "badge-offline");
    const waiting = scans.filter(function (scan) { return !scan.synced; }).length;
    const parts = [];
    if (waiting) parts.push(waiting + (waiting === 1 ? " scan" : " scans") + " waiting to sync");
    if (syncing) parts.push("syncing…");
    else if (lastSync) parts.push("synced " + time(lastSync.toISOString()));
    $("sync-status").textContent = parts.join(" · ");
  }

  function renderScans() {
    const history = $("history");
    const recent = scans.slice(-50).reverse();
    history.replaceChildren.apply(history, recent.map(function (scan) {
      const result = scan.server_result || scan.result;
      const item = document.createElement("li");
      item.className = "scan scan-" + (LOOKS[result] || LOOKS.unknown).colour;
      item.textContent = time(scan.scanned_at) + " " + (LOOKS[result] || LOOKS.unknown).title +
        (scan.name ? " · " + scan.name : "") + (scan.synced ? "" : " · offline, waiting to sync") +
        (scan.conflict ? " · conflict" : "");
      return item;
    }));
    const conflicts = scans.filter(function (scan) { return scan.conflict; });
    $("conflicts-section").hidden = !conflicts.length;
    const list = $("conflicts");
    list.replaceChildren.apply(list, conflicts.map(function (scan) {
      const item = document.createElement("li");
      item.textContent = (scan.name || "A ticket") + ": admitted offline at " + time(scan.scanned_at) +
        ", but " + (scan.message || (LOOKS[scan.server_result] || LOOKS.unknown).title.toLowerCase());
      return item;
    }));
  }

  function time(iso) {
    return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function dateTime(iso) {
    return new Date(iso).toLocaleString([], { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  }

  // --- start -------------------------------------------------------------------------------

  async function boot() {
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register(document.body.dataset.sw, { scope: document.body.dataset.scope })
        .catch(function (error) { console.warn("check-in: no offline page", error); });
    }
    document.addEventListener("pointerdown", unlockAudio);
    document.addEventListener("keydown", unlockAudio);
    $("answer").addEventListener("click", hideAnswer);
    $("pair-form").addEventListener("submit", function (event) {
      event.preventDefault();
      unlockAudio();
      pair($("pair-code").value);
    });
    $("search-form").addEventListener("submit", function (event) {
      event.preventDefault();
      search($("search").value);
    });
    $("event").addEventListener("change", function () {
      eventId = Number($("event").value) || null;
      Store.set("event", eventId);
      renderCounts();
    });
    $("sync-now").addEventListener("click", function () { sync(); });
    $("camera-start").addEventListener("click", startCamera);
    $("unpair").addEventListener("click", function () {
      if (confirm("Unpair this phone? Scans not synced yet are lost.")) forget();
    });
    window.addEventListener("online", function () { renderNetwork(); sync(); });
    window.addEventListener("offline", renderNetwork);
    setInterval(function () { if (navigator.onLine) sync(); }, SYNC_EVERY_MS);

    const paired = new URLSearchParams(location.hash.slice(1)).get("pair");
    if (paired) history.replaceState(null, "", location.pathname);

    token = await Store.get("token");
    device = await Store.get("device");
    bundle = await Store.get("bundle");
    eventId = (await Store.get("event")) || null;
    scans = (await Store.scans()).sort(function (a, b) { return a.scanned_at < b.scanned_at ? -1 : 1; });
    if (paired) {
      $("pairing").hidden = false;
      $("pair-code").value = paired;
      return pair(paired);
    }
    if (!token || !bundle) {
      $("pairing").hidden = false;
      renderNetwork();
      return;
    }
    await rebuild();
    showScanner();
    sync();
  }

  boot();
})();
