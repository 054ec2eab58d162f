/* The studio's DMN editor: dmn-js (UMD build, global DmnJS) on one decision file of a draft.
 * Saves through the drafts' shared save API and shows the draft's lint problems that concern the
 * file on the table: the rule row, the cell or the column header they name. No build step. */
(function (global) {
  "use strict";

  var LANG = document.documentElement.lang === "en" ? "en" : "id";
  function T(idText, enText) { return LANG === "en" ? enText : idText; }

  function byId(id) { return document.getElementById(id); }

  function status(text, kind) {
    var node = byId("studio-status");
    node.textContent = text;
    node.className = "studio-status " + (kind || "");
  }

  function csrfToken() {
    var meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.getAttribute("content") : "";
  }

  function detailOf(body, fallback) {
    return body && typeof body.detail === "string" && body.detail ? body.detail : fallback;
  }

  function putJson(url, body) {
    return fetch(url, {
      method: "PUT", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        return { status: response.status, body: json };
      });
    }, function () {
      return { status: 0, body: {} };
    });
  }

  function is(element, type) { return element && element.$instanceOf && element.$instanceOf(type); }

  /* ------------------------------------------------------------------ where a DMN id is */
  /* Map every id inside the file's decisions to what a person reads ("Aturan 2 · Luas bangunan"),
   * the decision that holds it and the table node to highlight. */
  function indexDefinitions(definitions) {
    var index = {};
    (definitions && definitions.drgElement || []).forEach(function (decision) {
      if (!is(decision, "dmn:Decision")) { return; }
      var title = decision.name || decision.id;
      index[decision.id] = { decision: decision, text: T("Keputusan ", "Decision ") + title, kind: "decision" };
      var table = decision.decisionLogic;
      if (!is(table, "dmn:DecisionTable")) { return; }
      index[table.id] = { decision: decision, text: T("Tabel ", "Table ") + title, kind: "decision" };
      var columns = {};
      (table.input || []).forEach(function (input, i) {
        var label = input.label || (input.inputExpression && input.inputExpression.text) || input.id;
        columns["in" + i] = label;
        index[input.id] = { decision: decision, text: T("Masukan ", "Input ") + label, kind: "column" };
        if (input.inputExpression) {
          index[input.inputExpression.id] = { decision: decision, text: T("Masukan ", "Input ") + label,
                                              kind: "column", target: input.id };
        }
      });
      (table.output || []).forEach(function (output, i) {
        var label = output.label || output.name || output.id;
        columns["out" + i] = label;
        index[output.id] = { decision: decision, text: T("Keluaran ", "Output ") + label, kind: "column" };
      });
      (table.rule || []).forEach(function (rule, r) {
        var ruleText = T("Aturan ", "Rule ") + (r + 1);
        index[rule.id] = { decision: decision, text: ruleText, kind: "rule" };
        (rule.inputEntry || []).forEach(function (entry, i) {
          index[entry.id] = { decision: decision, text: ruleText + " · " + (columns["in" + i] || ""), kind: "cell" };
        });
        (rule.outputEntry || []).forEach(function (entry, i) {
          index[entry.id] = { decision: decision, text: ruleText + " · " + (columns["out" + i] || ""), kind: "cell" };
        });
      });
    });
    return index;
  }

  /* ------------------------------------------------------------------ dmn-js in Indonesian */
  var INDONESIAN = {
    "When": "Jika", "Then": "Maka", "And": "Dan", "Annotations": "Keterangan", "Annotation": "Keterangan",
    "Hit policy:": "Kebijakan hit:", "Hit policy": "Kebijakan hit", "Input": "Masukan", "Output": "Keluaran",
    "View DRD": "Lihat DRD", "Decision name": "Nama keputusan", "Decision name: ": "Nama keputusan: ",
    "Add rule": "Tambah aturan", "Add input": "Tambah masukan", "Add output": "Tambah keluaran",
    "Edit input": "Ubah masukan", "Edit output": "Ubah keluaran", "Move rule": "Pindahkan aturan",
    "Move Input": "Pindahkan masukan", "Move Output": "Pindahkan keluaran",
    "Resize": "Ubah lebar", "Input label: ": "Label masukan: ", "Input expression: ": "Ekspresi masukan: ",
    "Output label: ": "Label keluaran: ", "Output name: ": "Nama keluaran: ", "Input label": "Label masukan",
    "Input expression": "Ekspresi masukan", "Input type": "Jenis masukan", "Output label": "Label keluaran",
    "Output name": "Nama keluaran (isian kasus)", "Output type": "Jenis keluaran", "Type": "Jenis",
    "Expression": "Ekspresi", "Expression language": "Bahasa ekspresi", "Enter expression": "Tulis ekspresi",
    "Input values": "Nilai masukan", "Output values": "Nilai keluaran", "Predefined values": "Nilai yang ditetapkan",
    "Add values": "Tambah nilai", "Add predefined values": "Tambah nilai yang ditetapkan",
    "Clear predefined values": "Hapus nilai yang ditetapkan", "No values": "Tanpa nilai",
    "Delete": "Hapus", "Remove rule": "Hapus aturan", "Remove input column": "Hapus kolom masukan",
    "Remove output column": "Hapus kolom keluaran", "Add rule above": "Tambah aturan di atas",
    "Add rule below": "Tambah aturan di bawah", "Copy rule": "Salin aturan", "Cut rule": "Potong aturan",
    "Paste rule above": "Tempel aturan di atas", "Paste rule below": "Tempel aturan di bawah",
    "Add input column left": "Tambah kolom masukan di kiri", "Add input column right": "Tambah kolom masukan di kanan",
    "Add output column left": "Tambah kolom keluaran di kiri", "Add output column right": "Tambah kolom keluaran di kanan",
    "Copy input column": "Salin kolom masukan", "Cut input column": "Potong kolom masukan",
    "Copy output column": "Salin kolom keluaran", "Cut output column": "Potong kolom keluaran",
    "Paste input column left": "Tempel kolom masukan di kiri", "Paste input column right": "Tempel kolom masukan di kanan",
    "Paste output column left": "Tempel kolom keluaran di kiri", "Paste output column right": "Tempel kolom keluaran di kanan",
    "Add cell description": "Tambah keterangan sel", "Remove cell description": "Hapus keterangan sel",
    "Change cell expression language": "Ubah bahasa ekspresi sel", "Change type": "Ubah jenis",
    "Definition name": "Nama definisi", "Definition ID": "ID definisi", "Create decision": "Buat keputusan",
    "Create input data": "Buat data masukan", "Create knowledge model": "Buat model pengetahuan",
    "Create knowledge source": "Buat sumber pengetahuan", "Append decision": "Sambung keputusan",
    "Append input data": "Sambung data masukan", "Append knowledge source": "Sambung sumber pengetahuan",
    "Append business knowledge model": "Sambung model pengetahuan bisnis",
    "Connect to other element": "Hubungkan ke elemen lain", "Add text annotation": "Tambah anotasi teks",
    "Activate hand tool": "Alat geser", "Activate lasso tool": "Alat laso", "Yes": "Ya", "No": "Tidak",
    "Edit": "Ubah", "Strings must be in double quotes": "Teks ditulis dalam tanda kutip ganda",
    "Expression language: {expressionLanguageLabel}": "Bahasa ekspresi: {expressionLanguageLabel}"
  };

  function translate(template, replacements) {
    var text = INDONESIAN[template] || template;
    return text.replace(/{([^}]+)}/g, function (_, key) {
      return replacements && key in replacements ? replacements[key] : "{" + key + "}";
    });
  }

  /* dmn-js commits typing in names and annotations 300 ms after the last key; a save or download
   * right after typing must not lose it, so pending commits can be flushed. */
  var pendingInputs = new Set();
  function debounceInput(fn) {
    var timer = null, args = null;
    function commit() {
      clearTimeout(timer);
      timer = null;
      pendingInputs.delete(debounced);
      fn.apply(null, args);
    }
    function debounced() {
      args = arguments;
      clearTimeout(timer);
      timer = setTimeout(commit, 300);
      pendingInputs.add(debounced);
    }
    debounced.flush = function () { if (timer !== null) { commit(); } };
    debounced.cancel = function () { clearTimeout(timer); timer = null; pendingInputs.delete(debounced); };
    return debounced;
  }

  function flushInputs() {
    Array.from(pendingInputs).forEach(function (debounced) { debounced.flush(); });
  }

  var NO_SIMPLE_MODE = { registerProvider: function () {}, canSimpleEdit: function () { return false; } };

  /* dmn-js's icon buttons carry their name in `title` and an icon-font glyph as content, which
   * screen readers would read instead: name them by their title. */
  function nameIconButtons(root) {
    var selector = "button[title]:not([aria-label]), [role=button][title]:not([aria-label])";
    Array.prototype.forEach.call(root.querySelectorAll(selector), function (node) {
      node.setAttribute("aria-label", node.getAttribute("title"));
    });
  }

  function keepIconButtonsNamed(root) {
    nameIconButtons(root);
    new MutationObserver(function () { nameIconButtons(root); })
      .observe(root, { childList: true, subtree: true, attributes: true, attributeFilter: ["title"] });
  }

  /* ------------------------------------------------------------------ the editor page */
  function boot(data) {
    // Each view takes its own modules (dmn-js does not merge common.additionalModules into a view's).
    var words = [{ debounceInput: ["value", debounceInput] }].concat(
      LANG === "id" ? [{ translate: ["value", translate] }] : []);
    var modeler = new global.DmnJS({
      container: "#dmn-editor",
      // Cells are Python, as SpiffWorkflow evaluates them: a plain text cell, no FEEL editor.
      common: { expressionLanguages: { options: [{ value: "python", label: "Python" }], defaults: { editor: "python" } } },
      drd: { additionalModules: words },
      literalExpression: { additionalModules: words },
      boxedExpression: { additionalModules: words },
      // The "simple mode" pop-ups write FEEL ([1..10], "a","b", true), which SpiffWorkflow does not read.
      decisionTable: { additionalModules: words.concat([{ simpleMode: ["value", NO_SIMPLE_MODE] }]) }
    });
    global.mppDmn = modeler;  // for the browser tests and the console
    var container = byId("dmn-editor");
    keepIconButtonsNamed(container);
    var list = byId("lint-results");
    var revision = data.revision;
    var problems = data.problems || [];
    var dirty = false;
    var sheet = new CSSStyleSheet();  // lint highlights: CSSOM, so no inline style is needed
    document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
    var watched = [];

    /* table-js picks a menu's side by comparing the click's page position with half the editor's
     * height, so below the page's top half every menu opened over the table's head; decide it from
     * the click's place inside the editor instead. */
    function alignMenus(viewer) {
      var menu = viewer.get("contextMenu", false);
      if (!menu) { return; }
      var open = menu.open.bind(menu);
      menu.open = function (position, context) {
        if (position && !position.align && typeof position.x === "number" && typeof position.y === "number") {
          var box = container.getBoundingClientRect();
          var below = position.y - box.top + (position.height || 0) / 2 <= box.height / 2;
          var right = position.x - box.left + (position.width || 0) / 2 <= box.width / 2;
          position = Object.assign({}, position, { align: (below ? "bottom" : "top") + "-" + (right ? "right" : "left") });
        }
        return open(position, context);
      };
    }

    function watch(viewer) {
      if (!viewer || watched.indexOf(viewer) >= 0) { return; }
      watched.push(viewer);
      alignMenus(viewer);
      viewer.on("elements.changed", function () { dirty = true; });
      if (viewer.get("canvas", false)) {  // the DRD: name its canvas for screen readers, show the decisions
        var svg = container.querySelector(".dmn-drd-container svg");
        if (svg) {
          svg.setAttribute("role", "img");
          svg.setAttribute("aria-label", container.getAttribute("data-label") || "DRD");
        }
        centre(viewer.get("canvas"));
      }
    }

    /* Put the decisions in the middle at 100 %: at the top left the DRD's own name box covers them. */
    function centre(canvas) {
      var box = canvas.viewbox(), inner = box.inner, outer = box.outer;
      if (!inner || !inner.width || !outer.width) { return; }
      canvas.viewbox({ x: inner.x + inner.width / 2 - outer.width / 2, y: inner.y + inner.height / 2 - outer.height / 2,
                       width: outer.width, height: outer.height });
    }

    function viewLabel(view) {
      if (view.type === "drd") { return T("Diagram keputusan (DRD)", "Decision diagram (DRD)"); }
      return T("Tabel: ", "Table: ") + (view.element.name || view.element.id);
    }

    function renderViews(views, active) {
      var group = byId("dmn-views");
      var focused = Array.prototype.indexOf.call(group.children, document.activeElement);
      group.innerHTML = "";
      if (views.length < 2) { return; }
      views.forEach(function (view, index) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "secondary outline";
        button.textContent = viewLabel(view);
        button.setAttribute("aria-pressed", String(active && active.element === view.element));
        button.addEventListener("click", function () { openView(view); });
        group.appendChild(button);
        if (index === focused) { button.focus(); }  // the buttons are rebuilt: keep the keyboard's place
      });
    }

    modeler.on("views.changed", function (event) {
      renderViews(event.views, event.activeView);
      watch(modeler.getActiveViewer());
      markDrd();
    });

    function openView(view) {
      var active = modeler.getActiveView();
      if (active && active.element === view.element) { return Promise.resolve(); }
      return modeler.open(view);
    }

    function viewOf(decision) {
      var views = modeler.getViews();
      for (var i = 0; i < views.length; i++) {
        if (views[i].element === decision && views[i].type !== "drd") { return views[i]; }
      }
      return null;
    }

    /* One decision table: open it. Several decisions: start on the diagram that links them. */
    function initialView() {
      var tables = modeler.getViews().filter(function (v) { return v.type !== "drd"; });
      return tables.length === 1 ? openView(tables[0]) : Promise.resolve();
    }

    function load(xml) {
      return modeler.importXML(xml).then(function (result) {
        return initialView().then(function () {
          showProblems(problems);
          var warnings = result.warnings || [];
          if (warnings.length) {
            status(T("Berkas dibuka dengan ", "The file opened with ") + warnings.length +
                   T(" peringatan impor.", " import warning(s)."), "warn");
          }
          dirty = false;
          container.setAttribute("data-ready", "true");
        });
      }).catch(function (err) {
        status(T("Berkas DMN tidak dapat dibuka di penyunting tabel: ", "The DMN file cannot be opened in the table editor: ") +
               err.message + T(". Perbaiki XML-nya di penyunting teks.", ". Fix its XML in the text editor."), "bad");
        showProblems(problems);  // what lint says still helps fix the XML
        container.setAttribute("data-ready", "failed");
      });
    }

    /* ---------------------------------------------------------------- lint on the table */
    function cssId(id) { return '"' + global.CSS.escape(id) + '"'; }

    function selectorsFor(id, where) {
      var kind = where ? where.kind : "cell";
      var target = where && where.target ? where.target : id;
      if (kind === "rule") { return ["td[data-row-id=" + cssId(target) + "]"]; }
      if (kind === "column") { return ["th[data-col-id=" + cssId(target) + "]"]; }
      if (kind === "decision") { return [".decision-table-name"]; }  // the open table's own decision
      return ["[data-element-id=" + cssId(target) + "]"];
    }

    /* The one node that carries a problem's number: a rule's index cell, else the node itself. */
    function badgeSelector(id, where) {
      var target = where.target || id;
      return where.kind === "rule" ? "td.rule-index[data-row-id=" + cssId(target) + "]" : selectorsFor(id, where)[0];
    }

    function highlight(marks) {
      var rules = [];
      marks.forEach(function (mark) {
        var scoped = mark.selectors.map(function (s) { return "#dmn-editor " + s; }).join(", ");
        rules.push(scoped + " { box-shadow: inset 0 0 0 3px var(--dmn-lint-" + mark.severity + "); " +
                   "background-color: var(--dmn-lint-" + mark.severity + "-bg) !important; }");
        var first = "#dmn-editor " + mark.badge;
        rules.push(first + " { position: relative; }");
        rules.push(first + "::after { content: \"" + mark.number + "\"; } ");
        rules.push(first + "::after { position: absolute; top: 2px; right: 2px; min-width: 1.2rem; " +
                   "border-radius: .6rem; padding: 0 .25rem; font: bold 11px/1.2rem sans-serif; text-align: center; " +
                   "color: #fff; background: var(--dmn-lint-" + mark.severity + "); pointer-events: none; }");
      });
      sheet.replaceSync(rules.join("\n"));
    }

    var drdMarked = [];
    function markDrd() {
      var viewer = modeler.getActiveViewer();
      var canvas = viewer && viewer.get("canvas", false);
      if (!canvas || !viewer.get("elementRegistry", false)) { return; }
      var registry = viewer.get("elementRegistry");
      drdMarked.forEach(function (id) {
        if (registry.get(id)) {
          canvas.removeMarker(id, "mpp-lint-error");
          canvas.removeMarker(id, "mpp-lint-warning");
        }
      });
      drdMarked = [];
      var index = indexDefinitions(modeler.getDefinitions());
      problems.forEach(function (problem) {
        var where = problem.element_id ? index[problem.element_id] : null;
        var id = where ? where.decision.id : null;
        if (id && registry.get(id)) {
          canvas.addMarker(id, "mpp-lint-" + problem.severity);
          drdMarked.push(id);
        }
      });
    }

    function showProblems(found) {
      problems = found;
      var index = indexDefinitions(modeler.getDefinitions());
      var marks = [];
      list.innerHTML = "";
      byId("lint-none").hidden = found.length > 0;
      byId("lint-hint").hidden = !found.some(function (p) { return p.element_id && index[p.element_id]; });
      found.forEach(function (problem, i) {
        var where = problem.element_id ? index[problem.element_id] : null;
        var item = document.createElement("li");
        item.className = "lint-" + problem.severity;
        item.setAttribute("data-element-id", problem.element_id || "");
        var badge = document.createElement("span");
        badge.className = "badge " + (problem.severity === "error" ? "bad" : "warn");
        badge.textContent = problem.severity_label || problem.severity;
        item.appendChild(badge);
        item.appendChild(document.createTextNode(" " + (i + 1) + ". "));
        var text = where ? where.text + " (" + problem.element_id + ")" :
          (problem.element_id || problem.file);
        if (where) {
          var button = document.createElement("button");
          button.type = "button";
          button.className = "link-button";
          button.textContent = text;
          button.addEventListener("click", function () { goTo(problem.element_id, where); });
          item.appendChild(button);
          marks.push({ selectors: selectorsFor(problem.element_id, where), badge: badgeSelector(problem.element_id, where),
                       severity: problem.severity, number: i + 1 });
        } else {
          var label = document.createElement("strong");
          label.textContent = text;
          item.appendChild(label);
        }
        item.appendChild(document.createTextNode(" — " + problem.message));
        list.appendChild(item);
      });
      highlight(marks);
      markDrd();
    }

    /* Open the decision's table, bring the rule, cell or column into view and put the caret in it. */
    function goTo(id, where) {
      var view = viewOf(where.decision);
      var opened = view ? openView(view) : Promise.resolve();
      opened.then(function () {
        var target = where.target || id;
        var node = container.querySelector(selectorsFor(id, where)[0]);
        if (!node) { return; }
        node.scrollIntoView({ block: "center", inline: "nearest" });
        var cellId = where.kind === "cell" ? target : null;
        if (where.kind === "rule") {
          var first = container.querySelector("td[data-row-id=" + cssId(target) + "][data-element-id]:not([data-element-id=" +
                                              cssId(target) + "])");
          cellId = first ? first.getAttribute("data-element-id") : null;
        }
        var viewer = modeler.getActiveViewer();
        if (cellId && viewer && viewer.get("selection", false)) { viewer.get("selection").select(cellId); }
        var cell = cellId ? container.querySelector("[data-element-id=" + cssId(cellId) + "]") : null;
        var within = cell || node;  // a column: its "edit" button, which opens the column's editor
        var focusable = within.querySelector(".edit-button") || within.querySelector("[contenteditable], button, [tabindex]");
        if (focusable && document.activeElement !== focusable) { focusable.focus(); }
      });
    }

    /* ---------------------------------------------------------------- save, download, conflicts */
    function currentXml() {
      flushInputs();
      return modeler.saveXML({ format: true }).then(function (result) { return result.xml; });
    }

    function reportSaved(body) {
      var mine = (body.problems || []).filter(function (p) { return p.file === data.name; });
      var others = (body.problems || []).filter(function (p) {
        return p.file !== data.name && p.severity === "error";
      }).length;
      showProblems(mine);
      showOthers(others);
      var errors = mine.filter(function (p) { return p.severity === "error"; }).length;
      var text = T("Tersimpan. ", "Saved. ");
      if (!mine.length) {
        text += T("Tidak ada masalah pada berkas ini.", "No problems in this file.");
      } else {
        text += T("Ditemukan ", "Found ") + errors + T(" galat dan ", " error(s) and ") + (mine.length - errors) +
          T(" peringatan pada berkas ini.", " warning(s) in this file.");
      }
      if (others) { text += " " + T("Berkas lain memiliki ", "Other files have ") + others + T(" galat.", " error(s)."); }
      status(text, errors ? "bad" : (mine.length || others ? "warn" : "ok"));
    }

    function showOthers(count) {
      var node = byId("lint-others");
      node.hidden = !count;
      byId("lint-others-count").textContent = String(count);
    }

    var saving = false;
    function save() {
      if (saving) { return Promise.resolve(); }
      saving = true;
      status(T("Menyimpan…", "Saving…"), "");
      return currentXml().then(function (xml) {
        return putJson(data.save_url, { content: xml, revisi: revision });
      }).then(function (res) {
        saving = false;
        if (res.status === 200) {
          revision = res.body.revisi;
          dirty = false;
          byId("dmn-conflict").hidden = true;
          reportSaved(res.body);
        } else if (res.status === 409) {
          var text = detailOf(res.body, T("Berkas ini diubah orang lain setelah Anda membukanya.",
                                           "Someone else changed this file after you opened it."));
          byId("dmn-conflict-text").textContent = text;
          byId("dmn-conflict").hidden = false;
          status(T("Belum tersimpan: terjadi benturan perubahan.", "Not saved: conflicting changes."), "bad");
        } else {
          status(detailOf(res.body, T("Penyimpanan gagal; coba lagi atau muat ulang halaman.",
                                      "The save failed; try again or reload the page.")), "bad");
        }
      }, function (err) {
        saving = false;
        status(T("Penyimpanan gagal: ", "The save failed: ") + err.message, "bad");
      });
    }

    function download() {
      return currentXml().then(function (xml) {
        var link = document.createElement("a");
        link.href = URL.createObjectURL(new Blob([xml], { type: "application/xml" }));
        link.download = data.name.split("/").pop();
        document.body.appendChild(link);
        link.click();
        link.remove();
        URL.revokeObjectURL(link.href);
      });
    }

    byId("btn-save").addEventListener("click", save);
    byId("btn-download").addEventListener("click", download);
    byId("btn-download-mine").addEventListener("click", download);
    byId("btn-reload").addEventListener("click", function () {
      dirty = false;  // the analyst chose to drop their edits (after downloading them, if they wished)
      global.location.reload();
    });
    document.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && (event.key === "s" || event.key === "S")) {
        event.preventDefault();
        save();
      }
    });
    global.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });

    showOthers(data.other_errors || 0);
    return load(data.xml);
  }

  function start() {
    var node = byId("studio-data");
    var data = node ? JSON.parse(node.textContent) : null;
    if (data && data.page === "dmn") { boot(data); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})(window);
