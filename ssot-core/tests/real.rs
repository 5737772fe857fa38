//! The corpus of public real-world schemas in `tests/real/` (provenance in its SOURCES.md): each
//! is accepted as published, and its Rust items and TypeScript tree generate. (The TypeScript
//! gates of these trees run in `tests/ts/run.sh`.)

mod common;

#[test]
fn every_real_world_schema_is_accepted_and_generates() {
    let dir = common::repo().join("tests/real");
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    names.sort();
    assert!(names.len() >= 15, "the corpus has {} schemas", names.len());
    let mut failures = Vec::new();
    for root in &names {
        let name = root.file_name().unwrap().to_string_lossy().into_owned();
        let loaded = ssot_core::Project::discover(root, None, None).and_then(|p| Ok((p.load()?, p)));
        match loaded {
            Ok((loaded, project)) => {
                let ts = ssot_core::generate::ts::generate(&loaded.ir, &project.config);
                let rust = ssot_core::generate::rust::generate(&loaded.ir, &project.config);
                assert!(ts.len() > 10 && !rust.is_empty(), "{name}: too little output");
            }
            Err(e) => failures.push(format!("{name}:\n{e}")),
        }
    }
    assert!(failures.is_empty(), "rejected:\n{}", failures.join("\n"));
}
