/* The camera and the QR decoder: the browser's BarcodeDetector where it reads QR codes (Android,
   macOS, ChromeOS), else the vendored jsQR on a downscaled copy of each new video frame.
   `onCode(text, frameTime)` gets each code once while it stays in view; a ticket is read again
   only after it left the picture for REPRESENT_MS (a phone held still is one scan, not ten). */
(function () {
  "use strict";

  const MAX_SIDE = 640;  // jsQR's time grows with the pixels; a ticket QR held up reads well at this
  const REPRESENT_MS = 1200;

  async function qrDetector() {
    if (!("BarcodeDetector" in window)) return null;
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      return formats.includes("qr_code") ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    } catch (error) {
      return null;
    }
  }

  function start(video, onCode) {
    let stream = null;
    let stopped = false;
    let busy = false;
    let lastCode = null;
    let lastSeen = 0;
    let detector = null;
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });

    async function decode() {
      if (detector) {
        const found = await detector.detect(video);
        return found.length ? found[0].rawValue : null;
      }
      // The middle square of the picture (what the viewfinder shows), at most MAX_SIDE wide.
      const square = Math.min(video.videoWidth, video.videoHeight);
      const side = Math.min(square, MAX_SIDE);
      if (!side) return null;
      if (canvas.width !== side) { canvas.width = side; canvas.height = side; }
      context.drawImage(video, (video.videoWidth - square) / 2, (video.videoHeight - square) / 2,
                        square, square, 0, 0, side, side);
      const image = context.getImageData(0, 0, side, side);
      const found = window.jsQR(image.data, side, side, { inversionAttempts: "dontInvert" });
      return found ? found.data : null;
    }

    async function onFrame() {
      if (stopped) return;
      if (!busy && video.readyState >= 2) {
        busy = true;
        const frameTime = performance.now();
        try {
          const text = await decode();
          const now = performance.now();
          if (text) {
            const again = text === lastCode && now - lastSeen < REPRESENT_MS;
            lastCode = text;
            lastSeen = now;
            if (!again) {
              performance.measure("checkin-decode", { start: frameTime, end: now });
              onCode(text, frameTime);
            }
          }
        } catch (error) {
          console.warn("check-in: decoding failed", error);
        } finally {
          busy = false;
        }
      }
      next();
    }

    function next() {
      if (stopped) return;
      if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(onFrame);
      else requestAnimationFrame(onFrame);
    }

    const ready = (async function () {
      detector = await qrDetector();
      stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
      });
      video.srcObject = stream;
      await video.play();
      next();
      return detector ? "BarcodeDetector" : "jsQR";
    })();

    return {
      ready: ready,
      stop: function () {
        stopped = true;
        if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
      },
    };
  }

  window.CheckinCamera = { start: start };
})();
