// The card payment page: Stripe.js tokenizes the card (its data never reaches our origin), we
// confirm the PaymentIntent with it, 3-D Secure runs in Stripe.js if the card asks for it, and
// the page polls the payment until Stripe's webhook has placed the order.
(function () {
  "use strict";
  const root = document.querySelector("[data-pay]");
  if (!root || typeof Stripe === "undefined") return;
  const form = root.querySelector("[data-pay-form]");
  const errorBox = root.querySelector("[data-pay-error]");
  const statusBox = root.querySelector("[data-pay-status]");
  const text = root.dataset;
  let pollDelay = 3000;
  let timer = null;

  function showError(message) {
    errorBox.textContent = message || text.textFailed;
    errorBox.hidden = false;
    statusBox.hidden = true;
    if (form) form.querySelector("button").disabled = false;
  }

  function showStatus(message) {
    statusBox.textContent = message;
    statusBox.hidden = false;
  }

  async function poll() {
    try {
      const response = await fetch(text.statusUrl, { headers: { Accept: "application/json" } });
      const body = await response.json();
      if (body.order_url) {
        window.location.assign(body.order_url);
        return;
      }
      if (body.status === "canceled" || body.status === "refund_due" || body.status === "refunded") {
        if (form) form.hidden = true;
        errorBox.hidden = true;
        showStatus(body.status === "canceled" ? text.textClosed : text.textRefunded);
        return;
      }
    } catch (error) {
      // A lost poll is retried below.
    }
    timer = window.setTimeout(poll, pollDelay);
  }

  if (form) {
    const stripe = Stripe(text.publishableKey);
    const card = stripe.elements().create("card");
    card.mount(root.querySelector("[data-card-element]"));

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      errorBox.hidden = true;
      const tokenized = await stripe.createToken(card);
      if (tokenized.error) {
        showError(tokenized.error.message);
        return;
      }
      showStatus(text.textProcessing);
      let response, body;
      try {
        response = await fetch(text.cardUrl, {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ token: tokenized.token.id }),
        });
        body = await response.json();
      } catch (error) {
        showError(text.textFailed);
        return;
      }
      if (!response.ok) {
        showError(body.detail);
        return;
      }
      if (body.intent_status === "requires_action") {
        const authenticated = await stripe.confirmCardPayment(body.client_secret);
        if (authenticated.error) {
          showError(authenticated.error.message);
          return;
        }
      }
      showStatus(text.textProcessing);
      pollDelay = 1000;
      window.clearTimeout(timer);
      poll();
    });
  }
  timer = window.setTimeout(poll, pollDelay);
})();
