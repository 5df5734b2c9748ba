{% load static %}/* The scanner's service worker: the page and its files load with no network. The page is
   fetched from the network first (a new version at once when online), the versioned static files
   from the cache first; the API is never cached (the page keeps its data in IndexedDB). */
"use strict";

const PAGE = "{% url 'checkin:scanner' %}";
const ASSETS = [
  PAGE,
  "{% static 'checkin/scanner.css' %}",
  "{% static 'checkin/vendor/jsQR-1.4.0.js' %}",
  "{% static 'checkin/store.js' %}",
  "{% static 'checkin/verify.js' %}",
  "{% static 'checkin/camera.js' %}",
  "{% static 'checkin/scanner.js' %}",
  "{% static 'fans/favicon.svg' %}",
];
// The static URLs carry their content hash in production: new files, new cache.
const CACHE = "checkin-" + ASSETS.join("|").split("").reduce(function (h, c) {
  return (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
}, 7).toString(36);

// STATIC_URL may name another origin (the static files host): those files are fetched without
// CORS and kept as the opaque responses a <script src> or a stylesheet link may use.
const ASSET_URLS = ASSETS.map(function (asset) { return new URL(asset, self.location.href).href; });

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(ASSET_URLS.map(function (url) {
      const sameOrigin = new URL(url).origin === self.location.origin;
      return fetch(url, { mode: sameOrigin ? "same-origin" : "no-cors", cache: "no-cache" })
        .then(function (response) {
          if (sameOrigin && !response.ok) throw new Error(url + ": " + response.status);
          return cache.put(url, response);
        });
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.startsWith("checkin-") && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET") return;
  if (request.mode === "navigate" && url.origin === self.location.origin && url.pathname === PAGE) {
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok) {
        const copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(PAGE, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(PAGE, { cacheName: CACHE });
    }));
    return;
  }
  url.search = "";
  if (ASSET_URLS.includes(url.href)) {
    event.respondWith(caches.match(url.href, { cacheName: CACHE }).then(function (hit) {
      return hit || fetch(request);
    }));
  }
});
