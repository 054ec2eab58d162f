/* The analysts' studio: bpmn-js modeler with an "MPP" properties group, server-side lint shown
 * on the diagram, deploy as a new version; read-only viewers and the version comparison.
 * Vanilla JS over the UMD builds of bpmn-js and bpmn-js-properties-panel: no build step. */
(function (global) {
  "use strict";

  var MPP = global.MppStudioProperties;  // studio-mpp.js, loaded first
  var SPIFF_MODDLE = MPP.moddle, T = MPP.T;

  /* ------------------------------------------------------------------ helpers for pages */
  function readData() {
    var node = document.getElementById("studio-data");
    return node ? JSON.parse(node.textContent) : null;
  }

  function status(text, kind) {
    var node = document.getElementById("studio-status");
    if (!node) { return; }
    node.textContent = text;
    node.className = "studio-status " + (kind || "");
  }

  /* The route's own message, or a general one (FastAPI's validation errors carry a list). */
  function detailOf(body, fallback) {
    return typeof body.detail === "string" && body.detail ? body.detail : fallback;
  }

  function postJson(url, csrf, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        return { status: response.status, body: json };
      });
    });
  }

  /* Give the canvas a name and a role: axe and screen readers see it as one labelled image. */
  function labelCanvas(container, label) {
    var svg = container.querySelector("svg");
    if (svg) {
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", label);
    }
  }

  /* ------------------------------------------------------------------ lint results */
  function clearLint(modeler) {
    var overlays = modeler.get("overlays"), canvas = modeler.get("canvas"), registry = modeler.get("elementRegistry");
    overlays.remove({ type: "mpp-lint" });
    registry.getAll().forEach(function (el) {
      canvas.removeMarker(el.id, "mpp-lint-error");
      canvas.removeMarker(el.id, "mpp-lint-warning");
    });
  }

  function showProblems(modeler, problems, list) {
    clearLint(modeler);
    var registry = modeler.get("elementRegistry"), overlays = modeler.get("overlays"), canvas = modeler.get("canvas");
    list.innerHTML = "";
    problems.forEach(function (problem, index) {
      var element = problem.element_id ? registry.get(problem.element_id) : null;
      var item = document.createElement("li");
      item.className = "lint-" + problem.severity;
      var badge = document.createElement("span");
      badge.className = "badge " + (problem.severity === "error" ? "bad" : "warn");
      badge.textContent = problem.severity === "error" ? T("galat", "error") : T("peringatan", "warning");
      item.appendChild(badge);
      item.appendChild(document.createTextNode(" "));
      var where = problem.file + (problem.element_id ? " · " + problem.element_id : "") +
        (problem.element_name ? " (" + problem.element_name + ")" : "");
      if (element) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "link-button";
        button.setAttribute("data-element-id", problem.element_id);
        button.textContent = where;
        button.addEventListener("click", function () { focusElement(modeler, element); });
        item.appendChild(button);
        canvas.addMarker(element.id, "mpp-lint-" + problem.severity);
        var note = document.createElement("span");
        note.className = "mpp-lint-badge " + problem.severity;
        note.textContent = String(index + 1);
        note.title = problem.message;
        overlays.add(element.id, "mpp-lint", { position: { top: -12, left: -12 }, html: note });
      } else {
        var label = document.createElement("strong");
        label.textContent = where;
        item.appendChild(label);
      }
      item.appendChild(document.createTextNode(" — " + problem.message));
      list.appendChild(item);
    });
  }

  function focusElement(modeler, element) {
    var canvas = modeler.get("canvas");
    if (canvas.scrollToElement) { canvas.scrollToElement(element, { top: 80, bottom: 80, left: 80, right: 80 }); }
    if (modeler.get("selection")) { modeler.get("selection").select(element); }
    var container = canvas.getContainer();
    if (container && container.focus) { container.focus(); }
  }

  /* ------------------------------------------------------------------ the modeler page */
  function bootModeler(data) {
    MPP.configure({ forms: data.forms || [], uiForms: data.ui_forms || [],
                    decisions: data.decisions || [], notify: data.notify || [] });
    var PP = global.BpmnJSPropertiesPanel;
    var modeler = new global.BpmnJS({
      container: "#canvas",
      propertiesPanel: { parent: "#properties" },
      additionalModules: [PP.BpmnPropertiesPanelModule, PP.BpmnPropertiesProviderModule, MPP.module],
      moddleExtensions: { spiffworkflow: SPIFF_MODDLE }
    });
    global.mppModeler = modeler;  // for the browser tests and the console
    var canvasNode = document.getElementById("canvas");
    var list = document.getElementById("lint-results");

    function load(xml) {
      return modeler.importXML(xml).then(function (result) {
        modeler.get("canvas").zoom("fit-viewport");
        labelCanvas(canvasNode, canvasNode.getAttribute("data-label") || "BPMN");
        if (result.warnings && result.warnings.length) {
          status(T("Diagram dibuka dengan ", "Diagram opened with ") + result.warnings.length +
                 T(" peringatan impor.", " import warning(s)."), "warn");
          return false;
        }
        return true;
      }).catch(function (err) {
        status(T("Diagram tidak dapat dibuka: ", "The diagram cannot be opened: ") + err.message, "bad");
        return false;
      });
    }

    /* Warn before leaving with edits that were neither deployed nor downloaded. */
    var dirty = false;
    modeler.on("commandStack.changed", function () { dirty = true; });
    global.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });

    function currentXml() {
      return modeler.saveXML({ format: true }).then(function (result) { return result.xml; });
    }

    function submit(url, busyText) {
      status(busyText, "");
      return currentXml().then(function (xml) {
        var meta = document.querySelector("meta[name=csrf-token]");
        return postJson(url, meta ? meta.getAttribute("content") : "", { xml: xml, dari: data.version });
      });
    }

    document.getElementById("btn-lint").addEventListener("click", function () {
      submit(data.lint_url, T("Memeriksa…", "Checking…")).then(function (res) {
        var problems = res.body.problems || [];
        showProblems(modeler, problems, list);
        if (res.status >= 400 && !res.body.problems) {
          status(detailOf(res.body, T("Pemeriksaan gagal; muat ulang halaman.", "The check failed; reload the page.")), "bad");
        } else if (!problems.length) {
          status(T("Tidak ada masalah ditemukan.", "No problems found."), "ok");
        } else {
          var errors = problems.filter(function (p) { return p.severity === "error"; }).length;
          status(T("Ditemukan ", "Found ") + errors + T(" galat dan ", " error(s) and ") +
                 (problems.length - errors) + T(" peringatan.", " warning(s)."), errors ? "bad" : "warn");
        }
      });
    });

    /* On a draft, the main button saves the diagram into the draft (refused when another analyst
     * saved it after this page loaded it) and shows the draft's lint results. */
    function saveToDraft() {
      status(T("Menyimpan…", "Saving…"), "");
      return currentXml().then(function (xml) {
        var meta = document.querySelector("meta[name=csrf-token]");
        return fetch(data.save_url, {
          method: "PUT", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "Accept": "application/json",
                     "X-CSRF-Token": meta ? meta.getAttribute("content") : "" },
          body: JSON.stringify({ content: xml, revisi: data.revision })
        }).then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (body) {
            if (!response.ok) {
              status(detailOf(body, T("Penyimpanan gagal.", "The save failed.")), "bad");
              return;
            }
            data.revision = body.revisi;
            dirty = false;
            var problems = (body.problems || []).filter(function (p) { return p.file === data.file; });
            showProblems(modeler, problems, list);
            status(T("Tersimpan ke draf (revisi ", "Saved to the draft (revision ") + body.revisi + ")." +
                   (problems.length ? T(" Ada masalah pada diagram.", " The diagram has problems.") : ""),
                   problems.length ? "warn" : "ok");
          });
        });
      });
    }

    document.getElementById("btn-deploy").addEventListener("click", function () {
      if (data.save_url) { saveToDraft(); return; }
      submit(data.deploy_url, T("Menerapkan…", "Deploying…")).then(function (res) {
        if (res.status < 400 && res.body.redirect) {
          dirty = false;
          global.location.assign(res.body.redirect);
          return;
        }
        showProblems(modeler, res.body.problems || [], list);
        status(detailOf(res.body, T("Penerapan gagal; muat ulang halaman.", "The deployment failed; reload the page.")), "bad");
      });
    });

    var fileInput = document.getElementById("bpmn-file");
    fileInput.addEventListener("change", function () {
      var file = fileInput.files && fileInput.files[0];
      if (!file) { return; }
      file.text().then(function (xml) {
        clearLint(modeler);
        list.innerHTML = "";
        return load(xml).then(function (clean) {
          if (clean) { status(T("Berkas dibuka: ", "File opened: ") + file.name, "ok"); }
          dirty = true;  // the opened file is not deployed yet
        });
      });
    });

    document.getElementById("btn-download").addEventListener("click", function () {
      currentXml().then(function (xml) {
        var link = document.createElement("a");
        link.href = URL.createObjectURL(new Blob([xml], { type: "application/xml" }));
        link.download = (data.key || "process") + ".bpmn";
        link.click();
        URL.revokeObjectURL(link.href);
        dirty = false;
      });
    });

    return load(data.xml);
  }

  /* ------------------------------------------------------------------ viewers */
  function bootViewer(node) {
    var source = document.getElementById(node.getAttribute("data-xml"));
    var viewer = new global.BpmnJS({ container: node, moddleExtensions: { spiffworkflow: SPIFF_MODDLE } });
    viewers.push(viewer);
    var marks = JSON.parse(node.getAttribute("data-marks") || "{}");
    return viewer.importXML(JSON.parse(source.textContent)).then(function () {
      var canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry");
      canvas.zoom("fit-viewport");
      labelCanvas(node, node.getAttribute("data-label") || "BPMN");
      Object.keys(marks).forEach(function (kind) {
        marks[kind].forEach(function (id) {
          if (registry.get(id)) { canvas.addMarker(id, "mpp-diff-" + kind); }
        });
      });
      node.setAttribute("data-ready", "true");
    }).catch(function (err) {
      node.textContent = T("Diagram tidak dapat ditampilkan: ", "The diagram cannot be shown: ") + err.message;
    });
  }

  var viewers = [];

  /* Zoom every diagram on the page to one element (the comparison's "show" buttons). */
  function showInViewers(elementId) {
    viewers.forEach(function (viewer) {
      var element = viewer.get("elementRegistry").get(elementId);
      if (!element) { return; }
      var canvas = viewer.get("canvas");
      canvas.zoom(1);
      canvas.scrollToElement(element, { top: 60, bottom: 60, left: 60, right: 60 });
    });
    var heading = document.getElementById("diagrams-title");
    if (heading) { heading.scrollIntoView({ block: "start" }); }
  }

  function boot() {
    var data = readData();
    if (data && data.page === "modeler") {
      bootModeler(data);
    }
    Array.prototype.forEach.call(document.querySelectorAll("[data-bpmn-viewer]"), bootViewer);
    Array.prototype.forEach.call(document.querySelectorAll("[data-show-element]"), function (button) {
      button.addEventListener("click", function () { showInViewers(button.getAttribute("data-show-element")); });
    });
  }

  if (typeof document !== "undefined" && document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", boot);
  } else if (typeof document !== "undefined") {
    boot();
  }
})(window);
