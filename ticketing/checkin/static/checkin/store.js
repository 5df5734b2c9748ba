/* The scanner's memory on the phone, in IndexedDB: the device token, the last bundle (public
   keys, revocation list, tickets) and the chosen event in "kv"; every scan the device made
   without an answer from the server in "scans", until a sync hands it over. */
(function () {
  "use strict";

  const NAME = "checkin";
  const VERSION = 1;
  let opened = null;

  function open() {
    if (!opened) {
      opened = new Promise(function (resolve, reject) {
        const request = indexedDB.open(NAME, VERSION);
        request.onupgradeneeded = function () {
          const db = request.result;
          db.createObjectStore("kv");
          db.createObjectStore("scans", { keyPath: "id" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return opened;
  }

  function done(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  async function run(storeName, mode, action) {
    const db = await open();
    const transaction = db.transaction(storeName, mode);
    const result = action(transaction.objectStore(storeName));
    await new Promise(function (resolve, reject) {
      transaction.oncomplete = resolve;
      transaction.onerror = function () { reject(transaction.error); };
      transaction.onabort = function () { reject(transaction.error); };
    });
    return result instanceof IDBRequest ? result.result : result;
  }

  window.CheckinStore = {
    get: function (key) { return run("kv", "readonly", function (s) { return s.get(key); }); },
    set: function (key, value) { return run("kv", "readwrite", function (s) { return s.put(value, key); }); },
    remove: function (key) { return run("kv", "readwrite", function (s) { return s.delete(key); }); },
    addScan: function (scan) { return run("scans", "readwrite", function (s) { return s.put(scan); }); },
    scans: function () { return run("scans", "readonly", function (s) { return s.getAll(); }); },
    updateScans: function (scans) {
      return run("scans", "readwrite", function (s) { scans.forEach(function (scan) { s.put(scan); }); });
    },
    clear: async function () {
      await run("kv", "readwrite", function (s) { return s.clear(); });
      await run("scans", "readwrite", function (s) { return s.clear(); });
    },
    done: done,
  };
})();
