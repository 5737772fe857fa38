#!/usr/bin/env python3
"""tsc (TypeScript 7) on the TypeScript tree generated for the 100-model benchmark schema:
median wall time of 3 runs and the peak resident memory of the compiler; tsc of its admin UI,
and with SSOT_BENCH_UI=1 (the full run) `next build` of that UI. Run from the repo
root after `npm ci` in tests/ts: python3 tests/ts/bench.py"""
import json
import os
import resource
import statistics
import subprocess
import sys
import time

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
tree = os.path.join(root, "target", "bench-ts-100")
modules = os.path.join(root, "tests", "ts", "node_modules")
env = dict(os.environ, SSOT_BENCH_TREE=tree, SSOT_BENCH_QUICK="1")
print("-- generating the 100-model tree with the benchmark", flush=True)
# Only the tree is wanted here: the dev profile of the workspace build, no release build.
subprocess.run(["cargo", "bench", "--locked", "-q", "--profile", "dev", "-p", "ssot-core", "--bench", "generate"], cwd=root, env=env, check=True,
               stdout=subprocess.DEVNULL)
link = os.path.join(tree, "node_modules")
if not os.path.islink(link):
    os.symlink(modules, link)
# The tree's server imports the Prisma 7 client: generate it first (generate needs no engine).
subprocess.run(["node", os.path.join(modules, "prisma", "build", "index.js"), "generate"], cwd=tree, check=True,
               env=dict(os.environ, PRISMA_SCHEMA_ENGINE_BINARY="/bin/true", DATABASE_URL="postgresql://unused@127.0.0.1/unused"),
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
files = sum(len(f) for _, _, f in os.walk(os.path.join(tree, "src")))
tsc = [os.path.join(modules, "typescript-7", "bin", "tsc"), "--noEmit", "-p", tree]
times = []
for _ in range(3):
    start = time.perf_counter()
    subprocess.run(["node", *tsc], check=True)
    times.append(time.perf_counter() - start)
# ru_maxrss of waited-for children, in KiB on Linux: the largest tsc process.
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"tsc --noEmit on the 100-model tree ({files} files): median {statistics.median(times):.2f} s, "
      f"peak memory {peak:.0f} MiB (runs: {', '.join(f'{t:.2f}' for t in times)} s)")
start = time.perf_counter()
subprocess.run(["node", *tsc[:-1], os.path.join(tree, "tsconfig.ui.json")], check=True)
print(f"tsc --noEmit of the 100-model admin UI (tsconfig.ui.json): {time.perf_counter() - start:.2f} s")
if os.environ.get("SSOT_BENCH_UI") == "1":
    # Next.js compiles nothing outside the folder of the nearest lockfile: the tree goes under
    # tests/ts instead of being linked to its packages.
    import shutil
    ui = os.path.join(root, "tests", "ts", ".ui", "bench-100")
    shutil.rmtree(ui, ignore_errors=True)
    shutil.copytree(tree, ui, ignore=shutil.ignore_patterns("node_modules", "generated"), symlinks=True)
    start = time.perf_counter()
    subprocess.run([os.path.join(modules, ".bin", "next"), "build"], cwd=ui, check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, NEXT_TELEMETRY_DISABLED="1"))
    with open(os.path.join(ui, "app", "admin", "_models", "models.json")) as f:
        pages = len(json.load(f))
    print(f"next build of the 100-model admin UI (pages of {pages} models): "
          f"{time.perf_counter() - start:.1f} s")
sys.exit(0)
