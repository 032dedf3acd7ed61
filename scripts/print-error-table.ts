/** Prints the Markdown rows of docs/errors.md from the catalogue: `npx tsx scripts/print-error-table.ts`. */
import { catalogue, codeName, httpStatusOf } from "../core/errors/index.js";

for (const [domain, errors] of Object.entries(catalogue)) {
  console.log(`\n## ${domain}\n\n| id | code | HTTP | meaning |\n|---|---|---|---|`);
  for (const e of Object.values(errors)) {
    console.log(`| \`${e.id}\` | \`${codeName(e.code)}\` | ${httpStatusOf(e)} | ${e.summary} |`);
  }
}
