fn main() {
    let schema = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    let mut s = ssot_core::diagnostics::Sources::new();
    s.add("schema.prisma", schema);
    let config = ssot_core::config::Config::default();
    let ir = ssot_core::analyze(s, &config, std::path::Path::new("")).unwrap().ir;
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let toks = ssot_core::generate::rust::tokens(&ir, &config);
        let t1 = t.elapsed();
        let file: syn::File = syn::parse2(toks.clone()).unwrap();
        let t2 = t.elapsed();
        let text = prettyplease::unparse(&file);
        let t3 = t.elapsed();
        let raw = toks.to_string();
        let t4 = t.elapsed();
        println!("tokens {:?} parse {:?} unparse {:?} to_string {:?} len {} raw {}", t1, t2 - t1, t3 - t2, t4 - t3, text.len(), raw.len());
    }
}
