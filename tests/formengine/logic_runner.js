// Runs the browser logic evaluator under node for tests/formengine/test_logic_js.py.
//   node logic_runner.js cases.json   evaluate every case in the file, print a JSON list
//   node logic_runner.js              evaluate one JSON case per stdin line, answer per line
// A case is {ast, record, today?, missing_codes?, resolver?: [[field, event, instance, value]]};
// an answer is {value} or {error: name}.
"use strict";

const fs = require("fs");
const path = require("path");
const readline = require("readline");
const RegistryLogic = require(path.join(__dirname, "..", "..", "registry", "formengine", "js", "logic.js"));

function run(testCase) {
  const options = { today: testCase.today, missingCodes: testCase.missing_codes || [] };
  if (testCase.resolver) {
    const table = new Map();
    for (const [field, event, instance, value] of testCase.resolver) {
      table.set(JSON.stringify([field, event, instance]), value);
    }
    options.resolver = (field, event, instance) => {
      const key = JSON.stringify([field, event, instance]);
      return table.has(key) ? table.get(key) : null;
    };
  }
  try {
    return { value: RegistryLogic.evaluate(testCase.ast, testCase.record, options) };
  } catch (error) {
    return { error: error.name, message: error.message };
  }
}

if (process.argv[2]) {
  const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  process.stdout.write(JSON.stringify(cases.map(run)));
} else {
  const lines = readline.createInterface({ input: process.stdin });
  lines.on("line", (line) => process.stdout.write(JSON.stringify(run(JSON.parse(line))) + "\n"));
}
