/* The studio's service-standard form and template editor.
 * Standard: add/remove rows in the page (without JavaScript the same buttons post the form and the
 * server adds or removes the row). Templates: save through the draft's file API with the revision the
 * page loaded (a conflict is shown, never overwritten) and preview with sample data, rendered by the
 * server in its sandbox and shown in a frame that may run nothing. */
(function (global) {
  "use strict";
  var lang = document.documentElement.lang === "en" ? "en" : "id";
  function T(id, en) { return lang === "en" ? en : id; }
  function csrf() {
    var meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.getAttribute("content") : "";
  }

  // ------------------------------------------------------------ the service standard

  function standardPage(form) {
    var statusNode = document.getElementById("std-status");
    var dirty = false;
    function say(text) { if (statusNode) { statusNode.textContent = text; } }
    var labels = { req: T("Persyaratan", "Requirement"), ag: T("Instansi", "Agency"),
                   role: T("Peran", "Role"), fact: T("Data tercetak", "Printed fact") };

    function rowsOf(container, kind) {
      return Array.prototype.filter.call(container.children, function (el) { return el.getAttribute("data-row") === kind; });
    }
    function nextIndex(rows) {
      return rows.reduce(function (max, el) { return Math.max(max, parseInt(el.getAttribute("data-index"), 10)); }, -1) + 1;
    }

    function addRow(button) {
      var kind = button.getAttribute("data-add");
      var container, html, agency;
      if (kind === "role") {
        agency = button.closest("[data-row=ag]");
        container = agency.querySelector("[data-roles-of]");
      } else {
        container = document.getElementById(kind + "-rows");
      }
      var rows = rowsOf(container, kind);
      var index = nextIndex(rows), number = rows.length + 1;
      html = document.getElementById("tpl-" + kind).innerHTML;
      if (kind === "role") {
        var agencies = rowsOf(document.getElementById("ag-rows"), "ag");
        html = html.replace(/__a__/g, agency.getAttribute("data-index"))
                   .replace(/__b__/g, String(agencies.indexOf(agency) + 1))
                   .replace(/__j__/g, String(index)).replace(/__m__/g, String(number));
      } else {
        html = html.replace(/__i__/g, String(index)).replace(/__n__/g, String(number));
      }
      var holder = document.createElement(container.tagName === "OL" ? "ol" : "div");
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      container.appendChild(row);
      var first = row.querySelector("input:not([type=hidden]), select");
      if (first) { first.focus(); }
      dirty = true;
      say(labels[kind] + " " + number + T(" ditambahkan.", " added."));
    }

    function removeRow(button) {
      var row = button.closest("[data-row]");
      var kind = row.getAttribute("data-row");
      var scope = kind === "role" ? row.closest("[data-row=ag]") : form;
      row.parentNode.removeChild(row);
      var add = scope.querySelector("button[data-add=" + kind + "]");
      if (add) { add.focus(); }
      dirty = true;
      say(labels[kind] + T(" dihapus. Simpan untuk menetapkannya.", " removed. Save to keep the change."));
    }

    form.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button || !form.contains(button)) { return; }
      if (button.hasAttribute("data-add")) { event.preventDefault(); addRow(button); }
      else if (button.hasAttribute("data-remove")) { event.preventDefault(); removeRow(button); }
    });
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("submit", function () { dirty = false; });
    global.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });

    var docOn = document.getElementById("f-doc_on");
    var docFields = document.getElementById("std-doc-fields");
    function showDocument() {
      docFields.hidden = !docOn.checked;
      document.getElementById("std-doc").toggleAttribute("data-off", !docOn.checked);
    }
    if (docOn && docFields) { docOn.addEventListener("change", showDocument); showDocument(); }

    var summary = document.getElementById("standard-errors");
    if (summary) { summary.focus(); }
  }

  // ------------------------------------------------------------ templates

  function templatePage(data) {
    var editor = document.getElementById("template-source");
    var sample = document.getElementById("template-sample");
    var statusNode = document.getElementById("template-status");
    var errorNode = document.getElementById("template-error");
    var caret = document.getElementById("template-caret");
    var revisionInput = document.getElementById("template-revision");
    var dirty = false;

    function status(text, kind) { statusNode.textContent = text; statusNode.className = "studio-status " + (kind || ""); }
    function showLine() {
      var before = editor.value.slice(0, editor.selectionStart);
      var line = before.split("\n").length, column = before.length - before.lastIndexOf("\n");
      caret.textContent = T("Baris ", "Line ") + line + T(", kolom ", ", column ") + column;
    }
    function goToLine(line) {
      var lines = editor.value.split("\n"), start = 0;
      for (var i = 0; i < line - 1 && i < lines.length; i++) { start += lines[i].length + 1; }
      editor.focus();
      editor.setSelectionRange(start, start + (lines[line - 1] || "").length);
      showLine();
    }
    ["keyup", "click", "input"].forEach(function (name) { editor.addEventListener(name, showLine); });
    editor.addEventListener("input", function () { dirty = true; });
    global.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });

    function showError(text, line) {
      document.getElementById("template-preview").hidden = true;  // never show a stale preview beside an error
      errorNode.hidden = false;
      errorNode.innerHTML = "";
      var strong = document.createElement("strong");
      strong.textContent = text;
      errorNode.appendChild(strong);
      if (line) {
        var jump = document.createElement("button");
        jump.type = "button";
        jump.className = "link-button";
        jump.textContent = T(" Ke baris ", " Go to line ") + line;
        jump.addEventListener("click", function () { goToLine(line); });
        errorNode.appendChild(document.createTextNode(" "));
        errorNode.appendChild(jump);
      }
    }

    function showPreview(body) {
      var box = document.getElementById("template-preview");
      box.hidden = false;
      var frame = document.getElementById("preview-frame");
      var mail = document.getElementById("preview-mail");
      if (body.kind === "document") {
        frame.hidden = false;
        mail.hidden = true;
        frame.srcdoc = body.page;
        var link = document.getElementById("preview-pdf");
        link.hidden = false;
        link.href = "data:application/pdf;base64," + body.pdf;
      } else {
        frame.hidden = true;
        mail.hidden = false;
        document.getElementById("preview-subject").textContent = body.subject;
        document.getElementById("preview-body").textContent = body.body;
      }
    }

    document.getElementById("template-form").addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (submitter && submitter.value === "pdf") { return; }  // the PDF downloads through the plain form
      event.preventDefault();
      status(T("Menampilkan pratinjau…", "Rendering the preview…"), "");
      errorNode.hidden = true;
      var body = new FormData(event.target);
      fetch(data.preview_url, { method: "POST", credentials: "same-origin", body: body,
                                headers: { "Accept": "application/json", "X-CSRF-Token": csrf() } })
        .then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (answer) {
            if (response.ok) {
              showPreview(answer);
              status(T("Pratinjau diperbarui.", "Preview updated."), "ok");
            } else {
              showError(answer.detail || T("Pratinjau gagal.", "The preview failed."), answer.line);
              status(T("Templat bermasalah.", "The template has a problem."), "bad");
            }
          });
        })
        .catch(function () { status(T("Server tidak dapat dihubungi; coba lagi.", "The server cannot be reached; try again."), "bad"); });
    });

    function showProblems(problems) {
      var list = document.getElementById("template-problems");
      var mine = problems.filter(function (p) { return p.file === data.file; });
      var clean = document.getElementById("template-clean");
      if (clean) { clean.hidden = mine.length > 0; }
      list.innerHTML = "";
      mine.forEach(function (p) {
        var item = document.createElement("li");
        item.className = "lint-" + p.severity;
        item.textContent = p.severity_label + ": " + p.message;
        list.appendChild(item);
      });
    }

    document.getElementById("btn-save-template").addEventListener("click", function () {
      status(T("Menyimpan…", "Saving…"), "");
      fetch(data.save_url, {
        method: "PUT", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf() },
        body: JSON.stringify({ content: editor.value, revisi: data.revision })
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (response.ok) {
            data.revision = body.revisi;
            revisionInput.value = body.revisi;
            dirty = false;
            var fresh = document.getElementById("template-new");
            if (fresh) { fresh.hidden = true; }
            showProblems(body.problems || []);
            var mine = (body.problems || []).filter(function (p) { return p.file === data.file; }).length;
            status(T("Tersimpan (revisi ", "Saved (revision ") + body.revisi + ")." +
                   (mine ? T(" Ada masalah pada templat ini.", " This template has problems.") : ""), mine ? "warn" : "ok");
          } else if (response.status === 409) {
            status((body.detail || "") + " " + T("Salin teks Anda, lalu muat ulang halaman.", "Copy your text, then reload the page."), "bad");
          } else {
            status(body.detail || T("Penyimpanan gagal.", "The save failed."), "bad");
          }
        });
      }).catch(function () { status(T("Server tidak dapat dihubungi; coba lagi.", "The server cannot be reached; try again."), "bad"); });
    });
    var saveButton = document.getElementById("btn-save-template");
    saveButton.hidden = false;
    if (sample) { sample.addEventListener("input", function () { dirty = true; }); }
    var line = parseInt(errorNode.getAttribute("data-line") || "", 10);
    if (line) { showError(errorNode.textContent.trim(), line); }
  }

  var standardForm = document.getElementById("standard-form");
  if (standardForm) { standardPage(standardForm); }
  var templateData = document.getElementById("template-data");
  if (templateData) {
    var data = JSON.parse(templateData.textContent);
    if (data.file) { templatePage(data); }
  }
}(window));
