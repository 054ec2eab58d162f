// The counter kiosk starts afresh for the next visitor: after two idle minutes a half-filled form is
// thrown away (nothing was sent), so one visitor's answers never wait for the next one to send them.
// The thank-you note goes as soon as the next visitor starts (and the address loses its ?terima=1).
(function () {
  "use strict";
  var IDLE_MS = 2 * 60 * 1000;
  var form = document.getElementById("kiosk-form");
  if (!form) { return; }
  var thanks = document.getElementById("kiosk-thanks");
  if (thanks) { window.history.replaceState(null, "", window.location.pathname); }
  var timer = null;
  function reset() { window.location.assign(window.location.pathname); }
  function touched() {
    if (thanks) { thanks.remove(); thanks = null; }
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(reset, IDLE_MS);
  }
  ["input", "change", "pointerdown", "keydown"].forEach(function (name) {
    form.addEventListener(name, touched);
  });
})();
