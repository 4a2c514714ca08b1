/*
 * The registry's logic evaluator for the browser: shows and hides fields and computes
 * calculations as a person types. It runs the JSON trees the server sends (see
 * registry/formengine/logic/serialization.py) and never parses source text, so there is no
 * eval. The semantics are those of registry/formengine/logic/semantics.py, coercion.py and
 * functions.py; change them together (tests/formengine/test_logic_js.py checks they agree).
 *
 *   RegistryLogic.evaluate(ast, record, {today: "2024-05-01", missingCodes: ["UNK"],
 *                                        resolver: function (field, event, instance) {...}})
 *
 * Blank is "". Whole numbers are plain numbers; true/false for conditions.
 */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.RegistryLogic = api;
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  var BLANK = "";
  var NUMERIC = /^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;
  var INTEGER = /^[-+]?[0-9]+$/;
  var MOMENT = /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[ T]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?)?$/;
  var TIME = /^([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?$/;
  var DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  var UNITS = { y: 31556952, M: 2630016, d: 86400, h: 3600, m: 60, s: 1 };
  var FORMATS = { ymd: true, mdy: true, dmy: true };
  var INSTANCE_VARIABLES = {
    "current-instance": true,
    "previous-instance": true,
    "next-instance": true,
    "first-instance": true,
    "last-instance": true
  };
  var TRIM = /^[ \t\n\r\0\u000b]+|[ \t\n\r\0\u000b]+$/g;
  var has = Object.prototype.hasOwnProperty;

  function LogicEvaluationError(message) {
    this.name = "LogicEvaluationError";
    this.message = message;
    this.stack = new Error(message).stack;
  }
  LogicEvaluationError.prototype = Object.create(Error.prototype);
  LogicEvaluationError.prototype.constructor = LogicEvaluationError;

  // --- coercion -----------------------------------------------------------------------------

  function isMissing(value, missing) {
    return missing !== null && has.call(missing, value);
  }

  /* A finite number, or null for blanks, missing codes and non-numbers. */
  function number(value, missing) {
    var result;
    if (typeof value === "string") {
      if (value === "" || !NUMERIC.test(value) || (missing && isMissing(value, missing))) {
        return null;
      }
      result = Number(value);
    } else if (typeof value === "number") {
      result = value;
    } else if (typeof value === "boolean") {
      return value ? 1 : 0;
    } else {
      return null;
    }
    return isFinite(result) ? result : null;
  }

  function text(value) {
    if (typeof value === "string") return value;
    if (value === null || value === undefined) return "";
    if (typeof value === "boolean") return value ? "1" : "0";
    if (typeof value === "number") return String(value);
    if (Array.isArray(value)) return value.map(text).join(",");
    return String(value);
  }

  function truthy(value) {
    if (value === true || value === false) return value;
    if (value === null || value === undefined || value === "") return false;
    var asNumber = number(value, null);
    if (asNumber !== null) return asNumber !== 0;
    if (Array.isArray(value)) return value.length > 0;
    return true;
  }

  /* Blank for what is not a finite number: overflow is no more an answer than 1/0. */
  function finite(value) {
    return typeof value === "number" && !isFinite(value) ? BLANK : value;
  }

  function codePoints(value) {
    return Array.from(value);
  }

  function daysFromCivil(year, month, day) {
    year -= month <= 2 ? 1 : 0;
    var era = Math.floor(year / 400);
    var yearOfEra = year - era * 400;
    var dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
    var dayOfEra =
      yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
    return era * 146097 + dayOfEra - 719468;
  }

  function daysInMonth(year, month) {
    if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
    return DAYS_IN_MONTH[month - 1];
  }

  /* [year, month, day, seconds since midnight] of a stored date, datetime or time, or null. */
  function parseMoment(value) {
    if (typeof value !== "string") return null;
    var year, month, day, hour, minute, second;
    var match = MOMENT.exec(value);
    if (match) {
      year = +match[1];
      month = +match[2];
      day = +match[3];
      if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
      hour = match[4] ? +match[4] : 0;
      minute = match[5] ? +match[5] : 0;
      second = match[6] ? +match[6] : 0;
    } else {
      match = TIME.exec(value);
      if (!match) return null;
      year = 1970;
      month = 1;
      day = 1;
      hour = +match[1];
      minute = +match[2];
      second = match[3] ? +match[3] : 0;
    }
    if (hour > 23 || minute > 59 || second > 59) return null;
    return [year, month, day, hour * 3600 + minute * 60 + second];
  }

  // --- functions ----------------------------------------------------------------------------

  function power(base, exponent) {
    var result = Math.pow(base, exponent);
    // Python refuses 0 ** -1 and (-8) ** (1/3); both give blank on the server.
    return finite(result);
  }

  /* Shift the shortest decimal text, as the server does, so both round the same digits. */
  function roundDecimal(value, places, mode) {
    if (value === 0) return 0;
    var magnitude = Math.abs(value);
    var parts = String(magnitude).split("e");
    var exponent = parts.length > 1 ? parseInt(parts[1], 10) : 0;
    var scaled = Number(parts[0] + "e" + (exponent + places));
    if (!(scaled < 4503599627370496)) return value;
    var whole = Math.floor(scaled);
    if (mode === "round") {
      if (scaled - whole >= 0.5) whole += 1;
    } else if (mode === "up" && whole !== scaled) {
      whole += 1;
    }
    var factor = Number("1e" + Math.abs(places));
    var result = places >= 0 ? whole / factor : whole * factor;
    return finite(value > 0 ? result : -result);
  }

  function rounding(mode) {
    return function (args, ctx) {
      var value = number(args[0], ctx.missing);
      var places = args.length > 1 ? number(args[1], ctx.missing) : 0;
      if (value === null || places === null || Math.abs(places) > 300) return BLANK;
      return roundDecimal(value, Math.trunc(places), mode);
    };
  }

  function numeric(operation) {
    return function (args, ctx) {
      var numbers = [];
      for (var i = 0; i < args.length; i++) {
        var value = number(args[i], ctx.missing);
        if (value === null) return BLANK;
        numbers.push(value);
      }
      return finite(operation.apply(null, numbers));
    };
  }

  function statistic(operation) {
    return function (args, ctx) {
      var numbers = [];
      for (var i = 0; i < args.length; i++) {
        var value = number(args[i], ctx.missing);
        if (value !== null) numbers.push(value);
      }
      return numbers.length ? finite(operation(numbers)) : BLANK;
    };
  }

  function total(numbers) {
    var sum = 0;
    for (var i = 0; i < numbers.length; i++) sum += numbers[i];
    return sum;
  }

  function mean(numbers) {
    return total(numbers) / numbers.length;
  }

  function median(numbers) {
    var ordered = numbers.slice().sort(function (a, b) {
      return a - b;
    });
    var middle = Math.floor(ordered.length / 2);
    if (ordered.length % 2) return ordered[middle];
    return (ordered[middle - 1] + ordered[middle]) / 2;
  }

  function stdev(numbers) {
    if (numbers.length < 2) return BLANK;
    var average = mean(numbers);
    var squares = 0;
    for (var i = 0; i < numbers.length; i++) {
      squares += (numbers[i] - average) * (numbers[i] - average);
    }
    return Math.sqrt(squares / (numbers.length - 1));
  }

  function minimum(numbers) {
    var result = numbers[0];
    for (var i = 1; i < numbers.length; i++) if (numbers[i] < result) result = numbers[i];
    return result;
  }

  function maximum(numbers) {
    var result = numbers[0];
    for (var i = 1; i < numbers.length; i++) if (numbers[i] > result) result = numbers[i];
    return result;
  }

  function textTest(test) {
    return function (args) {
      return test(text(args[0]).toLowerCase(), text(args[1]).toLowerCase());
    };
  }

  function textFunction(operation) {
    return function (args) {
      return operation(text(args[0]));
    };
  }

  function moment(value, ctx) {
    if (value === "today") {
      var today = ctx.today();
      return [today[0], today[1], today[2], 0];
    }
    return parseMoment(value);
  }

  function isTrue(value) {
    return truthy(value) && text(value).toLowerCase() !== "false";
  }

  function datediff(args, ctx) {
    var first = moment(args[0], ctx);
    var second = moment(args[1], ctx);
    var unitName = text(args[2]);
    var unit = has.call(UNITS, unitName) ? UNITS[unitName] : null;
    if (first === null || second === null || unit === null) return BLANK;
    var signed = false;
    if (args.length === 5) {
      signed = isTrue(args[4]);
    } else if (args.length === 4 && !has.call(FORMATS, text(args[3]))) {
      signed = isTrue(args[3]);
    }
    var seconds =
      daysFromCivil(second[0], second[1], second[2]) * 86400 +
      second[3] -
      (daysFromCivil(first[0], first[1], first[2]) * 86400 + first[3]);
    var difference = seconds / unit;
    return signed ? difference : Math.abs(difference);
  }

  function datePart(index) {
    return function (args, ctx) {
      var parts = moment(args[0], ctx);
      return parts === null ? BLANK : parts[index];
    };
  }

  var FUNCTIONS = {
    datediff: datediff,
    round: rounding("round"),
    roundup: rounding("up"),
    rounddown: rounding("down"),
    sqrt: numeric(function (x) {
      return x >= 0 ? Math.sqrt(x) : BLANK;
    }),
    abs: numeric(Math.abs),
    pow: numeric(power),
    mod: numeric(function (dividend, divisor) {
      return divisor !== 0 ? dividend % divisor : BLANK;
    }),
    log: numeric(function (x, base) {
      if (x <= 0) return BLANK;
      if (base === undefined) return Math.log(x);
      if (base <= 0 || base === 1) return BLANK;
      return Math.log(x) / Math.log(base);
    }),
    min: statistic(minimum),
    max: statistic(maximum),
    mean: statistic(mean),
    median: statistic(median),
    sum: statistic(total),
    stdev: statistic(stdev),
    isnumber: function (args, ctx) {
      return number(args[0], ctx.missing) !== null;
    },
    isinteger: function (args, ctx) {
      var value = args[0];
      if (typeof value === "string") {
        return INTEGER.test(value) && !isMissing(value, ctx.missing);
      }
      if (typeof value === "number") return isFinite(value) && Math.floor(value) === value;
      return false;
    },
    contains: textTest(function (haystack, needle) {
      return haystack.indexOf(needle) !== -1;
    }),
    starts_with: textTest(function (value, prefix) {
      return value.slice(0, prefix.length) === prefix;
    }),
    ends_with: textTest(function (value, suffix) {
      return suffix.length === 0 || value.slice(-suffix.length) === suffix;
    }),
    left: function (args) {
      var count = number(args[1], null);
      if (count === null) return BLANK;
      return codePoints(text(args[0]))
        .slice(0, Math.max(0, Math.trunc(count)))
        .join("");
    },
    right: function (args) {
      var count = number(args[1], null);
      if (count === null) return BLANK;
      var chars = codePoints(text(args[0]));
      return chars.slice(Math.max(0, chars.length - Math.max(0, Math.trunc(count)))).join("");
    },
    length: textFunction(function (value) {
      return codePoints(value).length;
    }),
    concat: function (args) {
      return args.map(text).join("");
    },
    upper: textFunction(function (value) {
      return value.toUpperCase();
    }),
    lower: textFunction(function (value) {
      return value.toLowerCase();
    }),
    trim: textFunction(function (value) {
      return value.replace(TRIM, "");
    }),
    isblankormissingcode: function (args, ctx) {
      var value = text(args[0]);
      return value === "" || isMissing(value, ctx.missing);
    },
    year: datePart(0),
    month: datePart(1),
    day: datePart(2)
  };

  // --- operators ----------------------------------------------------------------------------

  function equal(left, right) {
    if (left === right) return true;
    var leftNumber = number(left, null);
    if (leftNumber !== null) {
      var rightNumber = number(right, null);
      if (rightNumber !== null) return leftNumber === rightNumber;
    }
    return text(left) === text(right);
  }

  /* Blank (or a missing code) on either side makes an ordering false, as on the server. */
  function ordering(test) {
    return function (left, right, missing) {
      var leftNumber = number(left, missing);
      var rightNumber = number(right, missing);
      if (leftNumber !== null && rightNumber !== null) return test(leftNumber, rightNumber);
      var leftText = text(left);
      var rightText = text(right);
      if (!leftText || !rightText || isMissing(leftText, missing) || isMissing(rightText, missing)) {
        return false;
      }
      return test(leftText, rightText);
    };
  }

  function arithmetic(operation) {
    return function (left, right, missing) {
      var leftNumber = number(left, missing);
      if (leftNumber === null) return BLANK;
      var rightNumber = number(right, missing);
      if (rightNumber === null) return BLANK;
      var result = operation(leftNumber, rightNumber);
      return isFinite(result) ? result : BLANK;
    };
  }

  var OPERATORS = {
    "=": equal,
    "<>": function (left, right) {
      return !equal(left, right);
    },
    "<": ordering(function (a, b) {
      return a < b;
    }),
    "<=": ordering(function (a, b) {
      return a <= b;
    }),
    ">": ordering(function (a, b) {
      return a > b;
    }),
    ">=": ordering(function (a, b) {
      return a >= b;
    }),
    "+": arithmetic(function (a, b) {
      return a + b;
    }),
    "-": arithmetic(function (a, b) {
      return a - b;
    }),
    "*": arithmetic(function (a, b) {
      return a * b;
    }),
    "/": arithmetic(function (a, b) {
      return b !== 0 ? a / b : NaN;
    }),
    "^": arithmetic(function (a, b) {
      return Math.pow(a, b);
    })
  };

  // --- the tree walker ----------------------------------------------------------------------

  function own(record, key) {
    return record !== null && has.call(record, key) ? record[key] : undefined;
  }

  function smartValue(name, record) {
    if (record !== null && has.call(record, name)) {
      var value = record[name];
      return value === null || value === undefined ? "" : value;
    }
    if (name === "previous-instance" || name === "next-instance") {
      var current = number(own(record, "current-instance"), null);
      if (current === null || Math.floor(current) !== current) return null;
      if (name === "next-instance") return current + 1;
      return current > 1 ? current - 1 : "";
    }
    return null;
  }

  function referenceText(node) {
    var written = "[" + node.field + (node.code != null ? "(" + node.code + ")" : "") + "]";
    if (node.event != null) written = "[" + node.event + "]" + written;
    if (node.instance != null) written += "[" + node.instance + "]";
    return written;
  }

  function qualified(node, ctx) {
    if (!ctx.resolver) {
      throw new LogicEvaluationError(
        referenceText(node) + " refers to another event or instance; evaluating it needs a resolver"
      );
    }
    var instance = node.instance == null ? null : node.instance;
    if (typeof instance === "string") {
      var known = smartValue(instance, ctx.record);
      if (known === "") return null;
      if (known !== null) {
        var asNumber = number(known, null);
        if (asNumber !== null) instance = Math.trunc(asNumber);
      }
    }
    return ctx.resolver(node.field, node.event == null ? null : node.event, instance);
  }

  function field(node, ctx) {
    var value =
      node.event == null && node.instance == null ? own(ctx.record, node.field) : qualified(node, ctx);
    var code = node.code;
    if (code == null) {
      if (value === null || value === undefined) return BLANK;
      if (Array.isArray(value)) return text(value);
      return value;
    }
    if (Array.isArray(value)) {
      for (var i = 0; i < value.length; i++) if (text(value[i]) === code) return "1";
      return "0";
    }
    return value !== null && value !== undefined && text(value) === code ? "1" : "0";
  }

  function walk(node, ctx) {
    switch (node.type) {
      case "number":
      case "string":
      case "boolean":
        return node.value;
      case "field":
        return field(node, ctx);
      case "binary":
        return OPERATORS[node.op](walk(node.left, ctx), walk(node.right, ctx), ctx.missing);
      case "logical": {
        var operands = node.operands;
        var i;
        if (node.op === "and") {
          for (i = 0; i < operands.length; i++) if (!truthy(walk(operands[i], ctx))) return false;
          return true;
        }
        for (i = 0; i < operands.length; i++) if (truthy(walk(operands[i], ctx))) return true;
        return false;
      }
      case "unary": {
        var value = walk(node.operand, ctx);
        if (node.op === "not") return !truthy(value);
        var asNumber = number(value, ctx.missing);
        return asNumber === null ? BLANK : asNumber === 0 ? 0 : -asNumber;
      }
      case "call": {
        var args = node.args;
        if (node.name === "if") {
          return walk(truthy(walk(args[0], ctx)) ? args[1] : args[2], ctx);
        }
        if (!has.call(FUNCTIONS, node.name)) {
          throw new LogicEvaluationError("illegal function '" + node.name + "'");
        }
        var values = new Array(args.length);
        for (var j = 0; j < args.length; j++) values[j] = walk(args[j], ctx);
        return FUNCTIONS[node.name](values, ctx);
      }
      case "smart": {
        var smart = smartValue(node.name, ctx.record);
        if (smart === null) {
          throw new LogicEvaluationError(
            "[" + node.name + "] has no value here: pass it in the record under '" + node.name + "'"
          );
        }
        return smart;
      }
      default:
        throw new LogicEvaluationError("Unknown logic node type '" + node.type + "'");
    }
  }

  function localToday() {
    var now = new Date();
    return [now.getFullYear(), now.getMonth() + 1, now.getDate()];
  }

  function makeContext(record, options) {
    options = options || {};
    var missing = null;
    if (options.missingCodes && options.missingCodes.length) {
      missing = Object.create(null);
      for (var i = 0; i < options.missingCodes.length; i++) missing[options.missingCodes[i]] = true;
    }
    var today = null;
    return {
      record: record || {},
      missing: missing,
      resolver: options.resolver || null,
      today: function () {
        if (today === null) {
          var parts = options.today ? parseMoment(String(options.today)) : null;
          today = parts ? parts.slice(0, 3) : localToday();
        }
        return today;
      }
    };
  }

  /* The value of a JSON logic tree for one record: true/false, a number, text, or "" (blank). */
  function evaluate(ast, record, options) {
    return walk(ast, makeContext(record, options));
  }

  /* Whether an @IF condition holds: the server's rule (blank, "0" and "false" do not). */
  function holds(value) {
    if (value === null || value === undefined || value === "") return false;
    if (typeof value === "string") {
      var lowered = value.trim().toLowerCase();
      return lowered !== "0" && lowered !== "false";
    }
    return Boolean(value);
  }

  /* The action tags in effect for one record, from a field's tags as the page carries them
     ({charlimit: 5, "if": [{when: ast, then: {...}, else: {...}}]}): each @IF adds the tags
     of the branch its condition chooses, as ActionTags.resolve does on the server. */
  function resolveTags(tags, record, options) {
    var out = {};
    var key;
    for (key in tags) if (key !== "if" && Object.prototype.hasOwnProperty.call(tags, key)) {
      out[key] = tags[key];
    }
    var conditionals = tags["if"] || [];
    for (var i = 0; i < conditionals.length; i++) {
      var chosen;
      try {
        chosen = holds(evaluate(conditionals[i].when, record, options));
      } catch (error) {
        chosen = false; // what cannot be evaluated counts as blank
      }
      var branch = resolveTags(chosen ? conditionals[i].then : conditionals[i]["else"],
        record, options);
      for (key in branch) if (Object.prototype.hasOwnProperty.call(branch, key)) {
        out[key] = branch[key];
      }
    }
    return out;
  }

  return {
    evaluate: evaluate,
    resolveTags: resolveTags,
    truthy: truthy,
    LogicEvaluationError: LogicEvaluationError
  };
});
