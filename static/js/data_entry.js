/*
 * Live branching logic and calculations on the data-entry page.
 *
 * The page carries each field's show_if and calc as JSON logic trees (the very trees the server
 * compiled from the schema) in <script id="entry-logic" type="application/json">. On every
 * change this script reads the answers in the server's representation (text as typed, choice
 * codes as strings, checkboxes as lists of codes), walks the fields in the server's evaluation
 * order with window.RegistryLogic.evaluate, hides what is not asked, and fills in calculations.
 * Fields of the patient's other forms that the logic reads come with the page (otherForms),
 * as stored, and are read as constants.
 *
 * A field that becomes hidden has its answer cleared (the server would drop it anyway, and a
 * hidden value must never feed later logic); the answer is kept aside and put back if the
 * field is shown again before the page is saved, so flipping a gate question loses nothing.
 * The server remains the authority: it clears hidden values again and reports what it cleared.
 */
(function () {
  "use strict";

  var form = document.getElementById("entry-form");
  var configNode = document.getElementById("entry-logic");
  if (!form || !configNode || !window.RegistryLogic) return;

  var config = JSON.parse(configNode.textContent);
  var readOnly = form.hasAttribute("data-read-only");
  var announcer = document.getElementById("entry-announcer");
  var notice = document.getElementById("logic-notice");
  var NUMERIC = /^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;
  var missing = {};
  (config.missingCodes || []).forEach(function (code) {
    missing[code] = true;
  });
  var kept = {}; // answers of fields hidden by the logic, put back if they are shown again
  var clearedLabels = {};

  function wrapper(name) {
    return form.querySelector('[data-field="' + name + '"]');
  }

  function controls(name) {
    return form.querySelectorAll('[name="' + name + '"], [data-name="' + name + '"]');
  }

  /* The answer as the server would read it; "" when blank. */
  function read(name, spec) {
    var nodes = controls(name);
    var i;
    if (spec.type === "checkbox") {
      var codes = [];
      for (i = 0; i < nodes.length; i++) if (nodes[i].checked) codes.push(nodes[i].value);
      return codes.length ? codes : "";
    }
    if (spec.type === "radio" || spec.type === "yesno" || spec.type === "truefalse") {
      for (i = 0; i < nodes.length; i++) if (nodes[i].checked) return nodes[i].value;
      return "";
    }
    if (!nodes.length) return "";
    var node = nodes[0];
    if (spec.type === "slider" && !node.hasAttribute("name")) return "";
    var value = (node.value || "").trim();
    // A number box holding something that is not a number is blank to the server's logic.
    if (spec.numeric && value && !NUMERIC.test(value) && !missing[value]) return "";
    return value;
  }

  function snapshot(name) {
    var nodes = controls(name);
    var state = [];
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      if (node.type === "checkbox" || node.type === "radio") {
        state.push(node.checked);
      } else {
        state.push({ value: node.value, named: node.hasAttribute("name") });
      }
    }
    return state;
  }

  function hasAnswer(name, spec) {
    var value = read(name, spec);
    return value !== "" && !(Array.isArray(value) && !value.length);
  }

  function clear(name) {
    var nodes = controls(name);
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      if (node.type === "checkbox" || node.type === "radio") {
        node.checked = false;
      } else if (node.type === "range") {
        node.removeAttribute("name");
        node.setAttribute("data-blank", "1");
        showSliderValue(node);
      } else {
        node.value = "";
      }
    }
  }

  function restore(name, state) {
    var nodes = controls(name);
    for (var i = 0; i < nodes.length && i < state.length; i++) {
      var node = nodes[i];
      if (node.type === "checkbox" || node.type === "radio") {
        node.checked = state[i];
      } else {
        node.value = state[i].value;
        if (node.type === "range" && state[i].named) {
          node.setAttribute("name", node.getAttribute("data-name"));
          node.removeAttribute("data-blank");
          showSliderValue(node);
        }
      }
    }
  }

  function evaluate(ast, values) {
    try {
      return window.RegistryLogic.evaluate(ast, values, {
        today: config.today,
        missingCodes: config.missingCodes
      });
    } catch (error) {
      return ""; // as on the server: what cannot be evaluated counts as blank
    }
  }

  /* Whether a show_if result shows the field; the server's rule, "0" and "false" included. */
  function shows(result) {
    if (result === null || result === undefined || result === "") return false;
    if (typeof result === "string") {
      var lowered = result.trim().toLowerCase();
      return lowered !== "0" && lowered !== "false";
    }
    return window.RegistryLogic.truthy(result);
  }

  /* A calculation's result as stored: a finite number, or blank. */
  function asNumber(result) {
    if (result === true || result === false) return result ? 1 : 0;
    if (typeof result === "number") return isFinite(result) ? result : "";
    if (typeof result === "string" && NUMERIC.test(result.trim())) return Number(result);
    return "";
  }

  /* A @CALCTEXT result as stored: text, numbers written out, or blank. */
  function asText(result) {
    if (result === true || result === false) return result ? "1" : "0";
    if (typeof result === "number") return isFinite(result) ? String(result) : "";
    if (typeof result === "string") return result.trim();
    return "";
  }

  function setShown(name, spec, shown, values, changes) {
    var box = wrapper(name);
    if (!box) return;
    if (!shown && !box.hidden) {
      box.hidden = true;
      if (!readOnly && spec.type !== "calc" && hasAnswer(name, spec)) {
        kept[name] = snapshot(name);
        clear(name);
        changes.cleared.push(spec.label);
        clearedLabels[name] = spec.label;
      }
    } else if (shown && box.hidden) {
      box.hidden = false;
      if (kept[name] && !hasAnswer(name, spec)) {
        restore(name, kept[name]);
        changes.restored.push(spec.label);
        var value = read(name, spec);
        if (value !== "") values[name] = value;
      }
      delete kept[name];
      delete clearedLabels[name];
    }
  }

  function hideEmptyGroups() {
    var groups = form.querySelectorAll(".form-section, .matrix-group");
    for (var i = 0; i < groups.length; i++) {
      var rows = groups[i].querySelectorAll("[data-field]");
      if (!rows.length) continue;
      var anyShown = false;
      for (var j = 0; j < rows.length; j++) if (!rows[j].hidden) anyShown = true;
      groups[i].hidden = !anyShown;
    }
  }

  function announce(changes) {
    var parts = [];
    if (changes.cleared.length) {
      parts.push("No longer asked, answer cleared: " + changes.cleared.join("; ") + ".");
    }
    if (changes.restored.length) {
      parts.push("Asked again, your earlier answer is back: " + changes.restored.join("; ") + ".");
    }
    if (parts.length && announcer) announcer.textContent = parts.join(" ");
    if (notice) {
      var names = Object.keys(clearedLabels);
      if (names.length) {
        notice.textContent =
          "Not asked any more given your answers, so their answers will not be saved: " +
          names.map(function (key) {
            return clearedLabels[key];
          }).join("; ") +
          ".";
        notice.hidden = false;
      } else {
        notice.hidden = true;
        notice.textContent = "";
      }
    }
  }

  function update() {
    var values = {};
    // Answers of the patient's other forms that the logic reads: constants on this page.
    var others = config.otherForms || {};
    Object.keys(others).forEach(function (name) {
      values[name] = others[name];
    });
    var names = Object.keys(config.fields);
    var changes = { cleared: [], restored: [] };
    names.forEach(function (name) {
      var spec = config.fields[name];
      if (spec.type === "calc" || spec.type === "descriptive") return;
      var value = read(name, spec);
      if (value !== "") values[name] = value;
    });
    config.order.forEach(function (name) {
      var spec = config.fields[name];
      var shown = true;
      if (spec.show_if) {
        shown = shows(evaluate(spec.show_if, values));
        setShown(name, spec, shown, values, changes);
        if (!shown) delete values[name];
      }
      if (spec.calc) {
        var result = shown ? (spec.text ? asText(evaluate(spec.calc, values))
          : asNumber(evaluate(spec.calc, values))) : "";
        if (result === "") {
          delete values[name];
        } else {
          values[name] = result;
        }
        var output = form.querySelector('output[data-calc="' + name + '"]');
        if (output) output.textContent = result === "" ? "" : String(result);
      }
    });
    applyTags(values);
    hideEmptyGroups();
    announce(changes);
  }

  /* @IF limits follow the answers as they change, so the page refuses what the save would:
     a text's @CHARLIMIT becomes its maxlength, a checkbox at its @MAXCHECKED takes no more. */
  function applyTags(values) {
    Object.keys(config.fields).forEach(function (name) {
      var spec = config.fields[name];
      if (!spec.tags || !spec.tags["if"]) return;
      var tags = window.RegistryLogic.resolveTags(spec.tags, values, {
        today: config.today,
        missingCodes: config.missingCodes
      });
      var nodes = controls(name);
      var i;
      if (spec.type === "checkbox") {
        var ticked = 0;
        for (i = 0; i < nodes.length; i++) if (nodes[i].checked) ticked++;
        for (i = 0; i < nodes.length; i++) {
          if (readOnly || nodes[i].hasAttribute("data-exhausted")) continue;
          nodes[i].disabled = !nodes[i].checked && tags.maxchecked !== undefined &&
            ticked >= tags.maxchecked;
        }
        return;
      }
      for (i = 0; i < nodes.length; i++) {
        var limit = nodes[i].getAttribute("data-maxlength");
        if (limit === null) continue;
        var chars = tags.charlimit !== undefined ? Math.min(tags.charlimit, Number(limit)) : limit;
        nodes[i].setAttribute("maxlength", String(chars));
      }
    });
  }

  function showSliderValue(slider) {
    var name = slider.getAttribute("data-name");
    var output = form.querySelector('[data-slider-value="' + name + '"]');
    if (output) output.textContent = slider.hasAttribute("name") ? slider.value : "not answered";
  }

  form.addEventListener("input", function (event) {
    var target = event.target;
    if (target.type === "range" && !target.hasAttribute("name")) {
      target.setAttribute("name", target.getAttribute("data-name"));
      target.removeAttribute("data-blank");
    }
    if (target.type === "range") showSliderValue(target);
    update();
  });
  form.addEventListener("change", update);
  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-clear], [data-slider-clear]");
    if (!button) return;
    var name = button.getAttribute("data-clear") || button.getAttribute("data-slider-clear");
    clear(name);
    update();
  });

  /* BIOPORTAL:HP fields: suggestions from the registry's HPO release (GET data-hpo-lookup),
     and the chosen term's name under the box. The server checks the code again on saving. */
  var HPO_ID = /^HP[:_][0-9]{7}$/i;
  Array.prototype.forEach.call(form.querySelectorAll("input[data-hpo-lookup]"), function (box) {
    var list = document.createElement("datalist");
    list.id = box.id + "-terms";
    box.parentNode.appendChild(list);
    box.setAttribute("list", list.id);
    var label = form.querySelector('[data-hpo-label="' + box.name + '"]');
    var names = {};
    var timer = null;
    var asked = "";
    function showName() {
      var code = box.value.trim().toUpperCase().replace("_", ":");
      if (label) label.textContent = names[code] || "";
    }
    function lookUp() {
      var query = box.value.trim();
      if (query.length < 2 || query.length > 100 || query === asked) return;
      asked = query;
      fetch(box.getAttribute("data-hpo-lookup") + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin", headers: { Accept: "application/json" }
      }).then(function (response) {
        return response.ok ? response.json() : { terms: [] };
      }).then(function (answer) {
        if (query !== asked) return; // a later search is on its way
        list.textContent = "";
        answer.terms.forEach(function (term) {
          names[term.id] = term.name;
          var option = document.createElement("option");
          option.value = term.id;
          option.textContent = term.name;
          option.label = term.name;
          list.appendChild(option);
        });
        showName();
      }).catch(function () { /* no suggestions; the save still checks the code */ });
    }
    box.addEventListener("input", function () {
      showName();
      if (timer) clearTimeout(timer);
      timer = setTimeout(lookUp, HPO_ID.test(box.value.trim()) ? 0 : 200);
    });
  });

  update();
})();
