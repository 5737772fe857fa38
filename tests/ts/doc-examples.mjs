// Copies the ```ts examples of docs/typescript.md and docs/realtime.md into the generated tree of
// examples/blog, so that tsc, prettier and eslint check them with the tree.
// Usage: node doc-examples.mjs <tree>
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const tree = resolve(process.argv[2]);
let n = 0;
for (const doc of ["typescript.md", "realtime.md"]) {
  const md = readFileSync(join(here, "..", "..", "docs", doc), "utf8");
  const blocks = [...md.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  if (blocks.length === 0) throw new Error(`no ts examples in docs/${doc}`);
  for (const code of blocks) {
    const text = code.replaceAll("./generated/src/", "./");
    writeFileSync(join(tree, "src", `doc-example-${++n}.ts`), text);
  }
  console.log(`  ${blocks.length} example(s) from docs/${doc} added to ${tree}`);
}
