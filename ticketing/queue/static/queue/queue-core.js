/* The waiting room's arithmetic in the browser, twin of ticketing/queue/draw.py and pow.py.
 *
 * QueueCore.position(seedHex, count, index): where pre-queue arrival `index` (0-based) stands
 *   after the draw: a Feistel permutation keyed with the published seed (HMAC-SHA256).
 * QueueCore.solvePow(challenge, difficulty): a decimal nonce such that
 *   SHA-256(challenge + ":" + nonce) starts with `difficulty` zero bits.
 * Both use WebCrypto (a secure context: https, or localhost). No dependencies, no globals but one.
 */
(function (root) {
  "use strict";
  var ROUNDS = 8;
  var subtle = root.crypto.subtle;
  var encoder = new TextEncoder();

  function hexBytes(hex) {
    var bytes = new Uint8Array(hex.length / 2);
    for (var i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.substr(i * 2, 2), 16);
    return bytes;
  }

  function bitLength(n) {
    var bits = 0;
    while (n > 0) { bits++; n = Math.floor(n / 2); }
    return bits;
  }

  // XOR of two non-negative integers below 2^26 (exact in 32-bit operations).
  function xor(a, b) { return (a ^ b) >>> 0; }

  async function position(seedHex, count, index) {
    if (!(index >= 0 && index < count)) throw new RangeError("index out of range");
    var half = Math.ceil(Math.max(2, bitLength(count - 1)) / 2);
    if (half > 26) throw new RangeError("count too large");
    var size = Math.pow(2, half);
    var key = await subtle.importKey("raw", hexBytes(seedHex), { name: "HMAC", hash: "SHA-256" },
                                     false, ["sign"]);
    var x = index;
    for (;;) {
      var left = Math.floor(x / size), right = x % size;
      for (var r = 0; r < ROUNDS; r++) {
        var digest = await subtle.sign("HMAC", key, encoder.encode(r + ":" + right));
        var f = new DataView(digest).getUint32(0) % size;
        var next = xor(left, f);
        left = right;
        right = next;
      }
      x = left * size + right;
      if (x < count) return x;
    }
  }

  function leadingZeroBits(bytes) {
    var bits = 0;
    for (var i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) { bits += 8; continue; }
      return bits + Math.clz32(bytes[i]) - 24;
    }
    return bits;
  }

  // Digests in batches: one await per batch, not per hash, is what makes WebCrypto fast here.
  var BATCH = 512;

  async function solvePow(challenge, difficulty) {
    for (var start = Math.floor(Math.random() * 1e12); ; start += BATCH) {
      var pending = [];
      for (var i = 0; i < BATCH; i++) {
        pending.push(subtle.digest("SHA-256", encoder.encode(challenge + ":" + (start + i))));
      }
      var digests = await Promise.all(pending);
      for (var j = 0; j < BATCH; j++) {
        if (leadingZeroBits(new Uint8Array(digests[j])) >= difficulty) return String(start + j);
      }
    }
  }

  root.QueueCore = { position: position, solvePow: solvePow, leadingZeroBits: leadingZeroBits };
})(typeof window !== "undefined" ? window : globalThis);
