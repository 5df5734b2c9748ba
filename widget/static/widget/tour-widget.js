/*! Tour widget: an artist's tour dates on any site.
 *
 *   <div data-tour-widget data-artist="demo-artist" data-affiliate="KEY"></div>
 *   <script async src="https://HOST/widget/v1/loader.js"></script>
 *
 * Options (data attributes): data-lang (en, de, fr, es; or a locale such as en-US), data-theme
 * (light, dark, auto), data-accent (a CSS colour), data-font (a font-family), data-limit, and
 * data-notify (a "Notify me" button on shows not on sale yet or sold out: the fan leaves an
 * email address and confirms it from the email). Tickets links open the checkout in the
 * widget's language.
 * The host page can also set --tw-accent, --tw-font, --tw-font-size, --tw-fg, --tw-bg,
 * --tw-muted, --tw-border and --tw-radius on the element.
 *
 * Safe on any site: Shadow DOM, constructable stylesheets (no inline styles, no eval: works under
 * a strict CSP), data set only as text, no cookies or storage, and no global but TourWidget.
 */
(() => {
  "use strict";
  if (window.TourWidget) return window.TourWidget.init();

  const script = document.currentScript;
  const API = script ? script.dataset.api || new URL(script.src).origin : location.origin;
  const BEACON_URL = API + "/t";
  const VIEW_DELAY_MS = 1000; // half of the widget visible this long counts as a view
  const FLUSH_DELAY_MS = 2000; // hits wait this long for others to share their beacon
  const BATCH_SIZE = 50; // the tracking endpoint's limit per request
  const BUYABLE = ["on_sale", "few_left", "not_yet_on_sale", "postponed"];
  const AWAITED = ["not_yet_on_sale", "sold_out"]; // a fan may ask to be notified

  const STRINGS = {
    en: {
      list: "Tour dates", loading: "Loading tour dates…", empty: "No upcoming shows",
      error: "Tour dates could not be loaded.", retry: "Try again", tickets: "Tickets",
      ticketsFor: "Tickets for {city}, {date}", from: "from {price}",
      few_left: "Few tickets left", sold_out: "Sold out", not_yet_on_sale: "On sale {date}",
      sales_closed: "Sales closed", cancelled: "Cancelled", postponed: "Postponed",
      notify: "Notify me", notifyFor: "Notify me about {city}, {date}", email: "Email",
      send: "Send", sending: "Sending…", notifyFailed: "That did not work. Please try again.",
    },
    de: {
      list: "Tourdaten", loading: "Tourdaten werden geladen…", empty: "Keine anstehenden Konzerte",
      error: "Die Tourdaten konnten nicht geladen werden.", retry: "Erneut versuchen",
      tickets: "Tickets", ticketsFor: "Tickets für {city}, {date}", from: "ab {price}",
      few_left: "Nur noch wenige Tickets", sold_out: "Ausverkauft",
      not_yet_on_sale: "Vorverkauf ab {date}", sales_closed: "Vorverkauf beendet",
      cancelled: "Abgesagt", postponed: "Verschoben",
      notify: "Benachrichtigen", notifyFor: "Benachrichtigung für {city}, {date}",
      email: "E-Mail", send: "Senden", sending: "Wird gesendet…",
      notifyFailed: "Das hat nicht geklappt. Bitte versuche es noch einmal.",
    },
    fr: {
      list: "Dates de la tournée", loading: "Chargement des dates…",
      empty: "Aucun concert à venir", error: "Les dates n’ont pas pu être chargées.",
      retry: "Réessayer", tickets: "Billets", ticketsFor: "Billets pour {city}, {date}",
      from: "dès {price}", few_left: "Derniers billets", sold_out: "Complet",
      not_yet_on_sale: "En vente le {date}", sales_closed: "Vente terminée",
      cancelled: "Annulé", postponed: "Reporté",
      notify: "Me prévenir", notifyFor: "Me prévenir pour {city}, {date}", email: "E-mail",
      send: "Envoyer", sending: "Envoi…", notifyFailed: "Cela n’a pas marché. Veuillez réessayer.",
    },
    es: {
      list: "Fechas de la gira", loading: "Cargando fechas…", empty: "No hay conciertos próximos",
      error: "No se pudieron cargar las fechas.", retry: "Reintentar", tickets: "Entradas",
      ticketsFor: "Entradas para {city}, {date}", from: "desde {price}",
      few_left: "Últimas entradas", sold_out: "Agotado", not_yet_on_sale: "A la venta el {date}",
      sales_closed: "Venta cerrada", cancelled: "Cancelado", postponed: "Aplazado",
      notify: "Avisarme", notifyFor: "Avisarme de {city}, {date}", email: "Correo electrónico",
      send: "Enviar", sending: "Enviando…", notifyFailed: "No ha funcionado. Inténtalo de nuevo.",
    },
  };
  const DEFAULT_LOCALES = { en: "en-GB" }; // "12 May 10:00" unless the page asks for en-US

  const CSS = `
:host { display: block; }
:host([hidden]) { display: none; }
.tw {
  all: initial; /* none of the host page's inherited styles */
  display: block; container-type: inline-size; box-sizing: border-box;
  --_fg: #17171f; --_bg: #fff; --_muted: #62627a; --_line: #e6e6ee; --_warn: #b4470a;
  --_accent: var(--tw-accent, #5a3ff2);
  font-family: var(--tw-font, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  font-size: var(--tw-font-size, 15px); line-height: 1.4;
  color: var(--tw-fg, var(--_fg)); background: var(--tw-bg, var(--_bg));
  border: 1px solid var(--tw-border, var(--_line)); border-radius: var(--tw-radius, 12px);
  padding: 0 16px;
}
.tw.dark { --_fg: #f1f1f6; --_bg: #17171d; --_muted: #a3a3b8; --_line: #2f2f3a; --_warn: #ffa466; }
.tw * { box-sizing: border-box; }
ol { list-style: none; margin: 0; padding: 0; }
li { display: grid; grid-template-columns: 3.5em 1fr auto; gap: 4px 16px; align-items: center;
  padding: 14px 0; border-top: 1px solid var(--tw-border, var(--_line)); }
li:first-child { border-top: 0; }
time { display: flex; flex-direction: column; align-items: center; line-height: 1.1; }
.month { font-size: .75em; font-weight: 700; letter-spacing: .06em; text-transform: uppercase;
  color: var(--_accent); }
.day { font-size: 1.6em; font-weight: 700; }
.weekday { font-size: .75em; color: var(--tw-muted, var(--_muted)); }
.place { font-weight: 600; margin: 0; }
.meta, .name { margin: 0; font-size: .875em; color: var(--tw-muted, var(--_muted)); }
.action { display: flex; align-items: center; justify-content: flex-end; gap: 12px;
  text-align: right; }
.status { font-size: .875em; font-weight: 600; color: var(--tw-muted, var(--_muted)); }
.status.few_left { color: var(--_warn); }
.cancelled .place, .cancelled time { text-decoration: line-through; opacity: .6; }
a, button { font: inherit; font-weight: 600; cursor: pointer; border-radius: 999px;
  padding: 7px 16px; border: 1px solid var(--_accent); text-decoration: none;
  white-space: nowrap; }
a { background: var(--_accent); color: var(--tw-accent-text, #fff); }
button { background: transparent; color: inherit; }
a:hover { filter: brightness(1.1); }
a:focus-visible, button:focus-visible { outline: 2px solid var(--_accent); outline-offset: 2px; }
.state { margin: 0; padding: 20px 0; text-align: center; color: var(--tw-muted, var(--_muted)); }
form.notify { grid-column: 1 / -1; display: flex; flex-wrap: wrap; gap: 8px; align-items: center;
  margin: 0; }
form.notify input { font: inherit; color: inherit; background: transparent; flex: 1 1 12em;
  min-width: 0; padding: 6px 12px; border: 1px solid var(--tw-border, var(--_line));
  border-radius: 999px; }
form.notify input:focus-visible { outline: 2px solid var(--_accent); outline-offset: 2px; }
.notice { grid-column: 1 / -1; margin: 0; font-size: .875em; }
.state button { margin-left: 8px; }
@container (max-width: 440px) {
  li { grid-template-columns: 3em 1fr; }
  .action { grid-column: 2; justify-content: flex-start; text-align: left; }
}`;

  // Constructable stylesheets pass any CSP; browsers without them (Safari before 16.4) get a
  // <style> element, which a CSP without 'unsafe-inline' in style-src would block.
  const constructable = "replaceSync" in CSSStyleSheet.prototype &&
    "adoptedStyleSheets" in ShadowRoot.prototype;
  const sheet = constructable && new CSSStyleSheet();
  if (sheet) sheet.replaceSync(CSS);
  const darkScheme = matchMedia("(prefers-color-scheme: dark)");
  const widgets = new Map(); // host element -> widget state
  const pending = new Map(); // URL -> in-flight fetch, shared by widgets showing the same list

  // --- helpers ------------------------------------------------------------------------------
  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text; // data only ever as text
    return node;
  };
  const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, key) => values[key]);
  const uuid = () =>
    crypto.randomUUID
      ? crypto.randomUUID() // secure contexts; otherwise an RFC 4122 v4 UUID by hand
      : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) =>
          (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16));

  const formats = new Map();
  function formatter(locale, timeZone, options) {
    const key = [locale, timeZone, JSON.stringify(options)].join("|");
    if (!formats.has(key)) {
      try {
        formats.set(key, new Intl.DateTimeFormat(locale, { timeZone, ...options }));
      } catch {
        formats.set(key, new Intl.DateTimeFormat(locale, options)); // unknown zone
      }
    }
    return formats.get(key);
  }
  const date = (w, iso, zone, options) => formatter(w.locale, zone, options).format(new Date(iso));

  function place(w, venue) {
    // "Berlin, Germany", "New York, NY": regions where people name them, countries elsewhere.
    if (venue.region && ["US", "CA", "AU"].includes(venue.country)) {
      return `${venue.city}, ${venue.region}`;
    }
    try {
      return `${venue.city}, ${new Intl.DisplayNames(w.locale, { type: "region" }).of(venue.country)}`;
    } catch {
      return `${venue.city}, ${venue.country}`;
    }
  }

  function price(w, range) {
    try {
      const money = new Intl.NumberFormat(w.locale, { style: "currency", currency: range.currency });
      return fill(w.text.from, { price: money.format(Number(range.min)) });
    } catch {
      return "";
    }
  }

  // --- tracking -----------------------------------------------------------------------------
  const queue = [];
  let flushTimer = 0;

  function track(w, type, eventId) {
    const hit = { id: uuid(), type, artist: w.artist, ts: Date.now() };
    if (eventId != null) hit.event = eventId;
    if (w.affiliate) hit.affiliate = w.affiliate;
    queue.push(hit);
    if (!flushTimer) flushTimer = setTimeout(flush, FLUSH_DELAY_MS);
    return hit.id;
  }

  function flush() {
    clearTimeout(flushTimer);
    flushTimer = 0;
    while (queue.length) {
      const batch = JSON.stringify(queue.splice(0, BATCH_SIZE));
      try {
        navigator.sendBeacon(BEACON_URL, batch); // a string goes as text/plain: no preflight
      } catch {
        // tracking never breaks the widget
      }
    }
  }
  addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") flush();
  });

  const observer =
    "IntersectionObserver" in window &&
    new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          const w = widgets.get(entry.target);
          if (!w) continue;
          const viewport = entry.rootBounds ? entry.rootBounds.height : innerHeight;
          // Half of the widget, or half of the viewport for a widget taller than two screens.
          const seen = entry.isIntersecting &&
            (entry.intersectionRatio >= 0.5 || entry.intersectionRect.height >= viewport / 2);
          if (seen && !w.viewTimer) {
            w.viewTimer = setTimeout(() => {
              observer.unobserve(w.host);
              track(w, "view");
            }, VIEW_DELAY_MS);
          } else if (!seen && w.viewTimer) {
            clearTimeout(w.viewTimer);
            w.viewTimer = 0;
          }
        }
      },
      { threshold: [0, 0.25, 0.5, 0.75, 1] },
    );

  // --- rendering ----------------------------------------------------------------------------
  function state(w, message, retry) {
    const p = el("p", "state", message);
    p.setAttribute("role", retry ? "alert" : "status");
    if (retry) {
      const button = el("button", "", w.text.retry);
      button.type = "button";
      button.addEventListener("click", () => load(w));
      p.append(button);
    }
    w.root.replaceChildren(p);
  }

  function eventItem(w, event) {
    const zone = event.time_zone;
    const item = el("li", event.status);
    const when = el("time");
    when.dateTime = event.starts_at;
    when.append(
      el("span", "month", date(w, event.starts_at, zone, { month: "short" })),
      el("span", "day", date(w, event.starts_at, zone, { day: "numeric" })),
      el("span", "weekday", date(w, event.starts_at, zone, { weekday: "short" })),
    );
    const info = el("div", "info");
    const city = place(w, event.venue);
    const meta = [event.venue.name, date(w, event.starts_at, zone, { timeStyle: "short" })];
    if (event.price && BUYABLE.includes(event.status)) meta.push(price(w, event.price));
    info.append(el("p", "place", city), el("p", "meta", meta.filter(Boolean).join(" · ")));
    if (event.name) info.append(el("p", "name", event.name));

    const action = el("div", "action");
    if (event.status !== "on_sale") {
      const onSale = event.on_sale_at && date(w, event.on_sale_at, zone,
        { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
      action.append(el("span", `status ${event.status}`,
        fill(w.text[event.status] || event.status, { date: onSale })));
    }
    const label = (template) => fill(template, {
      city: event.venue.city,
      date: date(w, event.starts_at, zone, { dateStyle: "long" }),
    });
    if (BUYABLE.includes(event.status) && /^https?:/i.test(event.tickets_url)) {
      const link = el("a", "tickets", w.text.tickets);
      const ticketsUrl = new URL(event.tickets_url);
      ticketsUrl.searchParams.set("lang", w.lang); // the checkout speaks the widget's language
      link.href = ticketsUrl.href;
      link.target = "_blank";
      link.rel = "noopener";
      link.setAttribute("aria-label", label(w.text.ticketsFor));
      const onClick = (e) => {
        if (e.type === "auxclick" && e.button !== 1) return;
        // A new click id per click, carried to the checkout for attribution.
        const url = new URL(ticketsUrl);
        url.searchParams.set("click", track(w, "click", event.id));
        link.href = url.href; // read by the browser's default action, which follows
        flush();
      };
      link.addEventListener("click", onClick);
      link.addEventListener("auxclick", onClick);
      action.append(link);
    }
    item.append(when, info, action);
    if (w.notify && AWAITED.includes(event.status) && /^https?:/i.test(event.tickets_url)) {
      const button = el("button", "notify", w.text.notify);
      button.type = "button";
      button.setAttribute("aria-label", label(w.text.notifyFor));
      button.setAttribute("aria-expanded", "false");
      button.addEventListener("click", () => {
        button.setAttribute("aria-expanded", "true");
        button.disabled = true;
        const form = notifyForm(w, event, label(w.text.notifyFor));
        item.append(form);
        form.querySelector("input").focus();
      });
      action.append(button);
    }
    return item;
  }

  // The subscribe endpoint is the event page's own (`<tickets_url>notify`), posted as a form
  // (a CORS "simple" request: no preflight) without credentials: no cookie either way.
  function notifyForm(w, event, name) {
    const form = el("form", "notify");
    form.setAttribute("aria-label", name);
    const input = el("input");
    input.type = "email";
    input.name = "email";
    input.required = true;
    input.autocomplete = "email";
    input.placeholder = w.text.email;
    input.setAttribute("aria-label", w.text.email);
    const send = el("button", "", w.text.send);
    send.type = "submit";
    const notice = el("p", "notice");
    notice.setAttribute("role", "status");
    form.append(input, send, notice);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      send.disabled = true;
      notice.textContent = w.text.sending;
      const body = new URLSearchParams({ email: input.value, lang: w.lang });
      fetch(new URL("notify", event.tickets_url), {
        method: "POST", body, credentials: "omit", mode: "cors",
        headers: { Accept: "application/json" },
      })
        .then((response) => response.json().then((data) => ({ ok: response.ok, data })))
        .then(({ ok, data }) => {
          notice.textContent = data.detail || w.text.notifyFailed; // the server's, translated
          if (ok) input.disabled = true;
          else send.disabled = false;
        })
        .catch(() => {
          notice.textContent = w.text.notifyFailed;
          send.disabled = false;
        });
    });
    return form;
  }

  function show(w, data) {
    w.affiliate = data.affiliate || null; // only a key the API recognised
    if (!data.events.length) {
      state(w, w.text.empty);
    } else {
      const list = el("ol");
      list.setAttribute("aria-label", `${w.text.list}: ${data.artist.name}`);
      list.append(...data.events.map((event) => eventItem(w, event)));
      w.root.replaceChildren(list);
    }
    if (observer && !w.observed) {
      w.observed = true;
      observer.observe(w.host);
    }
  }

  function load(w) {
    state(w, w.text.loading);
    w.root.setAttribute("aria-busy", "true");
    const params = new URLSearchParams();
    if (w.host.dataset.affiliate) params.set("affiliate", w.host.dataset.affiliate);
    if (w.host.dataset.limit) params.set("limit", w.host.dataset.limit);
    const query = params.toString();
    const url = `${API}/widget/v1/artists/${encodeURIComponent(w.artist)}/events` +
      (query ? `?${query}` : "");
    if (!pending.has(url)) {
      const request = fetch(url, { credentials: "omit", mode: "cors" }).then((response) => {
        if (!response.ok) throw new Error(`${response.status} from ${url}`);
        return response.json();
      });
      pending.set(url, request);
      request.catch(() => {}).finally(() => pending.delete(url));
    }
    pending.get(url)
      .then((data) => show(w, data))
      .catch((error) => {
        console.warn("TourWidget:", error.message);
        state(w, w.text.error, true);
      })
      .finally(() => w.root.removeAttribute("aria-busy"));
  }

  function applyTheme(w) {
    const theme = w.host.dataset.theme;
    w.root.classList.toggle("dark", theme === "dark" || (theme === "auto" && darkScheme.matches));
  }

  function mount(host) {
    const wanted = (host.dataset.lang || document.documentElement.lang || navigator.language ||
      "en").toLowerCase();
    const base = wanted.split("-")[0];
    const known = base in STRINGS;
    const w = {
      host,
      artist: host.dataset.artist || "",
      affiliate: null,
      text: STRINGS[known ? base : "en"],
      lang: known ? base : "en",
      notify: "notify" in host.dataset && host.dataset.notify !== "false",
      locale: known ? (wanted.includes("-") ? wanted : DEFAULT_LOCALES[base] || base) : "en-GB",
    };
    const shadow = host.attachShadow({ mode: "open" });
    let own; // a `:host {}` rule for this widget's own values
    if (sheet) {
      const ownSheet = new CSSStyleSheet();
      ownSheet.replaceSync(":host {}");
      shadow.adoptedStyleSheets = [sheet, ownSheet];
      own = ownSheet.cssRules[0];
    } else {
      const style = el("style", "", `${CSS}\n:host {}`);
      shadow.append(style);
      own = style.sheet && style.sheet.cssRules[style.sheet.cssRules.length - 1];
    }
    // Through the CSSOM, which parses them as values: nothing to inject.
    if (own && host.dataset.accent) own.style.setProperty("--tw-accent", host.dataset.accent);
    if (own && host.dataset.font) own.style.setProperty("--tw-font", host.dataset.font);
    w.root = el("div", "tw");
    w.root.lang = w.locale;
    shadow.append(w.root);
    widgets.set(host, w);
    applyTheme(w);
    if (!w.artist) {
      console.warn("TourWidget: data-artist is missing on", host);
      return state(w, w.text.error);
    }
    load(w);
  }

  darkScheme.addEventListener("change", () => widgets.forEach(applyTheme));

  /** Render every `[data-tour-widget]` not rendered yet: call it after adding one to the page. */
  function init() {
    for (const host of widgets.keys()) if (!host.isConnected) widgets.delete(host);
    for (const host of document.querySelectorAll("[data-tour-widget]")) {
      if (!widgets.has(host) && !host.shadowRoot) mount(host);
    }
  }

  window.TourWidget = Object.freeze({ init, version: "1" });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
