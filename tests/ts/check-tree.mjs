// Checks generated TypeScript trees: tsc (TypeScript 7, strict), prettier --check, eslint and
// OpenAPI validation. Usage: node check-tree.mjs <tree>... Two trees are checked at a time
// (CHECK_JOBS): prettier and eslint use one core each. Exits non-zero on any failure.
import { execFile } from "node:child_process";
import { existsSync, rmSync, symlinkSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import SwaggerParser from "@apidevtools/swagger-parser";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
const bin = (name) => join(modules, ".bin", name);
const exec = promisify(execFile);
let failed = 0;

async function checkTree(tree) {
  const lines = [`== ${tree}`];
  const run = async (label, cmd, args, env = {}) => {
    try {
      await exec(cmd, args, { cwd: tree, encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
      lines.push(`  ok   ${label}`);
    } catch (e) {
      failed++;
      lines.push(`  FAIL ${label}\n${(e.stdout ?? "") + (e.stderr ?? "")}`);
    }
  };
  // The tree's imports ("zod") resolve through a link to the tools' node_modules.
  const link = join(tree, "node_modules");
  if (existsSync(link)) rmSync(link, { recursive: true, force: true });
  symlinkSync(modules, link, "dir");
  // Trees with a server import the Prisma 7 client; `prisma generate` never needs the engine.
  if (existsSync(join(tree, "prisma.config.ts"))) {
    await run("prisma generate", "node", [join(modules, "prisma", "build", "index.js"), "generate"], {
      PRISMA_SCHEMA_ENGINE_BINARY: "/bin/true",
      DATABASE_URL: "postgresql://unused@127.0.0.1/unused",
    });
  }
  await run("tsc (TypeScript 7, strict)", "node", [join(modules, "typescript-7", "bin", "tsc"), "--noEmit", "-p", "tsconfig.json"]);
  // The admin UI (app/, Next.js) is checked with its own settings.
  if (existsSync(join(tree, "tsconfig.ui.json"))) {
    await run("tsc of the admin UI (TypeScript 7, strict)", "node", [join(modules, "typescript-7", "bin", "tsc"), "--noEmit", "-p", "tsconfig.ui.json"]);
  }
  await run("prettier --check", bin("prettier"), ["--check", "."]);
  await run("eslint", bin("eslint"), ["--max-warnings=0", "."]);
  // The deployment files of trees with a server: hadolint, and Compose's own validation of the
  // file with the variables it demands set.
  if (existsSync(join(tree, "Dockerfile"))) {
    await run("hadolint Dockerfile", "hadolint", ["Dockerfile"]);
    await run("docker-compose config", "docker-compose", ["-f", "docker-compose.yml", "config", "-q"], {
      JWT_SECRET: "check",
      DB_PASSWORD: "check",
    });
  }
  try {
    await SwaggerParser.validate(join(tree, "src", "openapi.json"));
    lines.push("  ok   OpenAPI 3.1 document validates");
  } catch (e) {
    failed++;
    lines.push(`  FAIL OpenAPI: ${e.message}`);
  }
  console.log(lines.join("\n"));
}

const trees = process.argv.slice(2).filter((a) => !a.startsWith("--")).map((a) => resolve(a));
const jobs = Math.max(1, Number(process.env.CHECK_JOBS ?? Math.min(2, availableParallelism())));
let next = 0;
await Promise.all(
  Array.from({ length: jobs }, async () => {
    while (next < trees.length) await checkTree(trees[next++]);
  }),
);
console.log(failed === 0 ? "all trees pass" : `${failed} check(s) failed`);
process.exit(failed === 0 ? 0 : 1);
