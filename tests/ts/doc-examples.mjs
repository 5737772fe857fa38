// Copies the ```ts examples of docs/typescript.md, docs/realtime.md and docs/plugins.md into the
// generated tree of examples/blog, so that tsc, prettier and eslint check them with the tree.
// The plugin examples are modules of the server (they import ./plugin.js), so they go to
// src/server/ (an email template to src/server/plugins/templates/, payment handlers and an AI
// provider to src/server/plugins/).
// Usage: node doc-examples.mjs <tree>
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const tree = resolve(process.argv[2]);
let n = 0;
for (const [doc, dir] of [
  ["typescript.md", "src"],
  ["realtime.md", "src"],
  ["plugins.md", "src/server"],
]) {
  const md = readFileSync(join(here, "..", "..", "docs", doc), "utf8");
  const blocks = [...md.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  if (blocks.length === 0) throw new Error(`no ts examples in docs/${doc}`);
  for (const code of blocks) {
    const text = code.replaceAll("./generated/src/", "./");
    // A message template of the email plugin lives two folders below the server.
    // …and the payments plugin's handlers one folder below it.
    const at = text.includes('from "../../plugin.js"')
      ? "src/server/plugins/templates"
      : text.includes('from "./payments.js"') || text.includes('from "./ai.js"')
        ? "src/server/plugins"
        : dir;
    writeFileSync(join(tree, at, `doc-example-${++n}.ts`), text);
  }
  console.log(`  ${blocks.length} example(s) from docs/${doc} added to ${tree}`);
}
