/* The studio's form builder, its model: a form's JSON Schema + UI schema as a list of fields.
 * No DOM here (studio-forms.js is the page); tests call it through window.MppFormBuilder.
 *
 * The model keeps the two JSON documents themselves: each field holds its property schema and its
 * UI schema entry, and every edit writes only the keywords it is about. A form opened and saved
 * without a change comes out equal to what went in, and keywords the builder does not know
 * (description, const, default, $defs, other conditions ...) are kept. Plain JS, no build step. */
(function (global) {
  "use strict";

  var LANG = document.documentElement.lang === "en" ? "en" : "id";
  function T(idText, enText) { return LANG === "en" ? enText : idText; }

  var NIK = "^[0-9]{16}$";
  var PHONE = "^\\+?[0-9]{8,15}$";
  var KEY = /^[a-z][a-z0-9_]{0,63}$/;
  // web/jsonform.py shows a list field whose name says "document" as a file upload.
  var FILE_HINT = /(dokumen|berkas|foto|lampiran|scan|unggah)/i;
  var KINDS = [
    ["text", "Teks singkat", "Short text"],
    ["textarea", "Teks panjang", "Long text"],
    ["number", "Angka", "Number"],
    ["integer", "Bilangan bulat", "Whole number"],
    ["date", "Tanggal", "Date"],
    ["boolean", "Ya/tidak (kotak centang)", "Yes/no (checkbox)"],
    ["enum", "Pilihan (satu jawaban)", "Choice (one answer)"],
    ["multi", "Pilihan ganda (beberapa jawaban)", "Multiple choice (several answers)"],
    ["file", "Berkas (unggah)", "File upload"],
    ["lines", "Daftar teks (satu per baris)", "List of texts (one per line)"],
    ["email", "Email", "E-mail"],
    ["phone", "Nomor telepon", "Phone number"],
    ["nik", "NIK (16 digit)", "NIK (16 digits)"]
  ];
  var OTHER = ["other", "Lainnya (dipertahankan apa adanya)", "Other (kept as it is)"];
  var KIND_DEFAULTS = {
    text: { prop: { type: "string", maxLength: 200 }, ui: {} },
    textarea: { prop: { type: "string", maxLength: 2000 }, ui: { "ui:widget": "textarea" } },
    number: { prop: { type: "number" }, ui: {} },
    integer: { prop: { type: "integer" }, ui: {} },
    date: { prop: { type: "string", format: "date" }, ui: { "ui:widget": "date" } },
    boolean: { prop: { type: "boolean" }, ui: { "ui:widget": "checkbox" } },
    "enum": { prop: { type: "string", "enum": [] }, ui: { "ui:widget": "radio" } },
    multi: { prop: { type: "array", items: { type: "string", "enum": [] }, uniqueItems: true }, ui: {} },
    file: { prop: { type: "array", items: { type: "string", maxLength: 500 }, maxItems: 10 },
            ui: { "ui:widget": "file" } },
    lines: { prop: { type: "array", items: { type: "string", maxLength: 200 }, maxItems: 50 }, ui: {} },
    email: { prop: { type: "string", format: "email", maxLength: 254, "x-mpp-personal": "personal" },
             ui: { "ui:widget": "email" } },
    phone: { prop: { type: "string", pattern: PHONE, maxLength: 16, "x-mpp-personal": "personal" }, ui: {} },
    nik: { prop: { type: "string", pattern: NIK, minLength: 16, maxLength: 16, "x-mpp-personal": "sensitive" }, ui: {} }
  };
  // What a kind's own keywords are: changing the kind drops these, and keeps every other one.
  var TYPED = ["$ref", "type", "enum", "const", "items", "format", "pattern", "minLength", "maxLength", "minimum", "maximum",
               "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems", "default"];
  var TYPED_UI = ["ui:widget", "ui:enumNames", "ui:enumNames_en"];

  /* ------------------------------------------------------------------ small helpers */
  function isObj(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
  function clone(v) { return v === undefined ? undefined : JSON.parse(JSON.stringify(v)); }
  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }
  function has(o, k) { return Object.prototype.hasOwnProperty.call(o, k); }
  function text(v) { return typeof v === "string" || typeof v === "number" ? String(v) : ""; }
  function slug(label) {
    var s = String(label || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 60);
    return /^[a-z]/.test(s) ? s : (s ? "isian_" + s : "");
  }

  /* ------------------------------------------------------------------ kinds */
  function kindOf(prop, ui, key) {
    if (!isObj(prop) || has(prop, "$ref")) { return "other"; }
    var widget = isObj(ui) ? ui["ui:widget"] : undefined, type = prop.type;
    if (type === "array") {
      var items = isObj(prop.items) ? prop.items : {};
      if (has(items, "enum")) { return "multi"; }
      if (widget === "file" || widget === "files" || FILE_HINT.test(key)) { return "file"; }
      return "lines";
    }
    if (type === "boolean") { return "boolean"; }
    if (has(prop, "enum")) { return "enum"; }
    if (type === "integer" || type === "number") { return type; }
    if (type !== "string" || widget === "file") { return "other"; }
    if (prop.format === "date" || widget === "date") { return "date"; }
    if (prop.format === "email" || widget === "email") { return "email"; }
    if (prop.pattern === NIK) { return "nik"; }
    if (prop.pattern === PHONE) { return "phone"; }
    if (widget === "textarea" || (typeof prop.maxLength === "number" && prop.maxLength > 500)) { return "textarea"; }
    return "text";
  }

  function kindLabel(kind) {
    var found = KINDS.concat([OTHER]).filter(function (k) { return k[0] === kind; })[0] || OTHER;
    return T(found[1], found[2]);
  }

  /* ------------------------------------------------------------------ conditions (if/then) */
  function keysOf(o) { return Object.keys(o).sort().join(","); }

  /* Read `if {properties: {F: {const: V}}, required: [F]} then {required: [...]}`, the catalogue's way. */
  function parseRule(c) {
    if (!isObj(c) || keysOf(c) !== "if,then" || !isObj(c.if) || !isObj(c.then)) { return null; }
    var cond = c.if, then = c.then;
    if (!(keysOf(cond) === "properties" || keysOf(cond) === "properties,required") || !isObj(cond.properties)) {
      return null;
    }
    var names = Object.keys(cond.properties);
    if (names.length !== 1 || !isObj(cond.properties[names[0]]) || keysOf(cond.properties[names[0]]) !== "const") {
      return null;
    }
    if (has(cond, "required") && !same(cond.required, [names[0]])) { return null; }
    if (keysOf(then) !== "required" || !Array.isArray(then.required) ||
        !then.required.every(function (k) { return typeof k === "string"; })) { return null; }
    return { field: names[0], value: cond.properties[names[0]].const, ifRequired: has(cond, "required"),
             required: then.required.slice() };
  }

  function ruleJson(rule) {
    var props = {};
    props[rule.field] = { "const": rule.value };
    var cond = rule.ifRequired ? { properties: props, required: [rule.field] } : { properties: props };
    return { "if": cond, then: { required: rule.required.slice() } };
  }

  function readRules(schema) {
    var rules = [], top = false, inAllOf = [];
    if (has(schema, "if") || has(schema, "then") || has(schema, "else")) {
      var topRule = has(schema, "else") ? null : parseRule({ "if": schema.if, then: schema.then });
      if (topRule) { rules.push(topRule); top = true; }
    }
    if (Array.isArray(schema.allOf)) {
      schema.allOf.forEach(function (entry, index) {
        var rule = parseRule(entry);
        if (rule) { rules.push(rule); inAllOf.push(index); }
      });
    }
    return { rules: rules, top: top, inAllOf: inAllOf };
  }

  function writeRules(schema, m) {
    if (m.rulesAt.top) { delete schema.if; delete schema.then; }
    var leftover = Array.isArray(schema.allOf) ? schema.allOf.filter(function (entry, index) {
      return m.rulesAt.inAllOf.indexOf(index) < 0;
    }) : [];
    var rules = m.rules.filter(function (r) { return r.required.length; }).map(ruleJson);
    var topFree = !has(schema, "if") && !has(schema, "then") && !has(schema, "else");
    if (rules.length === 1 && !leftover.length && topFree && !has(schema, "allOf")) {
      schema.if = rules[0].if;
      schema.then = rules[0].then;
      return;
    }
    var all = leftover.concat(rules);
    if (all.length) { schema.allOf = all; } else { delete schema.allOf; }
  }

  /* ------------------------------------------------------------------ the model */
  var nextUid = 1;

  function optionsOf(field) {
    var prop = field.prop, ui = field.ui;
    var values = field.kind === "multi" ? (isObj(prop.items) && Array.isArray(prop.items.enum) ? prop.items.enum : [])
      : (Array.isArray(prop.enum) ? prop.enum : []);
    var ids = Array.isArray(ui["ui:enumNames"]) ? ui["ui:enumNames"] : [];
    var ens = Array.isArray(ui["ui:enumNames_en"]) ? ui["ui:enumNames_en"] : [];
    return values.map(function (v, i) { return { value: v, id: text(ids[i]), en: text(ens[i]), autoValue: false }; });
  }

  function makeField(key, prop, ui, index) {
    var field = { uid: nextUid++, key: key, keyDraft: key, origKey: key, origIndex: index,
                  prop: prop, ui: isObj(ui) ? ui : {}, uiRaw: isObj(ui) ? undefined : ui, hadUi: ui !== undefined,
                  autoKey: false, condRows: null };
    field.kind = kindOf(prop, field.ui, key);
    field.options = (field.kind === "enum" || field.kind === "multi") ? optionsOf(field) : [];
    return field;
  }

  /* Return the builder's model of a form: its fields in the form layer's order (ui:order first). */
  function load(schema, uischema) {
    var s = clone(isObj(schema) ? schema : {}), u = clone(isObj(uischema) ? uischema : {});
    var props = isObj(s.properties) ? s.properties : {};
    var names = Object.keys(props);
    var wanted = (Array.isArray(u["ui:order"]) ? u["ui:order"] : []).filter(function (n, i, all) {
      return typeof n === "string" && has(props, n) && all.indexOf(n) === i;
    });
    var order = wanted.concat(names.filter(function (n) { return wanted.indexOf(n) < 0; }));
    var uiRoot = {};
    Object.keys(u).forEach(function (k) { if (!has(props, k)) { uiRoot[k] = u[k]; } });
    var where = readRules(s);
    return {
      schema: s, uiRoot: uiRoot,
      fields: order.map(function (n) { return makeField(n, props[n], u[n], names.indexOf(n)); }),
      required: Array.isArray(s.required) ? s.required : null,
      rules: where.rules, rulesAt: where, rulesDirty: false, orderDirty: false
    };
  }

  /* Return the form's two JSON documents from the model. */
  function dump(m) {
    var schema = {};
    Object.keys(m.schema).forEach(function (k) { schema[k] = m.schema[k]; });
    var ordered = m.orderDirty ? m.fields : m.fields.slice().sort(function (a, b) { return a.origIndex - b.origIndex; });
    if (isObj(m.schema.properties) || m.fields.length) {
      schema.properties = {};
      ordered.forEach(function (f) { schema.properties[f.key] = f.prop; });
    }
    if (m.required) { schema.required = m.required.slice(); }
    if (m.rulesDirty) { writeRules(schema, m); }
    var ui = {};
    Object.keys(m.uiRoot).forEach(function (k) { ui[k] = m.uiRoot[k]; });
    if (m.orderDirty) {
      ui["ui:order"] = m.fields.map(function (f) { return f.key; });
    } else if (Array.isArray(ui["ui:order"])) {
      ui["ui:order"] = ui["ui:order"].map(function (k) {
        var f = m.fields.filter(function (x) { return x.origKey === k; })[0];
        return f ? f.key : k;
      });
    }
    m.fields.forEach(function (f) {
      if (Object.keys(f.ui).length || (f.hadUi && f.uiRaw === undefined)) { ui[f.key] = f.ui; }
      else if (f.uiRaw !== undefined) { ui[f.key] = f.uiRaw; }
    });
    return { schema: clone(schema), uischema: clone(ui) };
  }

  function byKey(m, key) { return m.fields.filter(function (f) { return f.key === key; })[0] || null; }
  function isRequired(m, f) { return !!m.required && m.required.indexOf(f.key) >= 0; }

  function setRequired(m, f, on) {
    if (on && !isRequired(m, f)) {
      if (!m.required) { m.required = []; }
      m.required.push(f.key);
    } else if (!on && m.required) {
      m.required = m.required.filter(function (k) { return k !== f.key; });
    }
    // A required list must hold something: the form layer sends [] for an untouched upload field.
    if (isObj(f.prop) && f.prop.type === "array") {
      if (on && !has(f.prop, "minItems")) { f.prop.minItems = 1; }
      if (!on && f.prop.minItems === 1) { delete f.prop.minItems; }
    }
  }

  function renameField(m, f, key) {
    var old = f.key;
    if (old === key) { return; }
    f.key = key;
    f.keyDraft = key;
    if (m.required) { m.required = m.required.map(function (k) { return k === old ? key : k; }); }
    m.rules.forEach(function (r) {
      if (r.field === old) { r.field = key; m.rulesDirty = true; }
      if (r.required.indexOf(old) >= 0) {
        r.required = r.required.map(function (k) { return k === old ? key : k; });
        m.rulesDirty = true;
      }
    });
    m.fields.forEach(function (other) {
      (other.condRows || []).forEach(function (row) { if (row.field === old) { row.field = key; } });
    });
  }

  function removeField(m, f) {
    m.fields = m.fields.filter(function (x) { return x !== f; });
    if (m.required) { m.required = m.required.filter(function (k) { return k !== f.key; }); }
    var before = JSON.stringify(m.rules);
    m.rules = m.rules.filter(function (r) { return r.field !== f.key; });
    m.rules.forEach(function (r) { r.required = r.required.filter(function (k) { return k !== f.key; }); });
    m.rules = m.rules.filter(function (r) { return r.required.length; });
    if (JSON.stringify(m.rules) !== before) { m.rulesDirty = true; }
    m.fields.forEach(function (other) {
      if (other.condRows) { other.condRows = other.condRows.filter(function (row) { return row.field !== f.key; }); }
    });
    m.orderDirty = true;
  }

  function addField(m) {
    var n = m.fields.length + 1, key = "isian_" + n;
    while (byKey(m, key)) { n += 1; key = "isian_" + n; }
    var f = makeField(key, { type: "string", title: "", maxLength: 200 }, undefined, Infinity);
    f.hadUi = false;
    f.origKey = null;
    f.autoKey = true;
    m.fields.push(f);
    m.orderDirty = true;
    return f;
  }

  function moveField(m, f, by) {
    var i = m.fields.indexOf(f), j = i + by;
    if (j < 0 || j >= m.fields.length) { return; }
    m.fields.splice(i, 1);
    m.fields.splice(j, 0, f);
    m.orderDirty = true;
  }

  function setKind(m, f, kind) {
    if (!isObj(f.prop) || kind === f.kind || kind === "other") { return; }
    var keptOptions = (kind === "enum" || kind === "multi") ? f.options : [];
    TYPED.forEach(function (k) { delete f.prop[k]; });
    TYPED_UI.forEach(function (k) { delete f.ui[k]; });
    var defaults = clone(KIND_DEFAULTS[kind]);
    Object.keys(defaults.prop).forEach(function (k) { f.prop[k] = defaults.prop[k]; });
    Object.keys(defaults.ui).forEach(function (k) { f.ui[k] = defaults.ui[k]; });
    f.kind = kind;
    f.options = keptOptions.map(function (o) { return { value: String(o.value), id: o.id, en: o.en, autoValue: false }; });
    if (kind === "enum" || kind === "multi") { writeOptions(f); }
    if (f.prop.type === "array" && isRequired(m, f)) { f.prop.minItems = 1; }
  }

  function writeOptions(f) {
    var values = f.options.map(function (o) { return o.value; });
    if (f.kind === "multi") {
      if (!isObj(f.prop.items)) { f.prop.items = { type: "string" }; }
      f.prop.items.enum = values;
    } else {
      f.prop.enum = values;
    }
    var ids = f.options.map(function (o) { return o.id; }), ens = f.options.map(function (o) { return o.en; });
    if (ids.some(Boolean) || has(f.ui, "ui:enumNames")) { f.ui["ui:enumNames"] = ids; }
    if (ens.some(Boolean) || has(f.ui, "ui:enumNames_en")) { f.ui["ui:enumNames_en"] = ens; }
  }

  function optionValue(f, raw) {
    var type = f.kind === "multi" ? (isObj(f.prop.items) ? f.prop.items.type : "string") : f.prop.type;
    if (type === "integer" && /^-?\d+$/.test(raw)) { return parseInt(raw, 10); }
    if (type === "number" && raw.trim() !== "" && !isNaN(Number(raw))) { return Number(raw); }
    return raw;
  }

  function conditionsOf(m, f) {
    return m.rules.filter(function (r) { return r.required.indexOf(f.key) >= 0; })
      .map(function (r) { return { field: r.field, value: r.value }; });
  }

  /* Make `f` required exactly under the given conditions (rules shared with other fields stay shared). */
  function setConditions(m, f, conditions) {
    m.rules.forEach(function (r) { r.required = r.required.filter(function (k) { return k !== f.key; }); });
    conditions.forEach(function (c) {
      var rule = m.rules.filter(function (r) { return r.field === c.field && same(r.value, c.value); })[0];
      if (!rule) {
        rule = { field: c.field, value: c.value, ifRequired: true, required: [] };
        m.rules.push(rule);
      }
      if (rule.required.indexOf(f.key) < 0) { rule.required.push(f.key); }
    });
    m.rules = m.rules.filter(function (r) { return r.required.length; });
    m.rulesDirty = true;
  }

  /* ------------------------------------------------------------------ checks made here, before the server's */
  function localProblems(m) {
    var out = [];
    function add(f, message, severity) { out.push({ key: f ? f.key : null, uid: f ? f.uid : null, message: message,
                                                    severity: severity || "error", source: "local" }); }
    m.fields.forEach(function (f) {
      if (!KEY.test(f.keyDraft)) {
        add(f, T("Kunci harus diawali huruf kecil dan hanya berisi huruf kecil, angka dan _ (paling banyak 64).",
                 "The key must start with a lower-case letter and hold only lower-case letters, digits and _ (64 at most)."));
      } else if (m.fields.some(function (o) { return o !== f && (o.key === f.keyDraft || o.keyDraft === f.keyDraft); })) {
        add(f, T("Kunci '" + f.keyDraft + "' sudah dipakai isian lain.", "The key '" + f.keyDraft + "' is used by another field."));
      }
      if (isObj(f.prop) && !text(f.prop.title)) {
        add(f, T("Beri label (Indonesia): tanpa label, pemohon melihat kuncinya.",
                 "Give it a label (Indonesian): without one, applicants see its key."), "warning");
      }
      if (f.kind === "enum" || f.kind === "multi") {
        if (!f.options.length) { add(f, T("Tambahkan sekurang-kurangnya satu pilihan.", "Add at least one option.")); }
        var seen = {};
        f.options.forEach(function (o, i) {
          if (text(o.value) === "") { add(f, T("Pilihan ke-" + (i + 1) + " belum bernilai.", "Option " + (i + 1) + " has no value.")); }
          else if (seen[JSON.stringify(o.value)]) { add(f, T("Nilai pilihan '" + o.value + "' ganda.", "The option value '" + o.value + "' is repeated.")); }
          seen[JSON.stringify(o.value)] = true;
        });
      }
      [["minLength", "maxLength"], ["minimum", "maximum"], ["minItems", "maxItems"]].forEach(function (pair) {
        if (isObj(f.prop) && typeof f.prop[pair[0]] === "number" && typeof f.prop[pair[1]] === "number" &&
            f.prop[pair[0]] > f.prop[pair[1]]) {
          add(f, T("Batas bawah lebih besar dari batas atas.", "The lower limit is above the upper limit."));
        }
      });
      if (f.kind === "lines" && FILE_HINT.test(f.key)) {
        add(f, T("Kunci yang memuat 'dokumen', 'berkas', 'foto' … ditampilkan sebagai unggahan berkas; pilih jenis Berkas atau ganti kuncinya.",
                 "A key holding 'dokumen', 'berkas', 'foto' … is shown as a file upload; choose the File kind or change the key."), "warning");
      }
      (f.condRows || []).forEach(function (row) {
        if (row.field && !byKey(m, row.field)) {
          add(f, T("Syarat merujuk isian '" + row.field + "' yang tidak ada.", "A condition names the missing field '" + row.field + "'."));
        }
      });
    });
    return out;
  }

  function blocking(problems) { return problems.filter(function (p) { return p.severity === "error"; }); }

  global.MppFormBuilder = {
    load: load, dump: dump, kindOf: kindOf, setKind: setKind, setRequired: setRequired, renameField: renameField,
    removeField: removeField, addField: addField, moveField: moveField, writeOptions: writeOptions,
    setConditions: setConditions, conditionsOf: conditionsOf, localProblems: localProblems, byKey: byKey,
    roundtrip: function (schema, ui) { return dump(load(schema, ui)); },
    // for the page
    T: T, LANG: LANG, KINDS: KINDS, OTHER: OTHER, kindLabel: kindLabel, isObj: isObj, has: has, text: text,
    slug: slug, same: same, KEY: KEY, isRequired: isRequired, optionValue: optionValue, blocking: blocking, FILE_HINT: FILE_HINT
  };
}(window));

