/* The studio's form builder page: the field list and each field's editor, a live preview rendered
 * by the platform's own form layer on the server, saving both files to the draft with lint shown
 * on the fields it names. The model is studio-forms-model.js (loaded first). Plain JS, no build step. */
(function (global) {
  "use strict";

  var B = global.MppFormBuilder;
  var T = B.T, LANG = B.LANG, KINDS = B.KINDS, OTHER = B.OTHER, kindLabel = B.kindLabel, isObj = B.isObj;
  var has = B.has, text = B.text, slug = B.slug, same = B.same, isRequired = B.isRequired;
  var optionValue = B.optionValue, blocking = B.blocking, load = B.load, dump = B.dump, byKey = B.byKey;
  var setKind = B.setKind, setRequired = B.setRequired, renameField = B.renameField, removeField = B.removeField;
  var addField = B.addField, moveField = B.moveField, writeOptions = B.writeOptions, setConditions = B.setConditions;
  var conditionsOf = B.conditionsOf, localProblems = B.localProblems;
  var KEY = B.KEY;

  /* ================================================================== the page */
  var dataNode = document.getElementById("studio-data");
  var list = document.getElementById("fb-fields");
  if (!dataNode || !list) { return; }
  var data = JSON.parse(dataNode.textContent);
  var model = load(data.schema, data.uischema);
  var uiExists = !!data.ui_exists;
  var lintProblems = data.problems || [];   // from the last save (or the page load)
  var previewProblems = [];                  // what the form layer refuses, live
  var expanded = {};
  var dirty = false, saving = false;
  var csrfMeta = document.querySelector("meta[name=csrf-token]");
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var statusNode = document.getElementById("studio-status");

  function status(message, kind) {
    statusNode.textContent = message;
    statusNode.className = "studio-status " + (kind || "");
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) { return; }
      if (k === "text") { node.textContent = v; }
      else if (k.slice(0, 2) === "on") { node.addEventListener(k.slice(2), v); }
      else if (k === "value") { node.value = v; }
      else if (k === "checked") { node.checked = !!v; }
      else { node.setAttribute(k, v === true ? "" : v); }
    });
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); }
    });
    return node;
  }

  function hidden(textValue) { return el("span", { "class": "visually-hidden", text: textValue }); }
  function fieldName(f) { return (isObj(f.prop) && text(f.prop.title)) || f.key; }
  function id(f, what) { return "fb-" + f.uid + "-" + what; }

  /* ------------------------------------------------------------------ changes */
  var previewTimer = null;
  function changed(options) {
    dirty = true;
    if (!(options && options.quiet)) { refreshProblems(); }
    clearTimeout(previewTimer);
    previewTimer = setTimeout(preview, 350);
  }
  global.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });

  /* ------------------------------------------------------------------ form title */
  var titleId = document.getElementById("fb-title-id"), titleEn = document.getElementById("fb-title-en");
  titleId.value = text(model.schema.title);
  titleEn.value = text(model.uiRoot["ui:title_en"]);
  titleId.addEventListener("input", function () { model.schema.title = titleId.value; changed(); });
  titleEn.addEventListener("input", function () {
    if (titleEn.value || has(model.uiRoot, "ui:title_en")) { model.uiRoot["ui:title_en"] = titleEn.value; }
    changed();
  });

  /* ------------------------------------------------------------------ the field list */
  function renderList(focusId) {
    list.innerHTML = "";
    model.fields.forEach(function (f, index) { list.appendChild(renderCard(f, index)); });
    document.getElementById("fb-count").textContent = "(" + model.fields.length + ")";
    refreshProblems();
    if (focusId) {
      var target = document.getElementById(focusId);
      if (target) { target.focus(); }
    }
  }

  function renderCard(f, index) {
    var open = !!expanded[f.uid];
    var head = el("div", { "class": "fb-field-head" }, [
      el("span", { "class": "fb-field-title" }, [
        el("strong", { id: id(f, "name"), text: fieldName(f) }), " ",
        el("code", { id: id(f, "keyshow"), text: f.key }), " ",
        el("span", { "class": "fb-kind", id: id(f, "kindshow"), text: kindLabel(f.kind) }), " ",
        el("span", { "class": "badge warn", id: id(f, "reqshow"), hidden: !isRequired(model, f),
                     text: T("wajib", "required") }), " ",
        el("span", { "class": "badge", id: id(f, "condshow"), hidden: !conditionsOf(model, f).length,
                     text: T("wajib bila …", "required when …") }), " ",
        el("span", { "class": "badge bad", id: id(f, "count"), hidden: true })
      ]),
      el("span", { "class": "fb-field-actions" }, [
        el("button", { type: "button", "class": "secondary outline small", id: id(f, "toggle"),
                       "aria-expanded": open ? "true" : "false", "aria-controls": id(f, "editor"),
                       onclick: function () { toggle(f); } },
           [open ? T("Tutup", "Close") : T("Ubah", "Edit"), hidden(" " + fieldName(f))]),
        el("button", { type: "button", "class": "secondary outline small", id: id(f, "up"), disabled: index === 0,
                       onclick: function () { move(f, -1, "up"); } }, [T("Naik", "Up"), hidden(" " + fieldName(f))]),
        el("button", { type: "button", "class": "secondary outline small", id: id(f, "down"),
                       disabled: index === model.fields.length - 1,
                       onclick: function () { move(f, 1, "down"); } }, [T("Turun", "Down"), hidden(" " + fieldName(f))]),
        el("button", { type: "button", "class": "secondary outline small fb-remove", id: id(f, "remove"),
                       onclick: function () { remove(f); } }, [T("Hapus", "Remove"), hidden(" " + fieldName(f))])
      ])
    ]);
    var problems = el("ul", { "class": "fb-field-problems", id: id(f, "problems"), hidden: true });
    var editor = el("div", { "class": "fb-field-editor", id: id(f, "editor"), hidden: !open });
    if (open) { fillEditor(f, editor); }
    return el("li", { "class": "fb-field", id: "fb-field-" + f.uid, "data-key": f.key, "data-kind": f.kind },
              [head, problems, editor]);
  }

  function toggle(f) {
    expanded[f.uid] = !expanded[f.uid];
    var card = document.getElementById("fb-field-" + f.uid);
    card.parentNode.replaceChild(renderCard(f, model.fields.indexOf(f)), card);
    refreshProblems();
    var focus = document.getElementById(expanded[f.uid] ? id(f, "key") : id(f, "toggle"));
    if (focus) { focus.focus(); }
  }

  function move(f, by, button) {
    moveField(model, f, by);
    var index = model.fields.indexOf(f);
    var stuck = (button === "up" && index === 0) || (button === "down" && index === model.fields.length - 1);
    renderList(id(f, stuck ? (button === "up" ? "down" : "up") : button));
    status(T("Isian “" + fieldName(f) + "” kini di urutan ke-" + (index + 1) + ".",
             "Field “" + fieldName(f) + "” is now at position " + (index + 1) + "."), "");
    changed();
  }

  function remove(f) {
    var index = model.fields.indexOf(f);
    removeField(model, f);
    delete expanded[f.uid];
    var next = model.fields[Math.min(index, model.fields.length - 1)];
    renderList(next ? id(next, "toggle") : "fb-add");
    status(T("Isian “" + fieldName(f) + "” dihapus (belum disimpan).", "Field “" + fieldName(f) + "” removed (not saved yet)."), "");
    changed();
  }

  document.getElementById("fb-add").addEventListener("click", function () {
    var f = addField(model);
    expanded[f.uid] = true;
    renderList(id(f, "label-id"));
    changed();
  });

  /* Refresh a card's heading after an edit (without rebuilding the inputs being typed in). */
  function refreshHead(f) {
    var card = document.getElementById("fb-field-" + f.uid);
    if (!card) { return; }
    card.setAttribute("data-key", f.key);
    card.setAttribute("data-kind", f.kind);
    document.getElementById(id(f, "name")).textContent = fieldName(f);
    document.getElementById(id(f, "keyshow")).textContent = f.key;
    document.getElementById(id(f, "kindshow")).textContent = kindLabel(f.kind);
    document.getElementById(id(f, "reqshow")).hidden = !isRequired(model, f);
    document.getElementById(id(f, "condshow")).hidden = !conditionsOf(model, f).length;
    ["toggle", "up", "down", "remove"].forEach(function (what) {
      var node = document.getElementById(id(f, what));
      node.querySelector(".visually-hidden").textContent = " " + fieldName(f);
    });
  }

  function rerenderEditor(f, focusId) {
    var editor = document.getElementById(id(f, "editor"));
    editor.innerHTML = "";
    fillEditor(f, editor);
    refreshHead(f);
    if (focusId && document.getElementById(focusId)) { document.getElementById(focusId).focus(); }
  }

  /* ------------------------------------------------------------------ one field's editor */
  /* A control with its label beside it (not around it: the name stays the label's text alone). */
  function labelled(controlId, label, control, after) {
    return el("div", { "class": "fb-input" }, [el("label", { "for": controlId, text: label }), control, after || null]);
  }

  function input(f, what, label, value, attrs, onInput, help) {
    var inputId = id(f, what);
    var attributes = { id: inputId, value: value === undefined || value === null ? "" : String(value),
                       autocomplete: "off", oninput: function (e) { onInput(e.target.value, e.target); } };
    Object.keys(attrs || {}).forEach(function (k) { attributes[k] = attrs[k]; });
    if (help) { attributes["aria-describedby"] = inputId + "-help"; }
    return labelled(inputId, label, el("input", attributes),
                    help ? el("small", { id: inputId + "-help", text: help }) : null);
  }

  /* A keyword's number (`count`: a length or a number of items, never below 0). */
  function numberInput(f, keyword, label, integer, count) {
    return input(f, keyword, label, f.prop[keyword], { type: "number", step: integer ? "1" : "any",
                                                       min: count ? "0" : null }, function (raw) {
      if (raw === "") { delete f.prop[keyword]; }
      else if (!isNaN(Number(raw))) { f.prop[keyword] = integer ? parseInt(raw, 10) : Number(raw); }
      changed();
    });
  }

  function fillEditor(f, editor) {
    var structured = isObj(f.prop);
    editor.appendChild(el("div", { "class": "grid" }, [
      input(f, "key", T("Kunci (nama data)", "Key (data name)"), f.keyDraft, { spellcheck: "false" }, function (raw) {
        f.keyDraft = raw.trim();
        f.autoKey = false;
        applyKey(f);
      }, T("Nama data yang dibaca proses (huruf kecil, angka dan _). Diagram dan skrip merujuk nama ini.",
           "The data name the process reads (lower-case letters, digits and _). Diagrams and scripts refer to it.")),
      kindSelect(f)
    ]));
    if (!structured) {
      editor.appendChild(el("p", { "class": "muted", text: T(
        "Isian ini ditulis dengan skema khusus; ubah lewat “Ubah JSON sebagai teks”.",
        "This field uses a custom schema; change it through “Edit the JSON as text”.") }));
      editor.appendChild(requiredBox(f));
      return;
    }
    editor.appendChild(el("div", { "class": "grid" }, [
      input(f, "label-id", T("Label (Indonesia)", "Label (Indonesian)"), text(f.prop.title), {}, function (raw) {
        f.prop.title = raw;
        if (f.autoKey && slug(raw)) {
          f.keyDraft = slug(raw);
          document.getElementById(id(f, "key")).value = f.keyDraft;
          applyKey(f);
        }
        refreshHead(f);
        changed();
      }),
      input(f, "label-en", T("Label (Inggris)", "Label (English)"), text(f.ui["ui:title_en"]), { lang: "en" },
            function (raw) { setUi(f, "ui:title_en", raw); changed(); })
    ]));
    editor.appendChild(requiredBox(f));
    editor.appendChild(personalSelect(f));
    editor.appendChild(el("div", { "class": "grid" }, [
      input(f, "help-id", T("Bantuan (Indonesia)", "Help text (Indonesian)"),
            text(f.ui["ui:help"]) || text(f.prop.description), {}, function (raw) { setUi(f, "ui:help", raw); changed(); }),
      input(f, "help-en", T("Bantuan (Inggris)", "Help text (English)"), text(f.ui["ui:help_en"]), { lang: "en" },
            function (raw) { setUi(f, "ui:help_en", raw); changed(); })
    ]));
    var specific = kindEditor(f);
    if (specific) { editor.appendChild(specific); }
    editor.appendChild(conditionEditor(f));
  }

  function setUi(f, key, value) {
    if (value === "") { delete f.ui[key]; } else { f.ui[key] = value; }
  }

  function applyKey(f) {
    var ok = KEY.test(f.keyDraft) && !model.fields.some(function (o) { return o !== f && o.key === f.keyDraft; });
    if (ok) { renameField(model, f, f.keyDraft); }
    refreshHead(f);
    changed();
  }

  function kindSelect(f) {
    var selectId = id(f, "kind");
    var kinds = f.kind === "other" ? [OTHER].concat(KINDS) : KINDS;
    var select = el("select", { id: selectId, onchange: function (e) {
      setKind(model, f, e.target.value);
      rerenderEditor(f, selectId);
      changed();
    } }, kinds.map(function (k) {
      return el("option", { value: k[0], selected: k[0] === f.kind, text: T(k[1], k[2]) });
    }));
    select.disabled = !isObj(f.prop);
    return labelled(selectId, T("Jenis isian", "Kind of field"), select);
  }

  /* The field's personal-data class (`x-mpp-personal`, docs/privacy.md): masked where not needed; sensitive is also
     encrypted at rest. "Bukan" writes `false`, which tells lint a field that looks personal is not. */
  var PERSONAL = [
    ["", "Tidak ditandai", "Not marked"],
    ["personal", "Data pribadi (nama, alamat, telepon, email)", "Personal data (name, address, phone, e-mail)"],
    ["sensitive", "Data pribadi spesifik (NIK, KK, kesehatan, agama, …)", "Sensitive personal data (NIK, KK, health, religion, …)"],
    ["none", "Bukan data pribadi", "Not personal data"]
  ];

  function personalSelect(f) {
    var selectId = id(f, "personal");
    var mark = f.prop["x-mpp-personal"];
    var current = mark === false ? "none" : (mark === "personal" || mark === "sensitive" ? mark : "");
    var select = el("select", { id: selectId, "aria-describedby": selectId + "-help", onchange: function (e) {
      var value = e.target.value;
      if (value === "") { delete f.prop["x-mpp-personal"]; }
      else { f.prop["x-mpp-personal"] = value === "none" ? false : value; }
      changed();
    } }, PERSONAL.map(function (p) {
      return el("option", { value: p[0], selected: p[0] === current, text: T(p[1], p[2]) });
    }));
    return labelled(selectId, T("Data pribadi (UU PDP)", "Personal data (PDP law)"), select,
                    el("small", { id: selectId + "-help", text: T(
                      "Data pribadi disamarkan di daftar; data spesifik juga dienkripsi di basis data.",
                      "Personal data is masked in lists; sensitive data is also encrypted in the database.") }));
  }

  function requiredBox(f) {
    var boxId = id(f, "required");
    return el("label", { "for": boxId, "class": "fb-check" }, [
      el("input", { type: "checkbox", id: boxId, checked: isRequired(model, f), onchange: function (e) {
        setRequired(model, f, e.target.checked);
        refreshHead(f);
        changed();
      } }),
      T("Wajib diisi", "Required")
    ]);
  }

  function kindEditor(f) {
    var k = f.kind;
    if (k === "text" || k === "textarea") {
      return el("div", { "class": "grid" }, [
        numberInput(f, "minLength", T("Panjang minimum (karakter)", "Minimum length (characters)"), true, true),
        numberInput(f, "maxLength", T("Panjang maksimum (karakter)", "Maximum length (characters)"), true, true),
        input(f, "pattern", T("Pola (regex, opsional)", "Pattern (regex, optional)"), text(f.prop.pattern),
              { spellcheck: "false" }, function (raw) {
                if (raw === "") { delete f.prop.pattern; } else { f.prop.pattern = raw; }
                changed();
              }, T("Contoh: ^[0-9]{5}$. Tanpa lookaround atau rujukan balik.", "E.g. ^[0-9]{5}$. No lookaround or backreferences."))
      ]);
    }
    if (k === "number" || k === "integer") {
      return el("div", { "class": "grid" }, [
        numberInput(f, "minimum", T("Nilai minimum", "Minimum value"), k === "integer"),
        numberInput(f, "maximum", T("Nilai maksimum", "Maximum value"), k === "integer")
      ]);
    }
    if (k === "file" || k === "lines") {
      return el("div", { "class": "grid" }, [
        numberInput(f, "maxItems", k === "file" ? T("Jumlah berkas paling banyak", "At most this many files")
                                                : T("Jumlah baris paling banyak", "At most this many lines"), true, true),
        k === "file" ? el("p", { "class": "muted fb-note", text: T(
          "Pemohon mengunggah PDF, PNG atau JPEG; bila wajib, sekurang-kurangnya satu berkas.",
          "Applicants upload PDF, PNG or JPEG; when required, at least one file.") }) : el("span")
      ]);
    }
    if (k === "enum" || k === "multi") { return optionsEditor(f); }
    return null;
  }

  /* ------------------------------------------------------------------ options of a choice */
  function optionsEditor(f) {
    var box = el("fieldset", { "class": "fb-options", id: id(f, "options") }, [
      el("legend", { text: T("Pilihan jawaban", "Answer options") })
    ]);
    if (f.kind === "enum") {
      var widgetId = id(f, "widget");
      box.appendChild(labelled(widgetId, T("Tampilan", "Shown as"), el("select", {
        id: widgetId, onchange: function (e) { f.ui["ui:widget"] = e.target.value; changed(); }
      }, [el("option", { value: "radio", selected: f.ui["ui:widget"] === "radio", text: T("Tombol pilihan (radio)", "Radio buttons") }),
          el("option", { value: "select", selected: f.ui["ui:widget"] !== "radio", text: T("Daftar turun (dropdown)", "Drop-down list") })])));
    }
    var table = el("table", { "class": "fb-options-table" }, [
      el("caption", { "class": "visually-hidden", text: T("Pilihan jawaban", "Answer options") + " " + fieldName(f) }),
      el("thead", {}, [el("tr", {}, [
        el("th", { scope: "col", text: T("Nilai (data)", "Value (data)") }),
        el("th", { scope: "col", text: T("Label (Indonesia)", "Label (Indonesian)") }),
        el("th", { scope: "col", text: T("Label (Inggris)", "Label (English)") }),
        el("th", { scope: "col", text: T("Tindakan", "Actions") })
      ])])
    ]);
    var body = el("tbody");
    f.options.forEach(function (o, i) { body.appendChild(optionRow(f, o, i)); });
    table.appendChild(body);
    box.appendChild(table);
    box.appendChild(el("button", { type: "button", "class": "secondary small", id: id(f, "add-option"),
                                   onclick: function () {
      f.options.push({ value: "", id: "", en: "", autoValue: true });
      writeOptions(f);
      rerenderEditor(f, id(f, "opt-" + (f.options.length - 1) + "-id"));
      changed();
    } }, [T("Tambah pilihan", "Add an option")]));
    return box;
  }

  function optionRow(f, o, i) {
    var n = i + 1;
    function cell(what, label, value, attrs, onInput) {
      var inputId = id(f, "opt-" + i + "-" + what);
      var attributes = { id: inputId, value: value, autocomplete: "off", "aria-label": label + " " + n,
                         oninput: function (e) { onInput(e.target.value); writeOptions(f); changed(); } };
      Object.keys(attrs || {}).forEach(function (k) { attributes[k] = attrs[k]; });
      return el("td", {}, [el("input", attributes)]);
    }
    function act(what, label, by, disabled) {
      return el("button", { type: "button", "class": "secondary outline small", id: id(f, "opt-" + i + "-" + what),
                            disabled: disabled, onclick: function () {
        var target = id(f, "add-option");
        if (by === 0) {
          f.options.splice(i, 1);
        } else {
          var j = i + by, edge = (by < 0 && j === 0) || (by > 0 && j === f.options.length - 1);
          f.options.splice(j, 0, f.options.splice(i, 1)[0]);
          target = id(f, "opt-" + j + "-" + (edge ? (by < 0 ? "down" : "up") : what));
        }
        writeOptions(f);
        rerenderEditor(f, target);
        changed();
      } }, [label, hidden(" " + T("pilihan", "option") + " " + n)]);
    }
    return el("tr", { "data-option": String(i) }, [
      cell("value", T("Nilai pilihan", "Option value"), text(o.value), { spellcheck: "false" }, function (raw) {
        o.value = optionValue(f, raw.trim());
        o.autoValue = false;
      }),
      cell("id", T("Label pilihan (Indonesia)", "Option label (Indonesian)"), o.id, {}, function (raw) {
        o.id = raw;
        if (o.autoValue) {
          o.value = slug(raw).replace(/^isian_/, "");
          document.getElementById(id(f, "opt-" + i + "-value")).value = o.value;
        }
      }),
      cell("en", T("Label pilihan (Inggris)", "Option label (English)"), o.en, { lang: "en" }, function (raw) { o.en = raw; }),
      el("td", { "class": "fb-option-actions" }, [
        act("up", T("Naik", "Up"), -1, i === 0),
        act("down", T("Turun", "Down"), 1, i === f.options.length - 1),
        act("remove", T("Hapus", "Remove"), 0, false)
      ])
    ]);
  }

  /* ------------------------------------------------------------------ "required when" conditions */
  function conditionEditor(f) {
    if (!f.condRows) { f.condRows = conditionsOf(model, f).map(function (c) { return { field: c.field, value: c.value }; }); }
    var box = el("fieldset", { "class": "fb-conditions", id: id(f, "conditions") }, [
      el("legend", { text: T("Wajib bila", "Required when") }),
      el("p", { "class": "muted fb-note", text: T(
        "Isian ini menjadi wajib bila isian lain bernilai tertentu. Formulir tetap menampilkannya; jelaskan di bantuan kapan harus diisi.",
        "This field becomes required when another field has a given value. The form still shows it; say in the help text when to fill it in.") })
    ]);
    f.condRows.forEach(function (row, i) { box.appendChild(conditionRow(f, row, i)); });
    box.appendChild(el("button", { type: "button", "class": "secondary small", id: id(f, "add-condition"),
                                   disabled: model.fields.length < 2, onclick: function () {
      var other = model.fields.filter(function (o) { return o !== f; })[0];
      f.condRows.push({ field: other.key, value: defaultValue(other) });
      commitConditions(f);
      rerenderEditor(f, id(f, "cond-" + (f.condRows.length - 1) + "-field"));
    } }, [T("Tambah syarat", "Add a condition")]));
    return box;
  }

  function defaultValue(other) {
    if (other.kind === "boolean") { return true; }
    if (other.kind === "enum" && other.options.length) { return other.options[0].value; }
    return "";
  }

  function commitConditions(f) {
    setConditions(model, f, f.condRows.filter(function (r) { return r.field && r.value !== ""; }));
    refreshHead(f);
    changed();
  }

  function conditionRow(f, row, i) {
    var fieldId = id(f, "cond-" + i + "-field"), valueId = id(f, "cond-" + i + "-value");
    var others = model.fields.filter(function (o) { return o !== f; });
    var other = byKey(model, row.field);
    var fieldSelect = el("select", { id: fieldId, onchange: function (e) {
      row.field = e.target.value;
      row.value = defaultValue(byKey(model, row.field));
      commitConditions(f);
      rerenderEditor(f, fieldId);
    } }, others.map(function (o) { return el("option", { value: o.key, selected: o.key === row.field, text: fieldName(o) + " (" + o.key + ")" }); }));
    var valueInput;
    if (other && (other.kind === "boolean" || other.kind === "enum")) {
      var choices = other.kind === "boolean"
        ? [[true, T("ya (dicentang)", "yes (ticked)")], [false, T("tidak", "no")]]
        : other.options.map(function (o) { return [o.value, (LANG === "en" ? o.en : o.id) || String(o.value)]; });
      valueInput = el("select", { id: valueId, onchange: function (e) {
        row.value = choices[parseInt(e.target.value, 10)][0];
        commitConditions(f);
      } }, choices.map(function (c, n) { return el("option", { value: String(n), selected: same(c[0], row.value), text: c[1] }); }));
    } else {
      var numeric = other && (other.kind === "number" || other.kind === "integer");
      valueInput = el("input", { id: valueId, value: text(row.value), type: numeric ? "number" : "text", autocomplete: "off",
                                 oninput: function (e) {
        var raw = e.target.value;
        row.value = numeric && raw !== "" && !isNaN(Number(raw)) ? Number(raw) : raw;
        commitConditions(f);
      } });
    }
    return el("div", { "class": "fb-condition grid", "data-condition": String(i) }, [
      labelled(fieldId, T("Isian", "Field"), fieldSelect),
      labelled(valueId, T("bernilai", "has the value"), valueInput),
      el("div", { "class": "fb-condition-actions" }, [el("button", {
        type: "button", "class": "secondary outline small", id: id(f, "cond-" + i + "-remove"), onclick: function () {
          f.condRows.splice(i, 1);
          commitConditions(f);
          rerenderEditor(f, id(f, "add-condition"));
        } }, [T("Hapus syarat", "Remove condition"), hidden(" " + (i + 1))])])
    ]);
  }

  /* ------------------------------------------------------------------ problems on fields and in the list */
  function keyOfProblem(p) {
    if (p.element_id && byKey(model, p.element_id)) { return p.element_id; }
    var found = /(?:field|isian) '([^']+)'/.exec(p.message || "");
    return found ? found[1].split(/[.[]/)[0] : (p.field || null);
  }

  /* Local checks, then what the live preview refused, then lint of the last save (its file named once, in
   * the heading; a lint problem the preview reports too is shown once, as lint's). */
  function allProblems() {
    var out = localProblems(model);
    var lint = lintProblems.map(function (p) {
      var prefix = p.file + ", ";
      var message = p.message && p.message.indexOf(prefix) === 0 ? p.message.slice(prefix.length) : p.message;
      var f = byKey(model, keyOfProblem(p));
      return { key: f ? f.key : null, uid: f ? f.uid : null, message: message, severity: p.severity, source: "lint",
               file: p.file };
    });
    previewProblems.forEach(function (p) {
      if (lint.some(function (l) { return l.message === p.message; })) { return; }
      var f = byKey(model, p.field);
      out.push({ key: f ? f.key : null, uid: f ? f.uid : null, message: p.message, severity: "error", source: "preview" });
    });
    return out.concat(lint);
  }

  function refreshProblems() {
    var problems = allProblems();
    model.fields.forEach(function (f) {
      var listNode = document.getElementById(id(f, "problems"));
      if (!listNode) { return; }
      var mine = problems.filter(function (p) { return p.uid === f.uid; });
      listNode.innerHTML = "";
      mine.forEach(function (p) {
        listNode.appendChild(el("li", { "class": "lint-" + p.severity, "data-source": p.source }, [
          el("span", { "class": "badge " + (p.severity === "error" ? "bad" : "warn"),
                       text: p.severity === "error" ? T("galat", "error") : T("peringatan", "warning") }), " ", p.message]));
      });
      listNode.hidden = !mine.length;
      var card = document.getElementById("fb-field-" + f.uid);
      card.classList.toggle("has-error", mine.some(function (p) { return p.severity === "error"; }));
      var count = document.getElementById(id(f, "count"));
      count.hidden = !mine.length;
      count.textContent = mine.length + " " + T("masalah", mine.length === 1 ? "problem" : "problems");
      document.getElementById(id(f, "toggle")).setAttribute("aria-describedby", mine.length ? id(f, "problems") : id(f, "name"));
    });
    var all = document.getElementById("fb-problems");
    all.innerHTML = "";
    problems.forEach(function (p) {
      var f = p.uid ? model.fields.filter(function (x) { return x.uid === p.uid; })[0] : null;
      var where = f ? el("button", { type: "button", "class": "link-button", "data-key": f.key, onclick: function () {
        if (!expanded[f.uid]) { toggle(f); } else { document.getElementById(id(f, "key")).focus(); }
        document.getElementById("fb-field-" + f.uid).scrollIntoView({ block: "nearest" });
      } }, [fieldName(f) + " (" + f.key + ")"]) : el("code", { text: p.file || T("formulir", "form") });
      all.appendChild(el("li", { "class": "lint-" + p.severity, "data-source": p.source }, [
        el("span", { "class": "badge " + (p.severity === "error" ? "bad" : "warn"),
                     text: p.severity === "error" ? T("galat", "error") : T("peringatan", "warning") }), " ", where, ": ", p.message]));
    });
    document.getElementById("fb-problems-none").hidden = problems.length > 0;
  }

  /* ------------------------------------------------------------------ preview */
  var previewNode = document.getElementById("fb-preview"), previewStatus = document.getElementById("fb-preview-status");
  var previewSeq = 0;
  previewNode.addEventListener("submit", function (e) { e.preventDefault(); });
  function previewLang() {
    var checked = document.querySelector("input[name=fb-lang]:checked");
    return checked ? checked.value : "id";
  }
  document.querySelectorAll("input[name=fb-lang]").forEach(function (radio) {
    radio.addEventListener("change", preview);
  });

  function preview() {
    if (blocking(localProblems(model)).length) {
      previewStatus.textContent = T("Perbaiki isian yang ditandai untuk memperbarui pratinjau.",
                                    "Fix the marked fields to update the preview.");
      previewStatus.className = "studio-status warn";
      return;
    }
    var out = dump(model), seq = ++previewSeq;
    previewNode.setAttribute("aria-busy", "true");
    fetch(data.preview_url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "text/html, application/json" },
      body: JSON.stringify({ schema: out.schema, uischema: out.uischema, lang: previewLang() })
    }).then(function (response) {
      return response.text().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (answer) {
      if (seq !== previewSeq) { return; }
      previewNode.removeAttribute("aria-busy");
      if (answer.status === 200) {
        previewNode.innerHTML = answer.body;
        previewNode.setAttribute("data-lang", previewLang());
        previewStatus.textContent = "";
        previewStatus.className = "studio-status";
        previewProblems = [];
      } else {
        var parsed = {};
        try { parsed = JSON.parse(answer.body); } catch (ignored) { parsed = {}; }
        previewNode.innerHTML = "";
        previewStatus.textContent = (typeof parsed.detail === "string" && parsed.detail) ||
          T("Pratinjau gagal (" + answer.status + ").", "The preview failed (" + answer.status + ").");
        previewStatus.className = "studio-status bad";
        previewProblems = Array.isArray(parsed.problems) ? parsed.problems : [];
        if (previewProblems.length) {
          previewNode.appendChild(el("ul", { "class": "fb-preview-problems" }, previewProblems.map(function (p) {
            return el("li", { text: p.message });
          })));
        }
      }
      refreshProblems();
    }).catch(function () {
      if (seq !== previewSeq) { return; }
      previewNode.removeAttribute("aria-busy");
      previewStatus.textContent = T("Server tidak dapat dihubungi; pratinjau tidak diperbarui.",
                                    "The server cannot be reached; the preview was not updated.");
      previewStatus.className = "studio-status bad";
    });
  }

  /* ------------------------------------------------------------------ save */
  var saveButton = document.getElementById("fb-save");
  var conflictBox = document.getElementById("fb-conflict");
  document.getElementById("fb-reload").addEventListener("click", function () {
    dirty = false;
    global.location.reload();
  });

  function put(name, content, revision) {
    return fetch(data.save_url + "?nama=" + encodeURIComponent(name), {
      method: "PUT", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ content: content, revisi: revision })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return { status: response.status, ok: response.ok, body: body };
      });
    });
  }

  function refused(answer, partly) {
    var detail = typeof answer.body.detail === "string" && answer.body.detail ? answer.body.detail
      : T("Penyimpanan gagal (" + answer.status + ").", "The save failed (" + answer.status + ").");
    if (answer.status === 409) {
      document.getElementById("fb-conflict-text").textContent = detail;
      conflictBox.hidden = false;
      document.getElementById("fb-reload").focus();
    }
    status((partly ? T("Skema tersimpan, skema UI tidak: ", "The schema was saved, the UI schema was not: ") : "") + detail, "bad");
  }

  function save() {
    if (saving) { return; }
    var errors = blocking(localProblems(model));
    if (errors.length) {
      refreshProblems();
      status(T("Belum disimpan: perbaiki dulu isian yang ditandai galat.", "Not saved: first fix the fields marked with errors."), "bad");
      var first = model.fields.filter(function (f) { return f.uid === errors[0].uid; })[0];
      if (first && !expanded[first.uid]) { toggle(first); }
      return;
    }
    var out = dump(model);
    saving = true;
    saveButton.setAttribute("aria-busy", "true");
    conflictBox.hidden = true;
    status(T("Menyimpan…", "Saving…"), "");
    put(data.schema_name, JSON.stringify(out.schema, null, 2) + "\n", data.revision).then(function (first) {
      if (!first.ok) { refused(first, false); return null; }
      data.revision = first.body.revisi;
      return put(data.ui_name, JSON.stringify(out.uischema, null, 2) + "\n", uiExists ? data.revision : null)
        .then(function (second) {
          if (!second.ok) { refused(second, true); return; }
          data.revision = second.body.revisi;
          uiExists = true;
          dirty = false;
          var everything = second.body.problems || [];
          lintProblems = everything.filter(function (p) { return p.file === data.schema_name || p.file === data.ui_name; });
          var elsewhere = everything.length - lintProblems.length;
          refreshProblems();
          var errorsHere = lintProblems.filter(function (p) { return p.severity === "error"; }).length;
          status(T("Tersimpan (revisi " + data.revision + "). ", "Saved (revision " + data.revision + "). ") +
                 (lintProblems.length ? T("Pemeriksaan menemukan " + lintProblems.length + " masalah pada formulir ini.",
                                          "The check found " + lintProblems.length + " problem(s) in this form.")
                                      : T("Tidak ada masalah pada formulir ini.", "No problems in this form.")) +
                 (elsewhere ? T(" Berkas lain draf memiliki " + elsewhere + " masalah (lihat halaman draf).",
                                " Other files of the draft have " + elsewhere + " problem(s) (see the draft page).") : ""),
                 errorsHere ? "bad" : (lintProblems.length ? "warn" : "ok"));
        });
    }).catch(function () {
      status(T("Server tidak dapat dihubungi; belum tersimpan, coba lagi.", "The server cannot be reached; not saved, try again."), "bad");
    }).then(function () {
      saving = false;
      saveButton.removeAttribute("aria-busy");
    });
  }
  saveButton.addEventListener("click", save);
  document.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && e.key === "s") { e.preventDefault(); save(); }
  });

  renderList();
  preview();
}(window));
