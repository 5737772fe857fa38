// Checks one generated TypeScript tree: tsc (TypeScript 7, strict), prettier --check, eslint
// and OpenAPI validation. Usage: node check-tree.mjs <tree>... Exits non-zero
// on any failure.
import { execFileSync } from "node:child_process";
import { existsSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import SwaggerParser from "@apidevtools/swagger-parser";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
const bin = (name) => join(modules, ".bin", name);
let failed = 0;

function run(tree, label, cmd, args, env = {}) {
  try {
    execFileSync(cmd, args, { cwd: tree, stdio: "pipe", encoding: "utf8", env: { ...process.env, ...env } });
    console.log(`  ok   ${label}`);
  } catch (e) {
    failed++;
    console.log(`  FAIL ${label}\n${(e.stdout ?? "") + (e.stderr ?? "")}`);
  }
}

for (const arg of process.argv.slice(2).filter((a) => !a.startsWith("--"))) {
  const tree = resolve(arg);
  console.log(`== ${tree}`);
  // The tree's imports ("zod") resolve through a link to the tools' node_modules.
  const link = join(tree, "node_modules");
  if (existsSync(link)) rmSync(link, { recursive: true, force: true });
  symlinkSync(modules, link, "dir");
  // Trees with a server import the Prisma 7 client; `prisma generate` never needs the engine.
  if (existsSync(join(tree, "prisma.config.ts"))) {
    run(tree, "prisma generate", "node", [join(modules, "prisma", "build", "index.js"), "generate"], {
      PRISMA_SCHEMA_ENGINE_BINARY: "/bin/true",
      DATABASE_URL: "postgresql://unused@127.0.0.1/unused",
    });
  }
  run(tree, "tsc (TypeScript 7, strict)", "node", [join(modules, "typescript-7", "bin", "tsc"), "--noEmit", "-p", "tsconfig.json"]);
  // The admin UI (app/, Next.js) is checked with its own settings.
  if (existsSync(join(tree, "tsconfig.ui.json"))) {
    run(tree, "tsc of the admin UI (TypeScript 7, strict)", "node", [join(modules, "typescript-7", "bin", "tsc"), "--noEmit", "-p", "tsconfig.ui.json"]);
  }
  run(tree, "prettier --check", bin("prettier"), ["--check", "."]);
  run(tree, "eslint", bin("eslint"), ["--max-warnings=0", "."]);
  try {
    await SwaggerParser.validate(join(tree, "src", "openapi.json"));
    console.log("  ok   OpenAPI 3.1 document validates");
  } catch (e) {
    failed++;
    console.log(`  FAIL OpenAPI: ${e.message}`);
  }
}
console.log(failed === 0 ? "all trees pass" : `${failed} check(s) failed`);
process.exit(failed === 0 ? 0 : 1);
