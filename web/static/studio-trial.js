/* Studio trial run (Uji coba): every action replays the trial on a fresh throw-away copy, which takes a
 * moment. Bring the problems into view and focus; while a form is sent, say so and block a second click. */
(function () {
  "use strict";
  var lang = document.documentElement.lang === "en" ? "en" : "id";
  var problems = document.getElementById("trial-problems");
  if (problems) { problems.focus(); }
  document.querySelectorAll("form[action*='/uji-coba']").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (!button) { return; }
      if (button.getAttribute("aria-disabled") === "true") { return; }
      button.setAttribute("aria-disabled", "true");
      button.setAttribute("aria-busy", "true");
      window.setTimeout(function () { button.disabled = true; }, 0);
    });
  });
  var overwrite = document.getElementById("save-overwrite");
  var file = document.getElementById("save-file");
  var existing = Array.prototype.map.call(document.querySelectorAll("#trial-files tr[data-file]"), function (row) {
    return row.getAttribute("data-file");
  });
  if (overwrite && file) {
    var hint = document.createElement("small");
    hint.id = "save-file-exists";
    hint.setAttribute("aria-live", "polite");
    file.parentNode.appendChild(hint);
    var check = function () {
      var taken = existing.indexOf("tests/" + file.value.trim() + ".toml") >= 0;
      hint.textContent = taken ? (lang === "en" ? "A scenario of this name exists: tick overwrite to replace it."
                                                : "Skenario bernama ini sudah ada: centang timpa untuk menggantinya.") : "";
    };
    file.addEventListener("input", check);
    check();
  }
})();
