//! Between database cells and the JSON wire format (SPEC §4), written exactly as the TypeScript
//! server writes it: DateTime as `toISOString()` (milliseconds, `Z`), BigInt and Decimal as
//! strings (a Decimal without trailing zeros, as decimal.js writes it), Bytes as base64, numbers
//! as `JSON.stringify` writes them, and the fields in schema order.

use super::db::{Cell, Kind, Param};
use crate::rules::Dialect;
use crate::schema::{Field, Schema};
use base64::Engine as _;
use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::Value as Json;
use std::str::FromStr;

/// A stored value the wire format cannot carry (a DateTime past year 9999, say).
#[derive(Debug)]
pub(crate) struct Unserializable;

/// A field's value on the wire: JSON, or JSON text kept as stored (a `Json` column, whose key
/// order is the database's).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Wire {
    Value(Json),
    Raw(String),
}

impl Wire {
    /// As a JSON value (for rules; a `Json` column parsed).
    pub(crate) fn json(&self) -> Json {
        match self {
            Wire::Value(v) => v.clone(),
            Wire::Raw(s) => serde_json::from_str(s).unwrap_or(Json::Null),
        }
    }

    pub(crate) fn write(&self, out: &mut String) {
        match self {
            Wire::Value(v) => write_json(out, v),
            Wire::Raw(s) => out.push_str(s),
        }
    }
}

/// The SQL that selects a field's column as the [`Kind`] [`to_wire`] reads.
pub(crate) fn select(dialect: Dialect, f: &Field, column: &str) -> (String, Kind) {
    match dialect {
        Dialect::Postgres => {
            if f.list {
                let inner = match f.ty.as_str() {
                    "Decimal" | "BigInt" => format!("{column}::text[]"),
                    _ => column.to_owned(),
                };
                return (format!("to_json({inner})::text"), Kind::Text);
            }
            match f.ty.as_str() {
                "Int" | "BigInt" => (format!("{column}::int8"), Kind::Int),
                "Float" => (format!("{column}::float8"), Kind::Float),
                "Boolean" => (column.to_owned(), Kind::Bool),
                "DateTime" => (format!("floor(extract(epoch from {column}) * 1000)::int8"), Kind::Int),
                "Bytes" => (column.to_owned(), Kind::Bytes),
                _ => (format!("{column}::text"), Kind::Text),
            }
        }
        Dialect::Sqlite => match f.ty.as_str() {
            "Int" | "BigInt" => (column.to_owned(), Kind::Int),
            "Float" => (format!("CAST({column} AS REAL)"), Kind::Float),
            "Boolean" => (column.to_owned(), Kind::Bool),
            "Bytes" => (column.to_owned(), Kind::Bytes),
            _ => (format!("CAST({column} AS TEXT)"), Kind::Text),
        },
    }
}

fn datetime_from_millis(ms: i64) -> Result<DateTime<Utc>, Unserializable> {
    Utc.timestamp_millis_opt(ms).single().ok_or(Unserializable)
}

fn iso(dt: DateTime<Utc>) -> Result<Json, Unserializable> {
    use chrono::Datelike as _;
    if !(1..=9999).contains(&dt.year()) {
        return Err(Unserializable);
    }
    Ok(Json::String(dt.to_rfc3339_opts(SecondsFormat::Millis, true)))
}

/// A DateTime as text from the database: RFC 3339, `YYYY-MM-DD HH:MM:SS[.fff]` (UTC), a date,
/// or milliseconds since the epoch (SQLite, as other programs may write it).
fn parse_datetime_text(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    if let Ok(ms) = s.parse::<i64>() {
        return Utc.timestamp_millis_opt(ms).single();
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(Utc.from_utc_datetime(&n));
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|n| Utc.from_utc_datetime(&n))
}

/// decimal.js's `toFixed()` of a stored decimal: no exponent, no trailing zeros.
fn decimal_text(s: &str) -> Option<String> {
    let d = Decimal::from_str(s).or_else(|_| Decimal::from_scientific(s)).ok()?;
    Some(d.normalize().to_string())
}

fn scalar(schema: &Schema, f: &Field, v: Json) -> Result<Json, Unserializable> {
    Ok(match (f.ty.as_str(), v) {
        (_, Json::Null) => Json::Null,
        ("BigInt", Json::Number(n)) => Json::String(n.to_string()),
        ("Decimal", Json::String(s)) => Json::String(decimal_text(&s).ok_or(Unserializable)?),
        ("DateTime", Json::String(s)) => iso(parse_datetime_text(&s).ok_or(Unserializable)?)?,
        ("enum", Json::String(s)) => Json::String(enum_name(schema, f, &s)),
        (_, v) => v,
    })
}

/// The schema's name of a stored enum value (`@map`).
fn enum_name(schema: &Schema, f: &Field, stored: &str) -> String {
    let values = f.enum_values.as_deref().unwrap_or_default();
    for e in &schema.enums {
        if let (true, Some(v)) = (e.values.iter().map(|v| &v.name).eq(values.iter()), e.values.iter().find(|v| v.db_name == stored)) {
            return v.name.clone();
        }
    }
    stored.to_owned()
}

/// The stored value of an enum value of `f`.
pub(crate) fn enum_stored(schema: &Schema, f: &Field, name: &str) -> String {
    let values = f.enum_values.as_deref().unwrap_or_default();
    for e in &schema.enums {
        if let (true, Some(v)) = (e.values.iter().map(|v| &v.name).eq(values.iter()), e.values.iter().find(|v| v.name == name)) {
            return v.db_name.clone();
        }
    }
    name.to_owned()
}

/// A cell of `f` as the wire format writes it.
pub(crate) fn to_wire(schema: &Schema, f: &Field, cell: Cell) -> Result<Wire, Unserializable> {
    if f.list {
        let Cell::Text(text) = cell else { return Ok(Wire::Value(Json::Null)) };
        if f.ty == "Json" {
            return Ok(Wire::Raw(compact(&text)));
        }
        let items: Vec<Json> = serde_json::from_str(&text).map_err(|_| Unserializable)?;
        return Ok(Wire::Value(Json::Array(items.into_iter().map(|x| scalar(schema, f, x)).collect::<Result<_, _>>()?)));
    }
    Ok(Wire::Value(match (f.ty.as_str(), cell) {
        (_, Cell::Null) => Json::Null,
        ("Json", Cell::Text(s)) => return Ok(Wire::Raw(compact(&s))),
        ("DateTime", Cell::Int(ms)) => iso(datetime_from_millis(ms)?)?,
        ("DateTime", Cell::Float(ms)) => iso(datetime_from_millis(ms as i64)?)?,
        ("BigInt", Cell::Int(i)) => Json::String(i.to_string()),
        ("Boolean", Cell::Int(i)) => Json::Bool(i != 0),
        ("Bytes", Cell::Bytes(b)) => Json::String(base64::engine::general_purpose::STANDARD.encode(b)),
        (_, Cell::Bool(b)) => Json::Bool(b),
        (_, Cell::Int(i)) => Json::from(i),
        (_, Cell::Float(x)) => serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number),
        (_, Cell::Text(s)) => scalar(schema, f, Json::String(s))?,
        (_, Cell::Bytes(b)) => Json::String(base64::engine::general_purpose::STANDARD.encode(b)),
    }))
}

/// A JSON number as JavaScript writes it (`1`, not `1.0`; `1e+21`).
fn js_number(out: &mut String, n: &serde_json::Number) {
    if let Some(i) = n.as_i64() {
        out.push_str(&i.to_string());
    } else if let Some(u) = n.as_u64() {
        // Beyond i64: JavaScript holds it as a double.
        js_float(out, u as f64);
    } else if let Some(f) = n.as_f64() {
        js_float(out, f);
    }
}

fn js_float(out: &mut String, f: f64) {
    if !f.is_finite() {
        out.push_str("null");
    } else if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        out.push_str(&(f as i64).to_string());
    } else {
        out.push_str(ryu_js::Buffer::new().format_finite(f));
    }
}

/// `v` as `JSON.stringify` writes it.
pub(crate) fn write_json(out: &mut String, v: &Json) {
    match v {
        Json::Number(n) => js_number(out, n),
        Json::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, x);
            }
            out.push(']');
        }
        Json::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push(':');
                write_json(out, x);
            }
            out.push('}');
        }
        other => out.push_str(&serde_json::to_string(other).unwrap_or_default()),
    }
}

/// JSON text from the database without its whitespace and with numbers as JavaScript writes
/// them, keys in the stored order.
pub(crate) fn compact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                let mut escaped = false;
                for (_, c) in chars.by_ref() {
                    out.push(c);
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                }
            }
            c if c.is_whitespace() => {}
            '-' | '0'..='9' => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, d)) = chars.peek() {
                    if d.is_ascii_digit() || matches!(d, '.' | 'e' | 'E' | '+' | '-') {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                let token = &text[i..end];
                match token.parse::<i64>() {
                    Ok(n) if n.unsigned_abs() < 9_007_199_254_740_992 => out.push_str(&n.to_string()),
                    _ => js_float(&mut out, token.parse::<f64>().unwrap_or(f64::NAN)),
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// A query-string value for `f` (filters, path ids, cursors), as the TypeScript server's
/// `parseParam` reads it; `Err` says what was expected.
pub(crate) fn parse_param(schema: &Schema, dialect: Dialect, f: &Field, raw: &str) -> Result<Param, String> {
    let int = |s: &str| {
        let d = s.strip_prefix('-').unwrap_or(s);
        !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
    };
    match f.ty.as_str() {
        "String" => {
            if f.uuid && !crate::validate::is_uuid(raw) {
                return Err("expected a UUID".into());
            }
            Ok(Param::Text(raw.to_owned()))
        }
        "Int" => {
            if !int(raw) {
                return Err("expected an integer".into());
            }
            match raw.parse::<i32>() {
                Ok(n) => Ok(Param::Int(n.into())),
                Err(_) => Err("expected a 32-bit integer".into()),
            }
        }
        "BigInt" => {
            if !int(raw) {
                return Err("expected an integer".into());
            }
            raw.parse::<i64>().map(Param::Int).map_err(|_| "expected a 64-bit integer".into())
        }
        "Float" => match raw.trim().parse::<f64>() {
            Ok(n) if n.is_finite() && !raw.trim().is_empty() => Ok(Param::Float(n)),
            _ => Err("expected a number".into()),
        },
        "Decimal" => {
            let (i, frac) = raw.split_once('.').unwrap_or((raw, "0"));
            if !int(i) || frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return Err("expected a decimal number".into());
            }
            Ok(Param::Text(raw.to_owned()))
        }
        "Boolean" => match raw {
            "true" => Ok(Param::Bool(true)),
            "false" => Ok(Param::Bool(false)),
            _ => Err("expected true or false".into()),
        },
        "DateTime" => {
            let full = if raw.len() == 10 && chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").is_ok() {
                format!("{raw}T00:00:00Z")
            } else {
                raw.to_owned()
            };
            let strict = full.len() >= 20 && full.as_bytes().get(10) == Some(&b'T');
            match DateTime::parse_from_rfc3339(&full) {
                Ok(dt) if strict => Ok(datetime_param(dialect, dt.with_timezone(&Utc))),
                _ => Err("expected an RFC 3339 date-time".into()),
            }
        }
        "Bytes" => base64::engine::general_purpose::STANDARD.decode(raw).map(Param::Bytes).map_err(|_| "expected base64".into()),
        "enum" => {
            let values = f.enum_values.as_deref().unwrap_or_default();
            if !values.iter().any(|v| v == raw) {
                return Err(format!("expected one of {}", values.join(", ")));
            }
            Ok(Param::Text(enum_stored(schema, f, raw)))
        }
        _ => Err("this field cannot be filtered".into()),
    }
}

/// A DateTime as a parameter: the text each database compares and stores it as (SQLite holds
/// Prisma's `2024-01-31T09:30:00.000+00:00`).
pub(crate) fn datetime_param(dialect: Dialect, dt: DateTime<Utc>) -> Param {
    match dialect {
        Dialect::Postgres => Param::Text(dt.to_rfc3339_opts(SecondsFormat::Millis, true)),
        Dialect::Sqlite => Param::Text(dt.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string()),
    }
}

/// A checked input value (wire JSON) of `f` as a parameter.
pub(crate) fn input_param(schema: &Schema, dialect: Dialect, f: &Field, v: &Json) -> Result<Param, String> {
    if v.is_null() {
        return Ok(Param::Null);
    }
    if f.list || f.ty == "Json" {
        return Ok(Param::Text(serde_json::to_string(v).map_err(|e| e.to_string())?));
    }
    Ok(match (f.ty.as_str(), v) {
        ("Boolean", Json::Bool(b)) => Param::Bool(*b),
        ("Int", Json::Number(n)) => Param::Int(n.as_i64().ok_or("expected an integer")?),
        ("Float", Json::Number(n)) => Param::Float(n.as_f64().ok_or("expected a number")?),
        ("BigInt", Json::String(s)) => Param::Int(s.parse().map_err(|_| "expected a 64-bit integer")?),
        ("BigInt", Json::Number(n)) => Param::Int(n.as_i64().ok_or("expected an integer")?),
        ("DateTime", Json::String(s)) => {
            datetime_param(dialect, DateTime::parse_from_rfc3339(s).map_err(|_| "expected an RFC 3339 date-time")?.with_timezone(&Utc))
        }
        ("Bytes", Json::String(s)) => Param::Bytes(base64::engine::general_purpose::STANDARD.decode(s).map_err(|_| "expected base64")?),
        ("enum", Json::String(s)) => Param::Text(enum_stored(schema, f, s)),
        (_, Json::String(s)) => Param::Text(s.clone()),
        (_, Json::Number(n)) => Param::Float(n.as_f64().unwrap_or_default()),
        (_, Json::Bool(b)) => Param::Bool(*b),
        _ => return Err("a value of the wrong type".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_keeps_key_order_and_writes_numbers_as_javascript() {
        assert_eq!(
            compact(r#"{"b": 1.0, "a": [1e2, -0, 0.5, 12345678901234567890], "s": "x \" y, 1.0"}"#),
            r#"{"b":1,"a":[100,0,0.5,12345678901234567000],"s":"x \" y, 1.0"}"#
        );
    }

    #[test]
    fn decimals_lose_trailing_zeros_as_decimal_js_writes_them() {
        assert_eq!(decimal_text("12.50").as_deref(), Some("12.5"));
        assert_eq!(decimal_text("100").as_deref(), Some("100"));
        assert_eq!(decimal_text("0.000").as_deref(), Some("0"));
        assert_eq!(decimal_text("1e-7").as_deref(), Some("0.0000001"));
    }

    #[test]
    fn datetimes_read_every_stored_form() {
        for s in ["2024-01-31T09:30:00.120+00:00", "2024-01-31 09:30:00.12", "1706693400120"] {
            let dt = parse_datetime_text(s).unwrap();
            assert_eq!(iso(dt).unwrap(), Json::String("2024-01-31T09:30:00.120Z".into()), "{s}");
        }
        assert!(iso(datetime_from_millis(253_402_300_800_000).unwrap()).is_err(), "year 10000");
    }
}
