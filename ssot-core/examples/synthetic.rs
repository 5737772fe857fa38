//! Prints the synthetic benchmark schema of N models (default 100): `cargo run -p ssot-core
//! --example synthetic -- 500 > schema.prisma`.

fn main() {
    let n = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    print!("{}", ssot_core::synthetic::schema(n));
}
