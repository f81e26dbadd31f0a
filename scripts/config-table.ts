/** Prints the README configuration table from the config schema: `node --import tsx scripts/config-table.ts`. */
import { envName, flagName, KEYS } from "../src/config/schema.ts";

const cell = (v: unknown) => {
  if (Array.isArray(v)) return v.length ? v.map((t) => `\`${t}\``).join(", ") : "*(empty)*";
  if (v === "") return "*(empty)*";
  return `\`${String(v)}\``;
};
const rows = KEYS.map((k) => {
  const doc = k.kind === "enum" ? `${k.doc} (${k.values?.join(", ")})` : k.doc;
  const def = cell(k.default);
  return `| \`${k.path}\` | \`${envName(k.path)}\` | \`${flagName(k.path)}\` | ${def} | ${doc.replace(/\|/g, "\\|")} |`;
});
process.stdout.write(
  `${["| key | env var | flag | default | description |", "|---|---|---|---|---|", ...rows].join("\n")}\n`,
);
