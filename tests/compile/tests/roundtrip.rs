//! JSON through the generated types of every fixture: parse a canonical row, serialize it, get
//! the same bytes back.

use ssot_compile_tests::{MAY_BE_ABSENT, SAMPLES, roundtrip};

#[test]
fn every_model_of_every_fixture_round_trips_byte_for_byte() {
    assert!(SAMPLES.len() >= 40, "only {} samples", SAMPLES.len());
    let mut failures = Vec::new();
    for (fixture, model, json) in SAMPLES {
        match roundtrip(fixture, model, json) {
            Ok(out) if out == *json => {}
            Ok(out) => failures.push(format!("{fixture}.{model}:\n  in:  {json}\n  out: {out}")),
            Err(e) => failures.push(format!("{fixture}.{model}: {e}\n  in:  {json}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_missing_required_or_nullable_field_is_rejected() {
    for (fixture, model, json) in SAMPLES {
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        let obj = value.as_object().unwrap();
        for key in obj.keys() {
            let optional = MAY_BE_ABSENT.iter().any(|(f, m, k)| f == fixture && m == model && k == key);
            let mut without = obj.clone();
            without.remove(key);
            let text = serde_json::to_string(&without).unwrap();
            assert_eq!(
                roundtrip(fixture, model, &text).is_ok(),
                optional,
                "{fixture}.{model} without `{key}`: accepted must be {optional}"
            );
        }
    }
}

#[test]
fn wrong_types_are_rejected() {
    use ssot_compile_tests::postgres_full::Scalars;
    let (_, _, json) = SAMPLES.iter().find(|(f, m, _)| *f == "postgres_full" && *m == "Scalars").unwrap();
    let base: serde_json::Value = serde_json::from_str(json).unwrap();
    for (key, bad) in [
        ("int", serde_json::json!(2147483648i64)),
        ("int", serde_json::json!("1")),
        ("big", serde_json::json!(12)),
        ("big", serde_json::json!("1.5")),
        ("dec", serde_json::json!(1.5)),
        ("date", serde_json::json!("yesterday")),
        ("bytes", serde_json::json!("not base64!")),
        ("status", serde_json::json!("active")),
        ("str", serde_json::Value::Null),
        ("strList", serde_json::json!([null])),
    ] {
        let mut v = base.clone();
        v[key] = bad.clone();
        assert!(serde_json::from_value::<Scalars>(v).is_err(), "{key} = {bad} accepted");
    }
}
