#!/usr/bin/env node
// Run before the test suite (`npm test`): checks that this Node.js can run Parley and that the
// native modules in node_modules were built for it. Without this, a better-sqlite3 built for
// another Node major (after switching Node versions) makes every test file fail to open its
// database and node's test runner wait on the half-started files instead of stopping.
// Plain JavaScript on purpose: it must run before tsx or anything else is loaded.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const problems = [];

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19))
  problems.push(
    `Node.js ${process.version} is too old: Parley needs >= 20.19 (22 or 24 LTS recommended), because some ` +
      "dependencies are ES modules loaded with require().",
  );

/** Opens an in-memory SQLite database, which loads the compiled addon. */
function checkBetterSqlite3() {
  const Database = require("better-sqlite3");
  new Database(":memory:").close();
}

for (const [name, check] of [["better-sqlite3", checkBetterSqlite3]]) {
  try {
    check();
  } catch (e) {
    const msg = String(e?.message ?? e);
    const abi = /NODE_MODULE_VERSION (\d+)[\s\S]*NODE_MODULE_VERSION (\d+)/.exec(msg);
    const other = e?.code === "ERR_DLOPEN_FAILED" || abi || /did not self-register|invalid ELF/.test(msg);
    problems.push(
      other
        ? `${name} in node_modules was built for another Node.js` +
            ` (${abi ? `module ABI ${abi[1]}` : "a different module ABI"}; this Node.js ${process.version} needs ABI ${process.versions.modules}). ` +
            `Rebuild it with this Node: \`npm rebuild ${name}\` (or \`npm ci\`).`
        : `${name} cannot be loaded: ${msg.split("\n")[0]}. Run \`npm ci\`.`,
    );
  }
}

if (problems.length) {
  for (const p of problems) process.stderr.write(`preflight: ${p}\n`);
  process.exit(1);
}
