//! The wire format of SPEC section 4 as serde_with adapters, so generated structs can compose
//! them (`Option<BigIntString>`, `Vec<DateTimeMillis>`, ...) and agree with the generated Zod
//! schemas byte for byte:
//!
//! | Prisma   | JSON                                   | adapter            |
//! |----------|----------------------------------------|--------------------|
//! | Int      | number, integral, 32-bit               | [`Int32`]          |
//! | BigInt   | string of digits                       | [`BigIntString`]   |
//! | Float    | number                                 | [`Float`]          |
//! | Decimal  | decimal string                         | [`DecimalString`]  |
//! | DateTime | RFC 3339, UTC, milliseconds, `Z`       | [`DateTimeMillis`] |
//! | Bytes    | base64 (standard alphabet, padded)     | [`Base64Bytes`]    |
//!
//! [`Patch`] and [`Present`] give the three kinds of "optional" inputs need: absent vs `null`
//! vs a value.

use base64::Engine as _;
use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serializer};
pub use serde_with::As;
use serde_with::{DeserializeAs, SerializeAs};
use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

/// `Int`: a JSON number with an integral value in the 32-bit range. `1.0` and `1e3` are
/// accepted, as JavaScript reads them as integers.
pub struct Int32;

impl SerializeAs<i32> for Int32 {
    fn serialize_as<S: Serializer>(v: &i32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(*v)
    }
}

impl<'de> DeserializeAs<'de, i32> for Int32 {
    fn deserialize_as<D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = i32;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer between -2147483648 and 2147483647")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<i32, E> {
                i32::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<i32, E> {
                i32::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<i32, E> {
                if v.fract() == 0.0 && v >= i32::MIN as f64 && v <= i32::MAX as f64 {
                    Ok(v as i32)
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `Float`: a finite JSON number, written exactly as JavaScript's `JSON.stringify` writes it
/// (`1`, not `1.0`; `1e+21`; `0.000001`).
pub struct Float;

impl SerializeAs<f64> for Float {
    fn serialize_as<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        serialize_js_number(*v, s)
    }
}

/// Writes a number as JavaScript does. Non-finite values cannot occur in JSON; they are
/// written as `null`, as `JSON.stringify` does.
fn serialize_js_number<S: Serializer>(v: f64, s: S) -> Result<S::Ok, S::Error> {
    if !v.is_finite() {
        return s.serialize_none();
    }
    if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
        return s.serialize_i64(v as i64);
    }
    let mut buf = ryu_js::Buffer::new();
    let text = buf.format_finite(v);
    match serde_json::value::RawValue::from_string(text.to_owned()) {
        Ok(raw) => serde::Serialize::serialize(&raw, s),
        Err(_) => s.serialize_f64(v),
    }
}

/// `Json`: any JSON value. Numbers are IEEE doubles as in JavaScript: an integer beyond 2^53
/// is rounded, and numbers are written as `JSON.stringify` writes them.
pub struct Json;

impl SerializeAs<serde_json::Value> for Json {
    fn serialize_as<S: Serializer>(v: &serde_json::Value, s: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&JsJson(v), s)
    }
}

impl<'de> DeserializeAs<'de, serde_json::Value> for Json {
    fn deserialize_as<D: Deserializer<'de>>(d: D) -> Result<serde_json::Value, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        if json_depth(&v) > JSON_MAX_DEPTH {
            return Err(de::Error::custom(format_args!("Json nested deeper than {JSON_MAX_DEPTH} arrays or objects")));
        }
        Ok(v)
    }
}

/// How deep arrays and objects may nest in a `Json` value, on both sides: the generated Zod
/// schema stops at the same depth, before its recursion could overflow the stack. (serde_json's
/// own limit, 128 for a whole document, is beyond it.)
pub const JSON_MAX_DEPTH: usize = 100;

/// The nesting of arrays and objects in a value: 0 for a scalar, 1 for `[1]`, 2 for `[[1]]`.
pub fn json_depth(v: &serde_json::Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(v, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &serde_json::Value>> = match v {
            serde_json::Value::Array(items) => Box::new(items.iter()),
            serde_json::Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        deepest = deepest.max(depth + 1);
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    deepest
}

struct JsJson<'a>(&'a serde_json::Value);

impl serde::Serialize for JsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) if i.unsigned_abs() <= 1 << 53 => s.serialize_i64(i),
                (_, Some(u)) if u <= 1 << 53 => s.serialize_u64(u),
                _ => serialize_js_number(n.as_f64().unwrap_or(f64::NAN), s),
            },
            serde_json::Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&JsJson(item))?;
                }
                seq.end()
            }
            serde_json::Value::Object(map) => {
                let mut m = s.serialize_map(Some(map.len()))?;
                for (k, v) in map {
                    m.serialize_entry(k, &JsJson(v))?;
                }
                m.end()
            }
            other => serde::Serialize::serialize(other, s),
        }
    }
}

impl<'de> DeserializeAs<'de, f64> for Float {
    fn deserialize_as<D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        f64::deserialize(d)
    }
}

fn is_integer_text(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && (digits == "0" || !digits.starts_with('0')) && s != "-0"
}

/// `BigInt`: a string of digits (`"-12"`), no sign `+`, no leading zeros, within `i64`.
pub struct BigIntString;

impl SerializeAs<i64> for BigIntString {
    fn serialize_as<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }
}

impl<'de> DeserializeAs<'de, i64> for BigIntString {
    fn deserialize_as<D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        if !is_integer_text(&s) {
            return Err(de::Error::invalid_value(de::Unexpected::Str(&s), &"a string of digits like \"-42\""));
        }
        s.parse().map_err(|_| de::Error::invalid_value(de::Unexpected::Str(&s), &"an integer within the 64-bit range"))
    }
}

/// `Decimal`: a decimal string (`"-12.50"`): optional `-`, digits without leading zeros, an
/// optional fraction. The scale is kept as written.
pub struct DecimalString;

impl SerializeAs<Decimal> for DecimalString {
    fn serialize_as<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }
}

impl<'de> DeserializeAs<'de, Decimal> for DecimalString {
    fn deserialize_as<D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (&*s, None),
        };
        let ok = (is_integer_text(int) || int == "-0") && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return Err(de::Error::invalid_value(de::Unexpected::Str(&s), &"a decimal string like \"-12.50\""));
        }
        Decimal::from_str_exact(&s)
            .map_err(|_| de::Error::invalid_value(de::Unexpected::Str(&s), &"a decimal with at most 28 significant digits"))
    }
}

/// `DateTime`: written as RFC 3339 in UTC with milliseconds and `Z`
/// (`2024-01-31T09:30:00.000Z`, what JavaScript's `toISOString` gives); read from any RFC 3339
/// date-time with `T` and an offset, converted to UTC.
pub struct DateTimeMillis;

impl SerializeAs<DateTime<Utc>> for DateTimeMillis {
    fn serialize_as<S: Serializer>(v: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&v.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl<'de> DeserializeAs<'de, DateTime<Utc>> for DateTimeMillis {
    fn deserialize_as<D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let strict = s.len() >= 20 && s.as_bytes()[10] == b'T' && !s.ends_with('z');
        match DateTime::parse_from_rfc3339(&s) {
            // chrono reads `:60` as a leap second; JavaScript has none, so neither do we.
            // The instant must be one that RFC 3339 can write in UTC (years 0001 to 9999):
            // `9999-12-31T23:59:59-23:59` is in year 10000, which no client could read back.
            Ok(dt) if strict && dt.timestamp_subsec_nanos() < 1_000_000_000 && (1..=9999).contains(&dt.with_timezone(&Utc).year()) => {
                Ok(dt.with_timezone(&Utc))
            }
            _ => Err(de::Error::invalid_value(
                de::Unexpected::Str(&s),
                &"an RFC 3339 date-time like \"2024-01-31T09:30:00Z\" in years 0001 to 9999 in UTC",
            )),
        }
    }
}

/// `Bytes`: standard base64 with padding. Like the base64 check of Zod, the unused low bits of
/// the last character are not required to be zero (`"AB=="` reads as `"AA=="`).
pub struct Base64Bytes;

const BASE64_LENIENT: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

impl SerializeAs<Vec<u8>> for Base64Bytes {
    fn serialize_as<S: Serializer>(v: &Vec<u8>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(v))
    }
}

impl<'de> DeserializeAs<'de, Vec<u8>> for Base64Bytes {
    fn deserialize_as<D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        BASE64_LENIENT.decode(s.as_bytes()).map_err(|_| de::Error::invalid_value(de::Unexpected::Str(&s), &"base64 text"))
    }
}

/// An input field that may be absent (`None`), `null` (`Some(None)`) or a value
/// (`Some(Some(v))`): nullable fields of update inputs. Use with `#[serde(default)]` and
/// `skip_serializing_if = "Option::is_none"`.
pub struct Patch<T>(PhantomData<T>);

impl<T, U: SerializeAs<T>> SerializeAs<Option<Option<T>>> for Patch<U> {
    fn serialize_as<S: Serializer>(v: &Option<Option<T>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(Some(x)) => U::serialize_as(x, s),
            _ => s.serialize_none(),
        }
    }
}

impl<'de, T, U: DeserializeAs<'de, T>> DeserializeAs<'de, Option<Option<T>>> for Patch<U> {
    fn deserialize_as<D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
        // Reached only when the key is present: `null` is `Some(None)`.
        <Option<serde_with::de::DeserializeAsWrap<T, U>>>::deserialize(d).map(|o| Some(o.map(|w| w.into_inner())))
    }
}

/// An input field that may be absent but not `null`: fields with a default in create inputs,
/// non-nullable fields of update inputs. Use with `#[serde(default)]` and
/// `skip_serializing_if = "Option::is_none"`.
pub struct Present<T>(PhantomData<T>);

impl<T, U: SerializeAs<T>> SerializeAs<Option<T>> for Present<U> {
    fn serialize_as<S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(x) => U::serialize_as(x, s),
            None => s.serialize_none(),
        }
    }
}

impl<'de, T, U: DeserializeAs<'de, T>> DeserializeAs<'de, Option<T>> for Present<U> {
    fn deserialize_as<D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
        U::deserialize_as(d).map(Some)
    }
}

/// A field that must be present and may be `null`: nullable fields of output types. (serde
/// alone would let an `Option` field be missing.)
pub struct Nullable<T>(PhantomData<T>);

impl<T, U: SerializeAs<T>> SerializeAs<Option<T>> for Nullable<U> {
    fn serialize_as<S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        <Option<U>>::serialize_as(v, s)
    }
}

impl<'de, T, U: DeserializeAs<'de, T>> DeserializeAs<'de, Option<T>> for Nullable<U> {
    fn deserialize_as<D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
        <Option<U>>::deserialize_as(d)
    }
}

/// Parses an `i64` the way [`BigIntString`] reads it (for query strings and path ids).
pub fn parse_bigint(s: &str) -> Option<i64> {
    is_integer_text(s).then(|| i64::from_str(s).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct T {
        #[serde(with = "As::<Int32>")]
        i: i32,
        #[serde(with = "As::<BigIntString>")]
        b: i64,
        #[serde(with = "As::<DecimalString>")]
        d: Decimal,
        #[serde(with = "As::<DateTimeMillis>")]
        t: DateTime<Utc>,
        #[serde(with = "As::<Base64Bytes>")]
        y: Vec<u8>,
        #[serde(with = "As::<Float>")]
        f: f64,
        #[serde(with = "As::<Nullable<Int32>>")]
        n: Option<i32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[serde(with = "As::<Patch<Int32>>")]
        p: Option<Option<i32>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[serde(with = "As::<Present<Int32>>")]
        q: Option<i32>,
    }

    fn parse(s: &str) -> Result<T, String> {
        serde_json::from_str(s).map_err(|e| e.to_string())
    }

    const BASE: &str = r#""i":1,"b":"9007199254740993","d":"-1.50","t":"2024-01-31T10:30:00+01:00","y":"AAE=","f":1.0,"n":null"#;

    #[test]
    fn round_trip_in_the_wire_format() {
        let t = parse(&format!("{{{BASE}}}")).unwrap();
        assert_eq!(t.b, 9_007_199_254_740_993);
        assert_eq!(t.p, None);
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"i":1,"b":"9007199254740993","d":"-1.50","t":"2024-01-31T09:30:00.000Z","y":"AAE=","f":1,"n":null}"#
        );
        let t = parse(&format!("{{{BASE},\"p\":null,\"q\":3}}")).unwrap();
        assert_eq!((t.p, t.q), (Some(None), Some(3)));
        let t = parse(&format!("{{{BASE},\"p\":4}}")).unwrap();
        assert_eq!(t.p, Some(Some(4)));
    }

    #[test]
    fn rejects_what_zod_rejects() {
        for (field, bad) in [
            ("i", "2147483648"),
            ("i", "1.5"),
            ("i", "\"1\""),
            ("b", "\"+1\""),
            ("b", "\"01\""),
            ("b", "\"9223372036854775808\""),
            ("b", "12"),
            ("d", "\"1e5\""),
            ("d", "\"1.\""),
            ("d", "1.5"),
            ("t", "\"2024-01-31 10:30:00Z\""),
            ("t", "\"2024-01-31\""),
            // Past year 9999 or before year 1 in UTC, whatever the local fields say.
            ("t", "\"9999-12-31T23:59:59-23:59\""),
            ("t", "\"0001-01-01T00:30:00+01:00\""),
            ("y", "\"AAE\""),
            ("q", "null"),
        ] {
            let input = if field == "q" { format!("{{{BASE},\"q\":{bad}}}") } else { format!("{{{}}}", replace_field(BASE, field, bad)) };
            assert!(parse(&input).is_err(), "{field}={bad} accepted");
        }
        assert!(parse(&format!("{{{}}}", BASE.replace(",\"n\":null", ""))).is_err(), "a missing nullable field is accepted");
        assert_eq!(parse(&format!("{{{}}}", replace_field(BASE, "i", "1e3"))).unwrap().i, 1000);
    }

    #[test]
    fn the_utc_year_bounds_are_inclusive() {
        let t = parse(&format!("{{{}}}", replace_field(BASE, "t", "\"9999-12-31T23:59:59.999Z\""))).unwrap();
        assert_eq!(t.t.to_rfc3339_opts(SecondsFormat::Millis, true), "9999-12-31T23:59:59.999Z");
        assert!(parse(&format!("{{{}}}", replace_field(BASE, "t", "\"0001-01-01T00:00:00Z\""))).is_ok());
    }

    #[test]
    fn json_nesting_is_bounded() {
        #[derive(Deserialize, Debug)]
        struct J {
            #[serde(with = "As::<Json>")]
            #[allow(dead_code)]
            j: serde_json::Value,
        }
        let nested = |n: usize| format!("{{\"j\":{}1{}}}", "[".repeat(n), "]".repeat(n));
        assert_eq!(json_depth(&serde_json::json!(1)), 0);
        assert_eq!(json_depth(&serde_json::json!([[{"a": [1]}], []])), 4);
        assert!(serde_json::from_str::<J>(&nested(JSON_MAX_DEPTH)).is_ok());
        let err = serde_json::from_str::<J>(&nested(JSON_MAX_DEPTH + 1)).unwrap_err().to_string();
        assert!(err.contains("nested deeper than 100"), "{err}");
    }

    fn replace_field(base: &str, field: &str, value: &str) -> String {
        base.split(',')
            .map(|kv| if kv.starts_with(&format!("\"{field}\":")) { format!("\"{field}\":{value}") } else { kv.to_owned() })
            .collect::<Vec<_>>()
            .join(",")
    }
}
