// What a stage of a tree's Dockerfile would hold, laid out without Docker (no engine runs here):
// node image-layout.mjs <tree> <stage> <dir> copies into <dir> what the stage's
// `COPY --from=...` lines take from /app of the build (node_modules: a link to the packages the
// tree resolves, development packages included), and prints the stage's ENV, CMD and HEALTHCHECK command as
// JSON, so that the caller runs the very command the image runs, in a folder with nothing else.
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

const [tree, stage, dir] = process.argv.slice(2);

/** The packages the tree resolves: its own node_modules, or the nearest one above it. */
function nodeModules(from) {
  for (let d = resolve(from); ; d = dirname(d)) {
    if (existsSync(join(d, "node_modules"))) return realpathSync(join(d, "node_modules"));
    if (dirname(d) === d) throw new Error(`no node_modules above ${from}`);
  }
}
const lines = readFileSync(join(tree, "Dockerfile"), "utf8")
  .replace(/\\\n\s*/g, " ")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !l.startsWith("#"));
const start = lines.findIndex((l) => new RegExp(`^FROM \\S+ AS ${stage}$`, "i").test(l));
if (start < 0) throw new Error(`no stage ${stage} in ${tree}/Dockerfile`);
const end = lines.findIndex((l, i) => i > start && /^FROM /i.test(l));
const body = lines.slice(start + 1, end < 0 ? undefined : end);
const out = { env: {}, cmd: null, healthcheck: null, user: null, copied: [] };
mkdirSync(dir, { recursive: true });
for (const l of body) {
  const [instr, ...rest] = l.split(/\s+/);
  const args = rest.join(" ");
  switch (instr.toUpperCase()) {
    case "ENV":
      for (const [, k, v] of args.matchAll(/(\w+)=(\S+)/g)) out.env[k] = v;
      break;
    case "COPY": {
      const parts = rest.filter((p) => !p.startsWith("--"));
      if (!rest.some((p) => p.startsWith("--from="))) throw new Error(`COPY without --from: ${l}`);
      const dest = parts.pop();
      for (const src of parts) {
        const rel = src.replace(/^\/app\/?/, "");
        const target = dest.endsWith("/") || dest === "./" ? join(dir, basename(rel)) : join(dir, dest);
        if (rel === "node_modules") symlinkSync(nodeModules(tree), target);
        else cpSync(join(tree, rel), target, { recursive: true });
        out.copied.push(rel);
      }
      break;
    }
    case "USER":
      out.user = args;
      break;
    case "CMD":
      out.cmd = JSON.parse(args);
      break;
    case "HEALTHCHECK":
      out.healthcheck = JSON.parse(args.slice(args.indexOf("CMD ") + 4));
      break;
  }
}
if (out.cmd === null) throw new Error(`stage ${stage} has no CMD`);
console.log(JSON.stringify(out));
