//! The blog's handlers of Stripe's events (`[plugins.payments]` of ssot.toml): a checkout that
//! completes makes its buyer a supporter (a `Subscription` row), and the subscription's later
//! events keep its status. The TypeScript tree's `src/server/plugins/payment_handlers.ts` does
//! the same for the TypeScript server.
//!
//! Each handler runs in the transaction that records the event: what it writes commits with the
//! record, or not at all (an error makes Stripe deliver the event again). The queries are the
//! handler's own, so they are written for each database.

use serde_json::Value as Json;
use ssot::server::{BoxFuture, Connection, HandlerResult, Payments};

pub fn handlers() -> Payments {
    Payments::new()
        .on("checkout.session.completed", supporter)
        .on("customer.subscription.updated", set_status)
        .on("customer.subscription.deleted", set_status)
}

/// The buyer (the checkout's `client_reference_id`, which the checkout route sets to the caller's
/// id) has an active subscription.
fn supporter<'a>(event: &'a Json, db: Connection<'a>) -> BoxFuture<'a, HandlerResult> {
    Box::pin(async move {
        let session = &event["data"]["object"];
        // Stripe sends the subscription's id, or the subscription itself when it was expanded.
        let subscription = session["subscription"].as_str().or_else(|| session["subscription"]["id"].as_str());
        let user = session["client_reference_id"].as_str().and_then(|u| u.parse::<i32>().ok());
        let (Some(id), Some(user)) = (subscription, user) else { return Ok(()) };
        match db {
            Connection::Postgres(db) => {
                sqlx::query(
                    r#"INSERT INTO "Subscription" (id, "userId", status, "updatedAt") VALUES ($1, $2, 'active', now() AT TIME ZONE 'UTC')
                       ON CONFLICT (id) DO UPDATE SET status = 'active', "updatedAt" = now() AT TIME ZONE 'UTC'"#,
                )
                .bind(id)
                .bind(user)
                .execute(db)
                .await?;
            }
            Connection::Sqlite(db) => {
                // Dates as the server stores them in SQLite: ISO 8601 with milliseconds, in UTC.
                sqlx::query(
                    r#"INSERT INTO "Subscription" (id, "userId", status, "updatedAt") VALUES (?1, ?2, 'active', strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
                       ON CONFLICT (id) DO UPDATE SET status = 'active', "updatedAt" = strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')"#,
                )
                .bind(id)
                .bind(user)
                .execute(db)
                .await?;
            }
        }
        Ok(())
    })
}

/// The subscription's status as Stripe reports it (`past_due`, `canceled`, …).
fn set_status<'a>(event: &'a Json, db: Connection<'a>) -> BoxFuture<'a, HandlerResult> {
    Box::pin(async move {
        let subscription = &event["data"]["object"];
        let (Some(id), Some(status)) = (subscription["id"].as_str(), subscription["status"].as_str()) else { return Ok(()) };
        match db {
            Connection::Postgres(db) => {
                sqlx::query(r#"UPDATE "Subscription" SET status = $1, "updatedAt" = now() AT TIME ZONE 'UTC' WHERE id = $2"#)
                    .bind(status)
                    .bind(id)
                    .execute(db)
                    .await?;
            }
            Connection::Sqlite(db) => {
                sqlx::query(
                    r#"UPDATE "Subscription" SET status = ?1, "updatedAt" = strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now') WHERE id = ?2"#,
                )
                .bind(status)
                .bind(id)
                .execute(db)
                .await?;
            }
        }
        Ok(())
    })
}
