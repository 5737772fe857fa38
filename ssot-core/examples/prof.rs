//! Times the stages of Rust generation on one schema: `cargo run --release -p ssot-core --example prof -- schema.prisma`.
fn main() {
    let path = std::env::args().nth(1).expect("usage: prof <schema.prisma>");
    let schema = std::fs::read_to_string(&path).expect("readable schema");
    let config = ssot_core::config::Config::default();
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let mut s = ssot_core::diagnostics::Sources::new();
        s.add("schema.prisma", schema.clone());
        let ir = ssot_core::analyze(s, &config, std::path::Path::new("")).unwrap_or_else(|e| panic!("{e}")).ir;
        let t1 = t.elapsed();
        let text = ssot_core::generate::rust::items(&ir, &config);
        let t2 = t.elapsed();
        let ts = ssot_core::generate::ts::generate(&ir, &config);
        let t3 = t.elapsed();
        let ts_bytes: usize = ts.values().map(String::len).sum();
        println!("front end {:?}  rust {:?} ({} KiB)  typescript {:?} ({} KiB)", t1, t2 - t1, text.len() / 1024, t3 - t2, ts_bytes / 1024);
    }
}
