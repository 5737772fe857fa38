// Relative to CARGO_MANIFEST_DIR: trybuild's project folder, where tests/ui.rs puts the schemas.
mod db {
    ssot::ssot!("tests/ui/good.prisma");
}

fn main() {
    let user: db::User = serde_json::from_str(r#"{"id":1,"email":"a@b.co","role":"ADMIN"}"#).unwrap();
    assert!(user.can_read(&None));
    assert_eq!(db::Role::Admin.as_str(), "ADMIN");
}
