//! The blog example's types, validation and policies generated from `schema.prisma`, used on
//! real JSON: `cargo run -p blog --example types`.

#[allow(dead_code)] // the example uses only part of the generated API
mod db {
    ssot::include_ssot!();
}

use db::{Auth, Post, PostCreateInput, Principal, Role};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A create input as a client would send it: JSON keys are the Prisma field names.
    let input: PostCreateInput = serde_json::from_str(r#"{ "title": "Hi", "slug": "Not A Slug", "authorId": 1, "views": -1 }"#)?;
    match input.validate() {
        Ok(()) => println!("valid input"),
        Err(violations) => {
            println!("rejected input:");
            for v in &violations.0 {
                println!("  {}: {} ({})", v.path, v.message, v.rule);
            }
        }
    }

    // A row as the API returns it; policies decide who may see and change it.
    let mut post: Post = serde_json::from_str(
        r#"{ "id": 7, "title": "Hello", "slug": "hello", "body": null, "published": false, "views": 0,
             "reviewNote": "needs a picture", "rating": "4.50", "publishedAt": null, "cover": null, "authorId": 1 }"#,
    )?;
    let author: Auth = Some(Principal { id: 1, role: Role::User });
    let stranger: Auth = Some(Principal { id: 2, role: Role::User });
    let editor: Auth = Some(Principal { id: 3, role: Role::Editor });
    let anonymous: Auth = None;
    for (who, auth) in [("author", &author), ("stranger", &stranger), ("editor", &editor), ("anonymous", &anonymous)] {
        println!(
            "{who:>9}: read={} update={} delete={} reviewNote={}",
            post.can_read(auth),
            post.can_update(auth),
            post.can_delete(auth),
            post.can_read_review_note(auth)
        );
    }
    post.mask(&author);
    println!("as the author sees it: {}", serde_json::to_string(&post)?);
    println!("models: {}", db::MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", "));
    Ok(())
}
