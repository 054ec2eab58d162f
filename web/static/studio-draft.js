/* Studio drafts: confirmation of destructive forms, and the plain text editor of a draft's file
 * (save with the revision it was loaded at; a conflict is shown, never overwritten). */
(function (global) {
  "use strict";
  var lang = document.documentElement.lang === "en" ? "en" : "id";
  function T(id, en) { return lang === "en" ? en : id; }

  document.querySelectorAll("button[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!global.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  /* The new-service form: show only the roles of the chosen agency (all of them without JavaScript). */
  var agencySelect = document.getElementById("instansi");
  if (agencySelect) {
    var showRoles = function () {
      document.querySelectorAll("fieldset.agency-roles").forEach(function (set) {
        var mine = set.getAttribute("data-agency") === agencySelect.value;
        set.hidden = !mine;
        set.querySelectorAll("input").forEach(function (input) { input.disabled = !mine; });
      });
    };
    agencySelect.addEventListener("change", showRoles);
    showRoles();
  }

  var dataNode = document.getElementById("studio-data");
  var saveButton = document.getElementById("btn-save-text");
  if (!dataNode || !saveButton) { return; }
  var data = JSON.parse(dataNode.textContent);
  var editor = document.getElementById("text-content");
  var statusNode = document.getElementById("studio-status");
  var list = document.getElementById("lint-results");
  var dirty = false;
  editor.addEventListener("input", function () { dirty = true; });
  global.addEventListener("beforeunload", function (event) { if (dirty) { event.preventDefault(); event.returnValue = ""; } });

  function status(text, kind) { statusNode.textContent = text; statusNode.className = "studio-status " + (kind || ""); }

  function showProblems(problems) {
    list.innerHTML = "";
    problems.filter(function (p) { return p.file === data.file; }).forEach(function (p) {
      var item = document.createElement("li");
      item.className = "lint-" + p.severity;
      item.textContent = p.severity_label + ": " + (p.element_id ? p.element_id + " · " : "") + p.message;
      list.appendChild(item);
    });
  }

  saveButton.addEventListener("click", function () {
    var meta = document.querySelector("meta[name=csrf-token]");
    status(T("Menyimpan…", "Saving…"), "");
    fetch(data.save_url, {
      method: "PUT", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRF-Token": meta ? meta.getAttribute("content") : "" },
      body: JSON.stringify({ content: editor.value, revisi: data.revision })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok) {
          data.revision = body.revisi;
          dirty = false;
          showProblems(body.problems || []);
          var mine = (body.problems || []).filter(function (p) { return p.file === data.file; }).length;
          status(T("Tersimpan (revisi ", "Saved (revision ") + body.revisi + ")." +
                 (mine ? T(" Ada masalah pada berkas ini.", " This file has problems.") : ""), mine ? "warn" : "ok");
        } else {
          status(body.detail || T("Penyimpanan gagal.", "The save failed."), "bad");
        }
      });
    }).catch(function () { status(T("Server tidak dapat dihubungi; coba lagi.", "The server cannot be reached; try again."), "bad"); });
  });
}(window));
