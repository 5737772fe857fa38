//! The schema as data on the Rust side (`SCHEMA` of the generated items): for every fixture the
//! embedded document parses into `ssot::schema::Schema` with no unknown key, serializes back to
//! the same JSON, and is the document the TypeScript server reads (`src/policies/schema.json`).

use ssot::schema::{AuthMethod, CmpOp, Expr, Operand, RealtimeEvent};
use ssot_compile_tests::{SCHEMAS, fixture_dirs};

#[test]
fn every_fixture_embeds_the_document_of_the_typescript_server_and_parses_it_whole() {
    let dirs = fixture_dirs();
    assert_eq!(SCHEMAS.len(), dirs.len());
    for (name, source) in SCHEMAS {
        let embedded: serde_json::Value = serde_json::from_str(source.json()).unwrap();
        // Typed and back: nothing lost, nothing unknown (`deny_unknown_fields` on every type).
        let typed = serde_json::to_value(source.get()).unwrap();
        assert_eq!(typed, embedded, "{name}: the typed view differs from the document");
        // One place: the same document as the TypeScript tree's schema.json.
        let dir = &dirs.iter().find(|(n, _)| n == name).unwrap().1;
        let project = ssot_core::Project::discover(dir, None, None).unwrap();
        let loaded = project.load().unwrap();
        let ts = ssot_core::generate::ts::generate(&loaded.ir, &project.config);
        if let Some(text) = ts.get(std::path::Path::new("src/policies/schema.json")) {
            let ts: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(ts, embedded, "{name}: Rust and TypeScript read different documents");
        }
    }
}

#[test]
fn the_blog_schema_as_data() {
    let schema = ssot_compile_tests::blog::SCHEMA.get();
    assert_eq!(schema.provider, "postgresql");
    assert_eq!(schema.auth.default, [AuthMethod::Jwt]);
    assert_eq!(schema.auth.claims.iter().map(|c| (c.name.as_str(), c.ty.as_str())).collect::<Vec<_>>(), [("id", "Int"), ("role", "Role")]);
    let role = schema.enum_("Role").unwrap();
    assert_eq!(role.values.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), ["USER", "EDITOR", "ADMIN"]);

    let post = schema.model("Post").unwrap();
    assert_eq!((post.path.as_str(), post.db_name.as_str(), post.channel()), ("posts", "Post", Some("post")));
    assert_eq!(post.realtime.as_deref(), Some(&[RealtimeEvent::Created, RealtimeEvent::Updated, RealtimeEvent::Deleted][..]));
    assert!(std::ptr::eq(schema.model_at("posts").unwrap(), post));
    // The read policy as its checked AST: `published || authorId == auth.id || auth.role in [...]`.
    let Some(Expr::Or { exprs }) = post.policy.as_ref().and_then(|p| p.read.as_ref()) else { panic!("{:?}", post.policy) };
    assert_eq!(exprs.len(), 3);
    let Expr::Compare { op: CmpOp::Eq, left: Operand::Field { field, .. }, right: Operand::Claim { name, .. } } = &exprs[1] else {
        panic!("{:?}", exprs[1])
    };
    assert_eq!((field.as_str(), name.as_str()), ("authorId", "id"));
    // Field flags, masks and database details.
    let review = post.field("reviewNote").unwrap();
    assert!(review.readable.is_some() && !review.filter && review.output);
    let title = post.field("title").unwrap();
    assert!(title.searchable && title.sortable() && title.create && title.update);
    assert_eq!(post.field("rating").unwrap().native_type.as_ref().map(|n| (n.name.as_str(), n.args.len())), Some(("Decimal", 2)));
    assert!(post.field("id").unwrap().id && post.field("slug").unwrap().unique);
    let author = post.relation("author").unwrap();
    assert_eq!((author.model.as_str(), author.fields.as_slice()), ("User", &["authorId".to_owned()][..]));

    let user = schema.model("User").unwrap();
    assert!(user.field("passwordHash").unwrap().write_only && !user.field("passwordHash").unwrap().output);
    assert!(user.field("createdAt").unwrap().read_only && !user.field("createdAt").unwrap().create);
    assert!(user.field("role").unwrap().writable.is_some());
    assert_eq!(user.rate_limit.map(|r| (r.limit, r.window_seconds)), Some((100, 60)));
    assert!(schema.model("Tag").unwrap().auth.contains(&AuthMethod::Public));
}
