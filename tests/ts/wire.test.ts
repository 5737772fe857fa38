// The Node half of the wire-format agreement: the generated Zod schemas of every fixture must
// reach the same verdict as the Rust types on every vector of tests/vectors, and a value Rust
// wrote must pass Zod and stringify to the same bytes.
// Run: node --import tsx --test wire.test.ts (after generating the trees into target/ts).
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

interface Vector {
  model: string;
  kind: string;
  schema: string;
  valid: boolean;
  why: string;
  json: string;
  rust?: string;
}

interface Schema {
  safeParse(value: unknown): { success: boolean; data?: unknown };
}

const here = dirname(fileURLToPath(import.meta.url));
const vectorsDir = join(here, "..", "vectors");
const trees = process.env.SSOT_TS_TREES ?? join(here, "..", "..", "target", "ts");

const files = readdirSync(vectorsDir).filter((f) => f.endsWith(".json"));
assert.ok(files.length >= 10, "vector files are missing");

for (const file of files) {
  const fixture = file.replace(/\.json$/, "");
  test(`Zod agrees with Rust on ${fixture}`, async () => {
    const url = pathToFileURL(join(trees, fixture, "src", "validators", "index.ts")).href;
    const validators = (await import(url)) as Record<string, Schema>;
    const vectors = JSON.parse(readFileSync(join(vectorsDir, file), "utf8")) as Vector[];
    const problems: string[] = [];
    for (const v of vectors) {
      const schema = validators[v.schema];
      if (!schema) {
        problems.push(`no ${v.schema} in the generated validators`);
        continue;
      }
      const verdict = schema.safeParse(JSON.parse(v.json)).success;
      if (verdict !== v.valid) {
        problems.push(`${v.model} ${v.kind} (${v.why}): Zod ${verdict ? "accepted" : "rejected"} ${v.json}`);
      }
      if (v.valid && v.rust !== undefined) {
        const back = schema.safeParse(JSON.parse(v.rust));
        const text = back.success ? JSON.stringify(back.data) : "(rejected)";
        if (text !== v.rust) {
          problems.push(`${v.model} ${v.kind} (${v.why}): Rust wrote ${v.rust}, Zod gives ${text}`);
        }
      }
    }
    assert.deepEqual(problems, [], `${problems.length} disagreements`);
  });
}
