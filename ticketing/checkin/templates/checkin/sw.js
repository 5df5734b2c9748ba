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

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(ASSETS); })
    .then(function () { return self.skipWaiting(); }));
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
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === PAGE) {
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
  if (ASSETS.includes(url.pathname)) {
    event.respondWith(caches.match(request, { cacheName: CACHE, ignoreSearch: true }).then(function (hit) {
      return hit || fetch(request);
    }));
  }
});
