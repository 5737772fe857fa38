#!/usr/bin/env python3
"""tsc (TypeScript 7) on the TypeScript tree generated for the 100-model benchmark schema:
median wall time of 3 runs (1 with SSOT_BENCH_QUICK=1) and the peak resident memory of the compiler; tsc of its admin UI;
the production build (JavaScript in dist/) in registry and controller mode, its size and the
cold start of the server to /ready; and with SSOT_BENCH_UI=1 (the full run) `next build` of the UI. Run from the repo
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
# SSOT_BENCH_QUICK=1 (CI): one run of each measurement instead of the median of 3.
runs = 1 if os.environ.get("SSOT_BENCH_QUICK") else 3
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
for _ in range(runs):
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
# Production: `tsc -p tsconfig.build.json` (what `npm run build` runs before `next build`) in both
# route modes, the size of the server's JavaScript, and the cold start of `node dist/server/main.js`
# to the first 200 of /ready on a local PostgreSQL (median of 3 starts).
import shutil
import socket
import urllib.request

controller = tree + "-controller"
subprocess.run([os.path.join(root, "target", "debug", "ssot"), "generate", "--root", tree, "--ts-out", controller,
                "--mode", "controller", "--no-ui"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if not os.path.islink(os.path.join(controller, "node_modules")):
    os.symlink(modules, os.path.join(controller, "node_modules"))
shutil.rmtree(os.path.join(controller, "src", "generated"), ignore_errors=True)
shutil.copytree(os.path.join(tree, "src", "generated"), os.path.join(controller, "src", "generated"))
pg_dir = os.path.join(root, "target", "bench-pg")
pg_sh = os.path.join(root, "tests", "ts", "pg.sh")
pg = subprocess.run(["bash", pg_sh, "start", pg_dir, os.environ.get("BENCH_PG_PORT", "55490")], check=True,
                    capture_output=True, text=True).stdout.strip()


def size_kib(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs if f.endswith(".js")) / 1024


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cold_start(t):
    port = free_port()
    start = time.perf_counter()
    p = subprocess.Popen(["node", "dist/server/main.js"], cwd=t, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=dict(os.environ, PORT=str(port), DATABASE_URL=pg + "/postgres", LOG_LEVEL="warn",
                                  JWT_SECRET="bench-secret-0123456789abcdef0123456789"))
    try:
        while time.perf_counter() - start < 30:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.01)
        raise SystemExit(f"{t}: /ready did not answer 200 within 30 s")
    finally:
        p.terminate()
        p.wait()


try:
    for mode, t in (("registry", tree), ("controller", controller)):
        shutil.rmtree(os.path.join(t, "dist"), ignore_errors=True)
        start = time.perf_counter()
        subprocess.run(["node", tsc[0], "-p", os.path.join(t, "tsconfig.build.json")], check=True)
        built = time.perf_counter() - start
        server = size_kib(os.path.join(t, "dist", "server")) + size_kib(os.path.join(t, "dist", "policies"))
        starts = sorted(cold_start(t) for _ in range(runs))
        print(f"{mode}: npm run build's tsc {built:.2f} s; server JavaScript (dist/server, dist/policies) {server:.0f} KiB, "
              f"all of dist/ {size_kib(os.path.join(t, 'dist')):.0f} KiB; cold start to /ready: median {statistics.median(starts) * 1000:.0f} ms "
              f"(runs: {', '.join(f'{x * 1000:.0f}' for x in starts)} ms)", flush=True)
finally:
    subprocess.run(["bash", pg_sh, "stop", pg_dir], check=False)
if os.environ.get("SSOT_BENCH_UI") == "1":
    # Next.js compiles nothing outside the folder of the nearest lockfile: the tree goes under
    # tests/ts instead of being linked to its packages.
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
