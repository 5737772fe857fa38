//! Golden files: the IR and the generated Rust of every fixture. Re-bless with
//! `cargo insta review` (or `INSTA_UPDATE=always cargo test -p ssot-core --test snapshots`).

mod common;

#[test]
fn ir_and_rust_of_every_fixture() {
    let fixtures = common::fixtures();
    assert!(fixtures.len() >= 10);
    for (name, dir) in fixtures {
        let project = ssot_core::Project::discover(&dir, None, None).unwrap();
        let loaded = project.load().unwrap_or_else(|e| panic!("{name}: {e}"));
        insta::assert_json_snapshot!(format!("{name}__ir"), loaded.ir);
        let files = ssot_core::generate::rust::generate(&loaded.ir, &project.config);
        assert_eq!(files.len(), 1);
        let text = files.values().next().unwrap();
        assert!(text.starts_with("// @generated"), "{name}: no @generated header");
        insta::assert_snapshot!(format!("{name}__rust"), text);
        // The macro's items are the same lines with every `/// doc` as `#[doc = " doc"]`.
        let for_macro = ssot_core::generate::rust::items_for_macro(&loaded.ir, &project.config);
        let docs_as_comments: String = for_macro
            .lines()
            .map(|l| match l.trim_start().strip_prefix("#[doc = ") {
                Some(rest) => {
                    let indent = &l[..l.len() - l.trim_start().len()];
                    let doc: String = serde_json::from_str(rest.strip_suffix(']').unwrap()).unwrap();
                    format!("{indent}///{}\n", doc.trim_end())
                }
                None => format!("{l}\n"),
            })
            .collect();
        assert!(!for_macro.contains("///"), "{name}: a `///` comment in the macro's items");
        assert_eq!(text.split_once("\n\n").unwrap().1, docs_as_comments, "{name}");
    }
}

#[test]
fn generation_is_deterministic() {
    for (name, dir) in common::fixtures() {
        let project = ssot_core::Project::discover(&dir, None, None).unwrap();
        let a = ssot_core::generate::rust::generate(&project.load().unwrap().ir, &project.config);
        let b = ssot_core::generate::rust::generate(&project.load().unwrap().ir, &project.config);
        assert_eq!(a, b, "{name}");
    }
}

#[test]
fn typescript_tree_of_the_example() {
    let (_, dir) = common::fixtures().into_iter().find(|(n, _)| n == "blog").unwrap();
    let project = ssot_core::Project::discover(&dir, None, None).unwrap();
    let files = ssot_core::generate::ts::generate(&project.load().unwrap().ir, &project.config);
    let mut all = String::new();
    for (path, text) in &files {
        all.push_str(&format!("=== {}\n{text}\n", path.display()));
    }
    insta::assert_snapshot!("blog__typescript", all);
}
