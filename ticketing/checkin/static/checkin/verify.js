/* The door's answer without the network: the ticket code's Ed25519 signature checked with the
   bundle's public keys (WebCrypto), then the bundle's revocation list and check-ins and this
   device's own scans. The same rules as the server's (NOTES: "How a ticket code is verified"). */
(function () {
  "use strict";

  const KEY_ID = /^[A-Za-z0-9_-]{1,16}$/;
  const EVENT_ID = /^[1-9][0-9]{0,17}$/;
  const SECRET = /^[A-Za-z0-9_-]{1,64}$/;
  const SIGNATURE = /^[A-Za-z0-9_-]{86}$/;

  function fromBase64url(text) {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - text.length % 4) % 4));
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  function toBase64url(bytes) {
    let binary = "";
    for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  /* What a code names if it is well-formed (not yet whether its signature holds), else null. */
  function parse(code) {
    if (typeof code !== "string" || code.length > 256) return null;
    const parts = code.split(".");
    if (parts.length !== 5) return null;
    const [version, kid, event, secret, signature] = parts;
    if (version !== "T1" || !KEY_ID.test(kid) || !EVENT_ID.test(event) || !SECRET.test(secret) ||
        !SIGNATURE.test(signature)) return null;
    return { kid: kid, event: Number(event), secret: secret, signature: signature,
             signed: code.slice(0, code.lastIndexOf(".")) };
  }

  /* Public keys of a bundle as CryptoKeys, by key id. */
  async function importKeys(keys) {
    const imported = {};
    for (const kid of Object.keys(keys || {})) {
      try {
        imported[kid] = await crypto.subtle.importKey(
          "raw", fromBase64url(keys[kid]), { name: "Ed25519" }, false, ["verify"]);
      } catch (error) {
        console.warn("check-in: cannot use key", kid, error);
      }
    }
    return imported;
  }

  async function signatureHolds(parsed, keys) {
    const key = keys[parsed.kid];
    if (!key) return false;
    const signature = fromBase64url(parsed.signature);
    if (toBase64url(signature) !== parsed.signature) return false;  // one spelling, as the server
    return crypto.subtle.verify({ name: "Ed25519" }, key, signature, new TextEncoder().encode(parsed.signed));
  }

  /* The answer for `code` at event `eventId`: {result, secret, ticket, checked_in}. `state` is
     the scanner's: keys (CryptoKeys), events (by id), revoked (Set of "event:secret"),
     checkedIn (Map secret -> {at, device}), tickets (Map secret -> ticket). */
  async function judgeCode(code, eventId, state) {
    const parsed = parse(code);
    if (!parsed || !(await signatureHolds(parsed, state.keys))) {
      return { result: "unknown", secret: null, ticket: null, checked_in: null };
    }
    return judgeTicket(parsed.event, parsed.secret, eventId, state);
  }

  function judgeTicket(ticketEvent, secret, eventId, state) {
    const ticket = state.tickets.get(secret) || null;
    const answer = { secret: secret, ticket: ticket, checked_in: null };
    if (ticketEvent !== eventId) {
      answer.result = state.events.has(ticketEvent) ? "wrong_event" : "unknown";
      return answer;
    }
    if (state.revoked.has(ticketEvent + ":" + secret) || (ticket && ticket.state === "cancelled")) {
      answer.result = "cancelled";
      return answer;
    }
    const earlier = state.checkedIn.get(secret);
    if (earlier) {
      answer.checked_in = earlier;
      answer.result = state.events.get(eventId).allow_reentry ? "reentry" : "already_checked_in";
      return answer;
    }
    answer.result = "valid";
    return answer;
  }

  window.CheckinVerify = { parse: parse, importKeys: importKeys, judgeCode: judgeCode,
                           judgeTicket: judgeTicket };
})();
