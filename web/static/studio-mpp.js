/* The studio's "MPP" properties-panel group and the spiffworkflow moddle descriptor: the fields
 * the platform reads from a diagram (docs/bpmn-conventions.md), edited through bpmn-js commands so
 * they undo and round-trip. Used by studio.js; vanilla JS over the UMD builds, no build step. */
(function (global) {
  "use strict";

  var SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core";
  var CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn";

  /* Moddle descriptor of the spiffworkflow extensions the catalogue uses. Once the prefix is
   * registered every spiffworkflow element must be described here, or bpmn-js drops it on
   * import: keep this list in step with what engine/bpmn/compile.py and engine/lint*.py read. */
  function bodyType(name) {
    return { name: name, superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] };
  }
  var SPIFF_MODDLE = {
    name: "SpiffWorkflow",
    uri: SPIFF_NS,
    prefix: "spiffworkflow",
    xml: { tagAlias: "lowerCase" },
    associations: [],
    types: [
      { name: "Properties", superClass: ["Element"],
        properties: [{ name: "properties", type: "Property", isMany: true }] },
      { name: "Property", superClass: ["Element"],
        properties: [{ name: "name", type: "String", isAttr: true }, { name: "value", type: "String", isAttr: true }] },
      bodyType("CalledDecisionId"),
      bodyType("PreScript"),
      bodyType("PostScript"),
      bodyType("InstructionsForEndUser"),
      bodyType("MessagePayload"),
      bodyType("MessageVariable"),
      bodyType("PayloadExpression"),
      bodyType("VariableName"),
      bodyType("Expression"),
      { name: "ServiceTaskOperator", superClass: ["Element"],
        properties: [{ name: "id", type: "String", isAttr: true }, { name: "resultVariable", type: "String", isAttr: true },
                     { name: "parameterList", type: "Parameters" }] },
      { name: "Parameters", superClass: ["Element"],
        properties: [{ name: "parameters", type: "Parameter", isMany: true }] },
      { name: "Parameter", superClass: ["Element"],
        properties: [{ name: "id", type: "String", isAttr: true }, { name: "type", type: "String", isAttr: true },
                     { name: "value", type: "String", isAttr: true }] },
      { name: "ProcessVariableCorrelation", superClass: ["Element"],
        properties: [{ name: "propertyId", type: "String" }, { name: "expression", type: "Expression" }] }
    ],
    enumerations: []
  };

  /* ------------------------------------------------------------------ language */
  var LANG = document.documentElement.lang === "en" ? "en" : "id";
  function T(idText, enText) { return LANG === "en" ? enText : idText; }

  /* ------------------------------------------------------------------ reading properties */
  function isType(bo, type) { return bo && typeof bo.$instanceOf === "function" && bo.$instanceOf(type); }

  function extensionValues(bo) {
    var ext = bo && bo.get("extensionElements");
    return ext ? ext.get("values") : [];
  }

  function propertiesOf(bo) {
    return extensionValues(bo).filter(function (v) { return isType(v, "spiffworkflow:Properties"); })[0] || null;
  }

  /* Return a spiffworkflow:property value, or "" when the element does not have it. */
  function readProperty(bo, name) {
    var props = propertiesOf(bo);
    var found = props ? props.get("properties").filter(function (p) { return p.get("name") === name; })[0] : null;
    return found ? (found.get("value") || "") : "";
  }

  function hasProperty(bo, name) {
    var props = propertiesOf(bo);
    return !!(props && props.get("properties").some(function (p) { return p.get("name") === name; }));
  }

  function bodyElement(bo, type) {
    return extensionValues(bo).filter(function (v) { return isType(v, type); })[0] || null;
  }

  /* A lane names its role by a property, else by its name (engine/bpmn/conventions.py). */
  var ROLE_RE = /^[a-z][a-z0-9_]{0,63}\.[a-z][a-z0-9_]{0,63}$/;
  function isRole(value) { return value === "applicant" || ROLE_RE.test(value); }
  function roleFromLaneName(name) {
    name = (name || "").trim();
    if (isRole(name)) { return name; }
    var match = /\[\s*([^\[\]]+?)\s*\]\s*$/.exec(name);
    return match && isRole(match[1]) ? match[1] : null;
  }

  /* ------------------------------------------------------------------ writing properties */
  function ensureExtensionElements(services, element, bo) {
    var ext = bo.get("extensionElements");
    if (!ext) {
      ext = services.moddle.create("bpmn:ExtensionElements", { values: [] });
      ext.$parent = bo;
      services.modeling.updateModdleProperties(element, bo, { extensionElements: ext });
    }
    return ext;
  }

  function writeProperty(services, element, name, value, bo) {
    bo = bo || element.businessObject;
    var props = propertiesOf(bo);
    var existing = props ? props.get("properties").filter(function (p) { return p.get("name") === name; })[0] : null;
    if (value === "" || value === null || value === undefined) {
      if (existing) {
        var rest = props.get("properties").filter(function (p) { return p !== existing; });
        if (rest.length) {
          services.modeling.updateModdleProperties(element, props, { properties: rest });
        } else {
          removeExtension(services, element, bo, props);  // leave no empty <spiffworkflow:properties/>
        }
      }
      return;
    }
    if (existing) {
      services.modeling.updateModdleProperties(element, existing, { value: String(value) });
      return;
    }
    var ext = ensureExtensionElements(services, element, bo);
    if (!props) {
      props = services.moddle.create("spiffworkflow:Properties", { properties: [] });
      props.$parent = ext;
      services.modeling.updateModdleProperties(element, ext, { values: ext.get("values").concat([props]) });
    }
    var prop = services.moddle.create("spiffworkflow:Property", { name: name, value: String(value) });
    prop.$parent = props;
    services.modeling.updateModdleProperties(element, props, { properties: props.get("properties").concat([prop]) });
  }

  /* Remove one extension element; drop <bpmn:extensionElements> too when nothing is left in it. */
  function removeExtension(services, element, bo, extension) {
    var ext = bo.get("extensionElements");
    var left = ext.get("values").filter(function (v) { return v !== extension; });
    if (left.length) {
      services.modeling.updateModdleProperties(element, ext, { values: left });
    } else {
      services.modeling.updateModdleProperties(element, bo, { extensionElements: undefined });
    }
  }

  function writeBody(services, element, type, value) {
    var bo = element.businessObject;
    var existing = bodyElement(bo, type);
    if (!value) {
      if (existing) { removeExtension(services, element, bo, existing); }
      return;
    }
    if (existing) {
      services.modeling.updateModdleProperties(element, existing, { value: value });
      return;
    }
    var extension = ensureExtensionElements(services, element, bo);
    var created = services.moddle.create(type, { value: value });
    created.$parent = extension;
    services.modeling.updateModdleProperties(element, extension, { values: extension.get("values").concat([created]) });
  }

  function writeCondition(services, element, value) {
    var bo = element.businessObject;
    var expression = value ? services.moddle.create("bpmn:FormalExpression", { body: value }) : undefined;
    if (expression) { expression.$parent = bo; }
    services.modeling.updateModdleProperties(element, bo, { conditionExpression: expression });
  }

  function writeScript(services, element, value) {
    services.modeling.updateModdleProperties(element, element.businessObject,
      { scriptFormat: element.businessObject.get("scriptFormat") || "python", script: value || undefined });
  }

  /* camunda:candidateGroups is kept as a plain namespaced attribute: the platform reads only it. */
  function writeCandidateGroups(services, element, value) {
    var definitions = services.canvas.getRootElement().businessObject;
    while (definitions && definitions.$parent) { definitions = definitions.$parent; }
    if (value && definitions && !definitions.$attrs["xmlns:camunda"]) {
      definitions.$attrs["xmlns:camunda"] = CAMUNDA_NS;
    }
    services.modeling.updateModdleProperties(element, element.businessObject,
      { "camunda:candidateGroups": value || undefined });
  }

  /* ------------------------------------------------------------------ Preact without a build
   * The properties panel renders entries with its own bundled Preact, which the UMD does not
   * export; its entry components (TextFieldEntry...) are not exported either. Preact vnodes are
   * plain objects with a fixed shape (preact 10 mangles its private fields to stable names), so
   * these few lines make vnodes the panel's Preact renders like its own. */
  var vnodeId = 1 << 30;
  function h(type, props) {
    var attrs = {}, key, ref;
    Object.keys(props || {}).forEach(function (name) {
      if (name === "key") { key = props[name]; } else if (name === "ref") { ref = props[name]; } else { attrs[name] = props[name]; }
    });
    var children = Array.prototype.slice.call(arguments, 2);
    if (children.length) { attrs.children = children.length === 1 ? children[0] : children; }
    return { type: type, props: attrs, key: key, ref: ref, __k: null, __: null, __b: 0, __e: null, __c: null,
             constructor: undefined, __v: ++vnodeId, __i: -1, __u: 0 };
  }

  /* ------------------------------------------------------------------ the MPP group */
  function servicesFrom(useService) {
    return { modeling: useService("modeling"), moddle: useService("moddle"), canvas: useService("canvas") };
  }

  /* One labelled control: committed on change (blur or Enter), so one edit is one undo step. */
  function field(spec) {
    return function MppField(props) {
      var useService = global.BpmnJSPropertiesPanel.useService;
      var services = servicesFrom(useService);
      var element = props.element;
      var id = "mpp-" + spec.key + "-" + element.id;
      var value = spec.read(element.businessObject) || "";
      var onChange = function (event) {
        var next = event.target.value.trim();
        if (next !== value) { spec.write(services, element, next); }
      };
      var control;
      var common = { id: id, name: spec.key, "data-mpp-field": spec.key, onChange: onChange,
                     "aria-describedby": spec.help ? id + "-help" : undefined,
                     "class": "bio-properties-panel-input" };
      if (spec.options) {
        var options = spec.options().slice();
        if (value && options.indexOf(value) < 0) { options.unshift(value); }
        control = h("select", Object.assign(common, { value: value }),
          [h("option", { value: "" }, T("(tidak ada)", "(none)"))].concat(options.map(function (option) {
            return h("option", { value: option, selected: option === value }, option);
          })));
      } else if (spec.multiline) {
        control = h("textarea", Object.assign(common, { rows: 3, value: value, spellcheck: false }));
      } else {
        control = h("input", Object.assign(common, { type: spec.type || "text", value: value,
          min: spec.type === "number" ? "1" : undefined, inputmode: spec.type === "number" ? "numeric" : undefined,
          autocomplete: "off", spellcheck: false }));
      }
      var help = spec.help ? spec.help(element.businessObject) : "";
      return h("div", { "class": "bio-properties-panel-entry mpp-entry", "data-entry-id": spec.key },
        h("label", { "for": id, "class": "bio-properties-panel-label" }, spec.label),
        control,
        help ? h("div", { id: id + "-help", "class": "bio-properties-panel-description" }, help) : null);
    };
  }

  function entry(spec) {
    return { id: "mpp-" + spec.key, component: field(spec),
             isEdited: function (element) { return !!spec.read(element.businessObject); } };
  }

  function propertySpec(key, name, label, extra) {
    return Object.assign({ key: key, label: label,
      read: function (bo) { return readProperty(bo, name); },
      write: function (services, element, value) { writeProperty(services, element, name, value); } }, extra || {});
  }

  function bodySpec(key, type, label) {
    return { key: key, label: label, multiline: true,
      read: function (bo) { var found = bodyElement(bo, type); return found ? found.get("value") : ""; },
      write: function (services, element, value) { writeBody(services, element, type, value); } };
  }

  function mppEntries(element, config) {
    var bo = element.businessObject;
    if (isType(bo, "bpmn:Lane")) {
      return [
        propertySpec("role", "role", T("Peran (agency.role)", "Role (agency.role)"), {
          help: function (lane) {
            var fromName = roleFromLaneName(lane.get("name"));
            if (hasProperty(lane, "role")) { return T("Properti ini mengalahkan nama lane.", "This property wins over the lane name."); }
            return fromName ? T("Dari nama lane: ", "From the lane name: ") + fromName
                            : T("Nama lane tidak menyebut peran; isi di sini, mis. pupr.tpa", "The lane name names no role; fill it in, e.g. pupr.tpa");
          } }),
        propertySpec("bindOrganisation", "bindOrganisation", T("Ikat ke organisasi (kunci data)", "Bind to organisation (data key)")),
        propertySpec("bindUser", "bindUser", T("Ikat ke pengguna (kunci data)", "Bind to user (data key)"))
      ];
    }
    if (isType(bo, "bpmn:UserTask")) {
      return [
        propertySpec("form", "formJsonSchemaFilename", T("Formulir (JSON Schema)", "Form (JSON Schema)"),
          { options: function () { return config.forms; } }),
        propertySpec("uiForm", "formUiSchemaFilename", T("UI schema formulir", "Form UI schema"),
          { options: function () { return config.uiForms; } }),
        propertySpec("slaDays", "slaDays", T("SLA (hari kerja)", "SLA (working days)"), { type: "number" }),
        propertySpec("stage", "stage", T("Tahap untuk pemohon (Indonesia)", "Stage shown to the applicant (Indonesian)")),
        propertySpec("stageEn", "stageEn", T("Tahap untuk pemohon (Inggris)", "Stage shown to the applicant (English)")),
        propertySpec("notify", "notify", T("Pemberitahuan ke pemohon", "Notify the applicant"),
          { options: function () { return config.notify; } }),
        { key: "candidateGroups", label: T("Grup kandidat (camunda:candidateGroups)", "Candidate groups (camunda:candidateGroups)"),
          read: function (b) { return b.get("camunda:candidateGroups") || ""; }, write: writeCandidateGroups,
          help: function () { return T("Alternatif lane: peran seperti pupr.tpa", "Alternative to the lane: a role like pupr.tpa"); } },
        bodySpec("preScript", "spiffworkflow:PreScript", T("Skrip sebelum", "Pre-script")),
        bodySpec("postScript", "spiffworkflow:PostScript", T("Skrip sesudah", "Post-script"))
      ];
    }
    if (isType(bo, "bpmn:ScriptTask")) {
      return [{ key: "script", label: T("Skrip (Python, sandbox)", "Script (Python, sandboxed)"), multiline: true,
                read: function (b) { return b.get("script") || ""; }, write: writeScript }];
    }
    if (isType(bo, "bpmn:BusinessRuleTask")) {
      return [bodySpec("calledDecisionId", "spiffworkflow:CalledDecisionId", T("Keputusan DMN (id)", "DMN decision (id)"))]
        .map(function (s) { s.multiline = false; s.options = function () { return config.decisions; }; return s; });
    }
    if (isType(bo, "bpmn:SequenceFlow") && bo.sourceRef &&
        (isType(bo.sourceRef, "bpmn:ExclusiveGateway") || isType(bo.sourceRef, "bpmn:InclusiveGateway"))) {
      return [{ key: "condition", label: T("Syarat (ekspresi Python)", "Condition (Python expression)"), multiline: true,
                read: function (b) { return b.conditionExpression ? b.conditionExpression.get("body") || "" : ""; },
                write: writeCondition }];
    }
    return [];
  }

  function MppPropertiesProvider(propertiesPanel) {
    propertiesPanel.registerProvider(400, this);
  }
  MppPropertiesProvider.$inject = ["propertiesPanel"];
  MppPropertiesProvider.prototype.getGroups = function (element) {
    var config = MppPropertiesProvider.config;
    return function (groups) {
      var specs = mppEntries(element, config);
      if (specs.length) {
        groups.splice(1, 0, { id: "mpp", label: "MPP", entries: specs.map(entry) });
      }
      return groups;
    };
  };
  MppPropertiesProvider.config = { forms: [], uiForms: [], decisions: [], notify: [] };
  var MppPropertiesModule = { __init__: ["mppPropertiesProvider"], mppPropertiesProvider: ["type", MppPropertiesProvider] };

  global.MppStudioProperties = {
    moddle: SPIFF_MODDLE,
    module: MppPropertiesModule,
    /* Set what the group offers: form files, UI schemas, DMN decisions, notify markers. */
    configure: function (config) { MppPropertiesProvider.config = config; },
    roleFromLaneName: roleFromLaneName,
    readProperty: readProperty,
    T: T
  };
})(window);
