//! The 100-model synthetic schema (a ring of relations, M0 → M1 → … → M99 → M0) compiles, and
//! its relations nest as deep as the data does.

use ssot_compile_tests::synthetic_100::*;

fn row(id: i32, status: &str, prev: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "id": id, "title": "t", "email": "a@b.co", "body": null, "count": 0, "big": null, "ratio": null,
        "price": "1.50", "flag": false, "status": status, "meta": null, "tags": [],
        "createdAt": "2024-01-31T09:30:00.123Z", "updatedAt": "2024-01-31T09:30:00.123Z", "prevId": null, "prev": prev
    })
}

#[test]
fn a_chain_of_included_rows_round_trips_through_every_model() {
    // M99 includes its previous M98, which includes M97, ... down to M0: 100 levels.
    let mut json = serde_json::Value::Null;
    for id in 0..100 {
        json = row(id, "LIVE", json);
    }
    let m99: M99 = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(serde_json::to_value(&m99).unwrap(), json);
    let m98 = m99.prev.as_ref().and_then(|p| p.as_deref()).expect("prev is included");
    assert_eq!(m98.id, 98);
    let nexts: M0 = serde_json::from_value(serde_json::json!({
        "id": 1, "title": "t", "email": "a@b.co", "body": null, "count": 0, "big": null, "ratio": null,
        "price": "1.50", "flag": false, "status": "DRAFT", "meta": null, "tags": [], "createdAt": "2024-01-31T09:30:00.123Z",
        "updatedAt": "2024-01-31T09:30:00.123Z", "prevId": null, "nexts": [row(2, "GONE", serde_json::Value::Null)]
    }))
    .unwrap();
    assert_eq!(nexts.nexts.as_ref().map(|n| n[0].id), Some(2));
    // The policies compile too: `status == LIVE || ownerId == auth.id` (ownerId is @hidden).
    assert!(m99.can_read(&None));
    assert!(!nexts.can_read(&None));
}
