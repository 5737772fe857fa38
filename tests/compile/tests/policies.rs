//! The compiled policies, field masks and validators of the `annotations` fixture and the blog.

use ssot_compile_tests::annotations::*;

fn member(id: &str, tenant: i32, role: Role) -> Member {
    serde_json::from_value(serde_json::json!({
        "id": id, "email": format!("{id}@example.com"), "avatarUrl": null, "externalId": null,
        "role": role.as_str(), "lastLogin": null, "salary": "1000.00", "score": 1, "balance": "0", "managerId": null
    }))
    .map(|mut m: Member| {
        m.tenant_id = Some(tenant);
        m
    })
    .unwrap()
}

fn principal(id: &str, tenant: i32, role: Role) -> Auth {
    Some(Principal { id: id.into(), role, tenant_id: tenant, teams: vec!["red".into()], level: 1.0 })
}

fn document(author: Option<Member>, visibility: Visibility, team: &str) -> Document {
    let mut d: Document = serde_json::from_value(serde_json::json!({
        "id": 1, "title": "Plan", "body": null, "team": team, "visibility": visibility.as_str(), "locked": false,
        "tags": [], "keywords": ["k"], "authorId": "a", "tenantId": 1, "publishedAt": null, "words": 3, "attachments": null
    }))
    .unwrap();
    d.author = author.map(ssot::Related::new);
    d
}

#[test]
fn reads_filter_by_tenant_and_hidden_fields_are_unknown_until_filled() {
    let alice = principal("a", 1, Role::Member);
    let other_tenant = principal("b", 2, Role::Owner);
    let m = member("a", 1, Role::Member);
    assert!(m.can_read(&alice));
    assert!(!m.can_read(&other_tenant));
    assert!(!m.can_read(&None), "anonymous must not read");
    // `tenantId` is @hidden: a row whose server-only value was not filled in is denied.
    let mut unfilled = m.clone();
    unfilled.tenant_id = None;
    assert!(!unfilled.can_read(&alice), "an undecidable rule must deny");
}

#[test]
fn operations_a_policy_does_not_name_are_denied() {
    let owner = principal("o", 1, Role::Owner);
    let m = member("a", 1, Role::Member);
    assert!(!m.can_delete(&owner), "delete: \"false\"");
    let country: Country = serde_json::from_str(r#"{"code":"NO","name":"Norway","alpha3":null}"#).unwrap();
    assert!(country.can_read(&None));
    assert!(!country.can_create(&owner), "only read is granted: create must fail closed");
    assert!(!country.can_update(&owner));
    assert!(!country.can_delete(&owner));
    let log: AuditLog = serde_json::from_str(r#"{"id":1,"action":"x","at":"2024-01-01T00:00:00.000Z","detail":null}"#).unwrap();
    assert!(log.can_create(&None) && log.can_delete(&None), "no @@policy: open to whoever passes @@auth");
}

#[test]
fn all_sets_the_operations_not_named() {
    let tenant: Tenant = serde_json::from_str(r#"{"id":1,"name":"Acme"}"#).unwrap();
    assert!(tenant.can_read(&principal("x", 1, Role::Member)));
    assert!(!tenant.can_update(&principal("x", 1, Role::Member)));
    assert!(tenant.can_update(&principal("x", 1, Role::Owner)));
    assert!(!tenant.can_update(&principal("x", 2, Role::Owner)));
}

#[test]
fn relation_hops_and_quantifiers() {
    let alice = principal("a", 1, Role::Member);
    let bob = principal("b", 1, Role::Member);
    // Public documents need nothing loaded.
    assert!(document(None, Visibility::Public, "blue").can_read(&None));
    // Team visibility reads a list claim.
    assert!(document(None, Visibility::Team, "red").can_read(&bob));
    assert!(!document(Some(member("a", 1, Role::Member)), Visibility::Team, "blue").can_read(&bob));
    // Authorship goes through `author`: unloaded means denied, loaded decides.
    assert!(!document(None, Visibility::Private, "blue").can_read(&alice));
    let mut d = document(Some(member("a", 1, Role::Member)), Visibility::Private, "blue");
    // The tenant relation is not loaded: the `some` quantifier is unknown, but the author
    // already allows alice (true wins in `||`).
    assert!(d.can_read(&alice));
    assert!(!d.can_read(&bob));
    // Load the tenant with an owner: `tenant.members.some(...)` lets the owner read.
    let owner = member("o", 1, Role::Owner);
    let tenant: Tenant = serde_json::from_value(serde_json::json!({"id": 1, "name": "Acme"})).unwrap();
    d.tenant = Some(ssot::Related::new(Tenant { members: Some(vec![owner, member("b", 1, Role::Member)].into()), ..tenant }));
    assert!(d.can_read(&principal("o", 1, Role::Member)));
    assert!(!d.can_read(&bob), "bob is a member, not an owner");
    // A null optional relation: `author.manager.id == auth.id` is null == "x", false.
    assert!(!d.can_delete(&alice));
    let mut boss = member("boss", 1, Role::Manager);
    boss.tenant_id = Some(1);
    let mut author = member("a", 1, Role::Member);
    author.manager = Some(Some(boss.into()));
    d.author = Some(author.into());
    assert!(d.can_delete(&principal("boss", 1, Role::Manager)));
    assert!(d.can_delete(&Some(Principal { level: 2.5, ..principal("z", 9, Role::Member).unwrap() })), "auth.level >= 2.5");
}

#[test]
fn readable_fields_are_masked_and_hidden_ones_never_serialized() {
    let mut m = member("a", 1, Role::Member);
    m.password = Some("secret-hash".into());
    let mut seen_by_peer = m.clone();
    seen_by_peer.mask(&principal("b", 1, Role::Member));
    let json = serde_json::to_value(&seen_by_peer).unwrap();
    assert!(json.get("salary").is_none(), "salary masked for a peer: {json}");
    assert!(json.get("password").is_none() && json.get("tenantId").is_none(), "{json}");
    let mut seen_by_self = m.clone();
    seen_by_self.mask(&principal("a", 1, Role::Member));
    assert_eq!(serde_json::to_value(&seen_by_self).unwrap()["salary"], "1000.00");
    assert!(m.can_write_salary(&principal("x", 1, Role::Owner)));
    assert!(!m.can_write_salary(&principal("a", 1, Role::Member)));
}

#[test]
fn create_inputs_validate_every_rule_and_reject_unknown_keys() {
    let input: MemberCreateInput = serde_json::from_value(serde_json::json!({
        "email": "not an email", "avatarUrl": "::nope", "externalId": "123", "password": "short",
        "score": 101, "balance": "-6"
    }))
    .expect("the input parses; validation is a separate step");
    let violations = input.validate().unwrap_err();
    let got: Vec<(&str, &str)> = violations.0.iter().map(|v| (v.path.as_str(), v.rule)).collect();
    assert_eq!(
        got,
        [("email", "email"), ("avatarUrl", "url"), ("externalId", "uuid"), ("password", "minLength"), ("score", "max"), ("balance", "min")]
    );
    assert!(serde_json::from_str::<MemberCreateInput>(r#"{"email":"a@b.co","password":"x"}"#).is_ok());
    assert!(serde_json::from_str::<MemberCreateInput>(r#"{"email":"a@b.co","password":"x","typo":1}"#).is_err());
    // @readOnly and @hidden fields are not part of the input at all.
    assert!(serde_json::from_str::<MemberCreateInput>(r#"{"email":"a@b.co","password":"x","lastLogin":null}"#).is_err());
    assert!(serde_json::from_str::<MemberCreateInput>(r#"{"email":"a@b.co","password":"x","tenantId":1}"#).is_err());
    let ok: DocumentCreateInput =
        serde_json::from_str(r#"{"title":"Plan A","team":"red","keywords":[],"authorId":"a","tenantId":1}"#).unwrap();
    assert_eq!(ok.validate().unwrap_err().0[0].rule, "nonEmpty");
}

#[test]
fn update_inputs_tell_absent_from_null() {
    let u: MemberUpdateInput = serde_json::from_str(r#"{"avatarUrl":null}"#).unwrap();
    assert_eq!(u.avatar_url, Some(None));
    assert_eq!(u.external_id, None);
    assert!(serde_json::from_str::<MemberUpdateInput>(r#"{"email":null}"#).is_err(), "email is not nullable");
    assert_eq!(serde_json::to_string(&u).unwrap(), r#"{"avatarUrl":null}"#);
    assert_eq!(serde_json::to_string(&MemberUpdateInput::default()).unwrap(), "{}");
}

#[test]
fn metadata_consts() {
    assert_eq!(Member::META.id_fields, ["id"]);
    let tenant = Member::META.field("tenantId").unwrap();
    assert!(tenant.hidden && !tenant.optional);
    let manager = Member::META.field("manager").unwrap().relation.unwrap();
    assert_eq!((manager.model, manager.fields, manager.references, manager.to_many), ("Member", &["managerId"][..], &["id"][..], false));
    assert!(MODELS.iter().any(|m| m.name == "Country"));
    use ssot_compile_tests::postgres_full as pg;
    assert_eq!(pg::Membership::META.id_fields, ["orgId", "userId"]);
    assert_eq!(pg::Scalars::META.db_name, "scalars");
    assert_eq!(pg::Scalars::META.field("type").unwrap().db_name, "kind");
    assert!(pg::MODELS.iter().all(|m| m.name != "Legacy"), "@@ignore models get no items");
    const { assert!(ssot_compile_tests::views::UserRevenue::META.is_view) };
}

#[test]
fn the_inline_macro_expands_the_same_items() {
    use ssot_compile_tests::inline_sqlite::Note;
    let json = r#"{"id":1,"title":"t","body":null,"pinned":false,"score":null,"counter":"5","amount":null,"attachment":null,"meta":null,"createdAt":"2024-01-01T00:00:00.000Z","updatedAt":"2024-01-01T00:00:00.000Z","authorId":null}"#;
    let note: Note = serde_json::from_str(json).unwrap();
    assert_eq!(serde_json::to_string(&note).unwrap(), json);
}
