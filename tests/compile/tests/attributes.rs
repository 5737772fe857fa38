//! Users' own attributes on generated items: utoipa's `ToSchema` derived on the blog's
//! `PostCreateInput` and `Role` through `[rust.type_attributes]`, an example through
//! `[rust.field_attributes]`.

use ssot_compile_tests::blog_attributes::{PostCreateInput, Role};
use utoipa::{PartialSchema, ToSchema};

#[test]
fn derives_and_field_attributes_reach_the_generated_items() {
    assert_eq!(PostCreateInput::name(), "PostCreateInput");
    let schema = serde_json::to_value(PostCreateInput::schema()).unwrap();
    let props = &schema["properties"];
    for key in ["title", "slug", "body", "published", "authorId"] {
        assert!(props.get(key).is_some(), "{key} missing from {schema}");
    }
    assert_eq!(props["slug"]["example"], "hello-world", "{schema}");
    let required: Vec<&str> = schema["required"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    assert!(required.contains(&"title") && !required.contains(&"body"), "{required:?}");
    let role = serde_json::to_value(Role::schema()).unwrap();
    assert_eq!(role["enum"], serde_json::json!(["USER", "EDITOR", "ADMIN"]), "{role}");
}
