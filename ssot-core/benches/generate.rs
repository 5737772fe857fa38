//! Generation speed on synthetic schemas. Run with `cargo bench -p ssot-core`; prints a table.
//!
//! Times are medians of repeated runs in one process, so compare rows with each other rather
//! than with other machines. `SSOT_BENCH_QUICK=1` runs fewer iterations (CI uses it to show the
//! benchmark still works).

use ssot_core::config::Config;
use ssot_core::diagnostics::Sources;
use std::path::Path;
use std::time::{Duration, Instant};

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn time<T>(iters: usize, mut f: impl FnMut() -> T) -> Duration {
    let _ = f(); // warm up
    median(
        (0..iters)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed()
            })
            .collect(),
    )
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let quick = std::env::var_os("SSOT_BENCH_QUICK").is_some();
    let config = Config::default();
    let dir = std::env::temp_dir().join(format!("ssot-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    println!(
        "| models | schema lines | front end + annotations | Rust generation | TypeScript generation | total (Rust + TS) | no-op regeneration | no-op from the stamp | prisma generate | Rust output | TS output |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    // `prisma generate` (Prisma 7, its TypeScript client) on the same schema, in the same run:
    // SSOT_BENCH_NODE_MODULES names a node_modules with prisma (tests/ts/node_modules).
    let node_modules = std::env::var_os("SSOT_BENCH_NODE_MODULES").map(std::path::PathBuf::from);
    for n in [100, 500] {
        let iters = match (quick, n) {
            (true, _) => 3,
            (false, 100) => 30,
            (false, _) => 10,
        };
        let schema = ssot_core::synthetic::schema(n);
        let sources = || {
            let mut s = Sources::new();
            s.add("schema.prisma", schema.clone());
            s
        };
        let load = || ssot_core::analyze(sources(), &config, Path::new("")).expect("the synthetic schema is valid");
        let front = time(iters, load);
        let ir = load().ir;
        let gen_time = time(iters, || ssot_core::generate::rust::generate(&ir, &config));
        let ts_time = time(iters, || ssot_core::generate::ts::generate(&ir, &config));
        // What build.rs and `ssot generate` do: Rust and TypeScript side by side.
        let total = time(iters, || ssot_core::generate::rust_and_ts(&load().ir, &config));
        let ts_files = ssot_core::generate::ts::generate(&ir, &config);
        let ts_bytes: usize = ts_files.values().map(String::len).sum();
        if let (100, Some(dir)) = (n, std::env::var_os("SSOT_BENCH_TREE")) {
            // For measuring tsc on the generated tree (tests/ts/bench.py).
            ssot_core::writer::write_tree(Path::new(&dir), &ts_files, &[], false).unwrap();
        }
        let ts_dir = dir.join(format!("ts-{n}"));
        ssot_core::writer::write_tree(&ts_dir, &ts_files, &[], false).unwrap();
        // The no-op path of a build: validate, generate, compare with the file on disk, write nothing.
        let files = ssot_core::generate::rust::generate(&ir, &config);
        let out = dir.join(format!("ssot-{n}.rs"));
        let text = files.values().next().unwrap();
        ssot_core::writer::write_if_changed(&out, text).unwrap();
        let noop = time(iters, || {
            let (files, ts) = ssot_core::generate::rust_and_ts(&load().ir, &config);
            let wrote = ssot_core::writer::write_if_changed(&out, files.values().next().unwrap()).unwrap();
            assert!(!wrote, "the no-op regeneration wrote");
            let report = ssot_core::writer::write_tree(&ts_dir, &ts, &[], false).unwrap();
            assert!(!report.changed(), "the no-op regeneration wrote TypeScript");
        });
        // What `ssot generate` does first: the stamp of the inputs and the outputs' metadata
        // against the manifest; when they match, the schema is not even read.
        let schema_path = dir.join(format!("schema-{n}.prisma"));
        std::fs::write(&schema_path, &schema).unwrap();
        let stamp_of = || {
            let bytes = std::fs::read(&schema_path).unwrap();
            ssot_core::writer::stamp(&[schema_path.to_string_lossy().as_bytes(), &bytes])
        };
        ssot_core::writer::write_tree_stamped(&ts_dir, &ts_files, &[], false, Some((&stamp_of(), std::slice::from_ref(&out)))).unwrap();
        let fast = time(iters, || assert!(ssot_core::writer::fresh(&ts_dir, &stamp_of()), "the stamped tree is not fresh"));
        let prisma = node_modules.as_ref().map_or_else(
            || "-".to_owned(),
            |modules| {
                let link = ts_dir.join("node_modules");
                if !link.exists() {
                    std::os::unix::fs::symlink(modules, &link).unwrap();
                }
                let run = || {
                    let status = std::process::Command::new("node")
                        .arg(modules.join("prisma/build/index.js"))
                        .arg("generate")
                        .current_dir(&ts_dir)
                        .env("PRISMA_SCHEMA_ENGINE_BINARY", "/bin/true")
                        .env("PRISMA_HIDE_UPDATE_MESSAGE", "1")
                        .env("DATABASE_URL", "postgresql://unused@127.0.0.1/unused")
                        .stdout(std::process::Stdio::null())
                        .stderr(std::process::Stdio::null())
                        .status()
                        .expect("node runs");
                    assert!(status.success(), "prisma generate failed in {}", ts_dir.display());
                };
                ms(time(if quick { 1 } else { 3 }, run))
            },
        );
        println!(
            "| {n} | {} | {} | {} | {} | {} | {} | {} | {prisma} | {} KiB | {} files, {} KiB |",
            schema.lines().count(),
            ms(front),
            ms(gen_time),
            ms(ts_time),
            ms(total),
            ms(noop),
            ms(fast),
            text.len() / 1024,
            ts_files.len(),
            ts_bytes / 1024
        );
    }
    if let Some(rss) = peak_rss_mib() {
        println!("\npeak resident memory of the benchmark process: {rss:.1} MiB");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
