//! Wire-format test vectors built from the IR: JSON values, valid and invalid, for every model
//! and input type of a fixture, including edge values. Rust (`tests/wire.rs`) and Zod
//! (`tests/ts/wire.test.ts`) must reach the same verdict on each, and what Rust writes for a
//! valid vector must survive Zod unchanged.

use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use ssot_core::annotations::ValidateRule;
use ssot_core::annotations::pattern::for_rust;
use ssot_core::ir::{Arity, Field, FieldType, Ir, Model, ModelKind, ScalarType};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vector {
    pub model: String,
    /// `model` (a row as the API returns it), `create` or `update`.
    pub kind: String,
    /// The generated Zod schema that validates it.
    pub schema: String,
    pub valid: bool,
    /// What the vector tests.
    pub why: String,
    /// The JSON text.
    pub json: String,
    /// For valid vectors: what the Rust types serialize the value to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rust: Option<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Model,
    Create,
    Update,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Model => "model",
            Kind::Create => "create",
            Kind::Update => "update",
        }
    }
}

/// Every vector of a schema, in a stable order.
pub fn generate(ir: &Ir) -> Vec<Vector> {
    let mut out = Vec::new();
    for m in ir.api_models() {
        let kinds: &[Kind] = if m.kind == ModelKind::Model { &[Kind::Model, Kind::Create, Kind::Update] } else { &[Kind::Model] };
        for &kind in kinds {
            Gen { ir, model: m, kind, out: &mut out }.run();
        }
    }
    out
}

struct Gen<'a> {
    ir: &'a Ir,
    model: &'a Model,
    kind: Kind,
    out: &'a mut Vec<Vector>,
}

/// How a field may be left out or set to null in this kind.
#[derive(Clone, Copy)]
struct Presence {
    may_be_absent: bool,
    may_be_null: bool,
}

impl<'a> Gen<'a> {
    fn fields(&self) -> Vec<&'a Field> {
        let m = self.model;
        match self.kind {
            Kind::Model => m.output_fields().collect(),
            Kind::Create => m.create_fields().collect(),
            Kind::Update => m.update_fields().collect(),
        }
    }

    fn presence(&self, f: &Field) -> Presence {
        match self.kind {
            Kind::Model => Presence { may_be_absent: f.annotations.readable.is_some(), may_be_null: f.is_optional() },
            Kind::Create => Presence { may_be_absent: f.optional_in_create(), may_be_null: f.is_optional() },
            Kind::Update => Presence { may_be_absent: true, may_be_null: f.is_optional() },
        }
    }

    fn rules(&self, f: &Field) -> &'a [ValidateRule] {
        if self.kind == Kind::Model { &[] } else { self.model.field(&f.name).map(|x| x.annotations.validate.as_slice()).unwrap_or(&[]) }
    }

    fn push(&mut self, valid: bool, why: String, pairs: &[(String, String)]) {
        let body: Vec<String> = pairs.iter().map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap())).collect();
        let suffix = match self.kind {
            Kind::Model => "",
            Kind::Create => "CreateInput",
            Kind::Update => "UpdateInput",
        };
        self.out.push(Vector {
            model: self.model.name.clone(),
            kind: self.kind.name().into(),
            schema: format!("{}{suffix}Schema", ssot_core::names::ts_type(&self.model.name)),
            valid,
            why,
            json: format!("{{{}}}", body.join(",")),
            rust: None,
        });
    }

    fn base(&self, variant: usize) -> Vec<(String, String)> {
        self.fields().iter().map(|f| (f.name.clone(), self.valid_value(f, variant))).collect()
    }

    fn run(&mut self) {
        let fields = self.fields();
        let full = self.base(0);
        self.push(true, "every field with a typical value".into(), &full);
        self.push(true, "every field with a second value".into(), &self.base(1));
        // Nulls and absences where allowed.
        let minimal: Vec<(String, String)> = fields
            .iter()
            .filter(|f| !self.presence(f).may_be_absent)
            .map(|f| (f.name.clone(), if self.presence(f).may_be_null { "null".into() } else { self.valid_value(f, 0) }))
            .collect();
        self.push(true, "only what must be present; null where allowed".into(), &minimal);
        let with_unknown = {
            let mut v = full.clone();
            v.push(("notAField".into(), "1".into()));
            v
        };
        let unknown_ok = self.kind == Kind::Model;
        self.push(
            unknown_ok,
            format!("an unknown key ({})", if unknown_ok { "ignored in rows" } else { "rejected in inputs" }),
            &with_unknown,
        );

        for f in &fields {
            let p = self.presence(f);
            let idx = full.iter().position(|(k, _)| *k == f.name).unwrap_or(0);
            let with = |v: String| {
                let mut x = full.clone();
                x[idx].1 = v;
                x
            };
            if !p.may_be_absent {
                let mut x = full.clone();
                x.remove(idx);
                self.push(false, format!("`{}` missing", f.name), &x);
            }
            let json_is_null_ok = matches!(f.ty, FieldType::Scalar(ScalarType::Json)) && !f.is_list();
            self.push(p.may_be_null || json_is_null_ok, format!("`{}` null", f.name), &with("null".into()));
            for (valid, why, v) in self.edge_values(f) {
                self.push(valid, format!("`{}` {why}", f.name), &with(v));
            }
        }
    }

    /// A valid value of the field; `variant` picks one of two.
    fn valid_value(&self, f: &Field, variant: usize) -> String {
        if f.is_list() {
            let rules = self.rules(f);
            let non_empty = rules.contains(&ValidateRule::NonEmpty);
            return if variant == 0 || non_empty { format!("[{},{}]", self.one_value(f, 0), self.one_value(f, 1)) } else { "[]".into() };
        }
        self.one_value(f, variant)
    }

    fn one_value(&self, f: &Field, variant: usize) -> String {
        let rules = self.rules(f);
        match &f.ty {
            FieldType::Scalar(s) => match s {
                ScalarType::String => string_value(rules, variant),
                ScalarType::Int => number_value(rules, ["2147483647", "-2147483648"][variant], true),
                ScalarType::Float => number_value(rules, ["1.5", "-0.000001"][variant], false),
                ScalarType::BigInt => {
                    let v = exact_value(rules, ["9223372036854775807", "-9007199254740993"][variant]);
                    format!("\"{v}\"")
                }
                ScalarType::Decimal => {
                    let v = exact_value(rules, ["12.50", "-0.001"][variant]);
                    format!("\"{v}\"")
                }
                ScalarType::Boolean => ["true", "false"][variant].into(),
                ScalarType::DateTime => ["\"2024-01-31T09:30:00.123Z\"", "\"1970-01-01T00:00:00.000Z\""][variant].into(),
                ScalarType::Json => ["{\"a\":[1,2.5,null,true,\"x\"],\"b\":{}}", "[]"][variant].into(),
                ScalarType::Bytes => ["\"AAECAw==\"", "\"\""][variant].into(),
            },
            FieldType::Enum(e) => {
                let e = self.ir.enum_(e).expect("enum of the schema");
                serde_json::to_string(&e.values[variant % e.values.len()].name).unwrap()
            }
            FieldType::Composite(c) => {
                let ct = self.ir.composite_type(c).expect("type of the schema");
                let parts: Vec<String> = ct
                    .fields
                    .iter()
                    .filter(|x| x.is_data())
                    .map(|x| {
                        let v = if x.is_list() {
                            if variant == 0 { format!("[{}]", self.one_value(x, 0)) } else { "[]".into() }
                        } else if x.arity == Arity::Optional && variant == 1 {
                            "null".into()
                        } else {
                            self.one_value(x, variant)
                        };
                        format!("{}:{v}", serde_json::to_string(&x.name).unwrap())
                    })
                    .collect();
                format!("{{{}}}", parts.join(","))
            }
            _ => "null".into(),
        }
    }

    /// (valid?, why, value) for one field.
    fn edge_values(&self, f: &Field) -> Vec<(bool, String, String)> {
        let mut v: Vec<(bool, String, String)> = Vec::new();
        let mut add = |ok: bool, why: &str, val: &str| v.push((ok, why.to_owned(), val.to_owned()));
        if f.is_list() {
            add(false, "not a list", &self.one_value(f, 0));
            add(false, "with a null item", "[null]");
            if self.rules(f).contains(&ValidateRule::NonEmpty) {
                add(false, "empty, but @validate(nonEmpty)", "[]");
            } else {
                add(true, "empty", "[]");
            }
            return v;
        }
        let rules = self.rules(f);
        let plain = rules.is_empty();
        match &f.ty {
            FieldType::Scalar(ScalarType::String) => {
                add(false, "a number", "42");
                if plain {
                    add(true, "empty", "\"\"");
                    add(true, "unicode and escapes", "\"é\\u00e9 😀 \\ud83d\\ude00 \\\"q\\\" \\\\ \\n\\t\\u0001 \u{2028}\"");
                }
                for r in rules {
                    match r {
                        ValidateRule::Email => {
                            add(false, "not an email", "\"not-an-email\"");
                            add(false, "an email starting with a dot", "\".a@example.com\"");
                            add(false, "an email with two dots", "\"a..b@example.com\"");
                        }
                        ValidateRule::Url => {
                            add(false, "not a URL", "\"not a url\"");
                            add(false, "a URL without scheme", "\"example.com/x\"");
                        }
                        ValidateRule::Uuid => {
                            add(false, "not a UUID", "\"123\"");
                            add(false, "a UUID of version 9", "\"123e4567-e89b-92d3-a456-426614174000\"");
                            add(true, "the nil UUID", "\"00000000-0000-0000-0000-000000000000\"");
                        }
                        ValidateRule::Regex(re) => {
                            let compiled = regex::Regex::new(&for_rust(re)).expect("checked");
                            // Including non-ASCII letters and digits, which `\w` and `\d` match in
                            // Unicode-aware engines but not in JavaScript.
                            for bad in ["", "!", " ", "A", "0", "-", "a b", "ü", "é1", "٣"].iter().filter(|s| !compiled.is_match(s)) {
                                add(false, &format!("{bad:?} not matching the pattern"), &serde_json::to_string(bad).unwrap());
                            }
                        }
                        ValidateRule::MinLength(n) if *n > 0 => {
                            // UTF-16 units: an emoji counts two.
                            let s = "😀".repeat((*n as usize - 1) / 2) + if (*n as usize - 1) % 2 == 1 { "a" } else { "" };
                            if fits_other_rules(rules, &s) {
                                add(false, "one unit shorter than minLength (emoji count two)", &serde_json::to_string(&s).unwrap());
                            }
                        }
                        ValidateRule::MaxLength(n) => {
                            let s = "a".repeat(*n as usize) + "😀";
                            add(false, "over maxLength", &serde_json::to_string(&s).unwrap());
                        }
                        ValidateRule::NonEmpty => add(false, "empty, but @validate(nonEmpty)", "\"\""),
                        _ => {}
                    }
                }
            }
            FieldType::Scalar(ScalarType::Int) => {
                add(false, "2^31", "2147483648");
                add(false, "-2^31 - 1", "-2147483649");
                add(false, "a fraction", "1.5");
                add(false, "a string", "\"1\"");
                if plain {
                    add(true, "written 1e3", "1e3");
                    add(true, "written 7.0", "7.0");
                    add(true, "negative zero", "-0");
                }
                bounds(rules, &mut add, |n| format!("{n}"));
            }
            FieldType::Scalar(ScalarType::Float) => {
                add(false, "a string", "\"1.5\"");
                add(false, "a boolean", "true");
                add(false, "too large for a double", "1e400");
                if plain {
                    for n in ["0.1", "1e-7", "1.5e300", "123456789012345680000", "1e21", "-0", "5e-324"] {
                        add(true, &format!("{n} (number formatting)"), n);
                    }
                }
                bounds(rules, &mut add, |n| format!("{n}"));
            }
            FieldType::Scalar(ScalarType::BigInt) => {
                add(false, "a number", "12");
                for (bad, why) in [
                    ("01", "a leading zero"),
                    ("+1", "a plus sign"),
                    ("-0", "negative zero"),
                    ("9223372036854775808", "2^63"),
                    ("1.0", "a fraction"),
                    ("1e3", "an exponent"),
                    ("", "empty"),
                ] {
                    add(false, why, &format!("\"{bad}\""));
                }
                if plain {
                    add(true, "-2^63", "\"-9223372036854775808\"");
                    add(true, "zero", "\"0\"");
                }
                bounds(rules, &mut add, |n| format!("\"{}\"", n as i128));
            }
            FieldType::Scalar(ScalarType::Decimal) => {
                add(false, "a number", "1.5");
                for (bad, why) in [
                    ("1e5", "an exponent"),
                    ("1.", "a dot without digits"),
                    (".5", "no integer digits"),
                    ("01.5", "a leading zero"),
                    ("79228162514264337593543950336", "a mantissa of 2^96"),
                    ("0.00000000000000000000000000001", "29 fraction digits"),
                ] {
                    add(false, why, &format!("\"{bad}\""));
                }
                if plain {
                    add(true, "the largest mantissa", "\"79228162514264337593543950335\"");
                    add(true, "28 fraction digits", "\"0.0000000000000000000000000001\"");
                    add(true, "negative zero", "\"-0\"");
                }
            }
            FieldType::Scalar(ScalarType::Boolean) => {
                add(false, "a string", "\"true\"");
                add(false, "a number", "1");
            }
            FieldType::Scalar(ScalarType::DateTime) => {
                for (ok, val, why) in [
                    (true, "2024-01-31T10:30:00+01:00", "with an offset"),
                    (true, "2024-01-31T10:30:00.123456789-05:30", "with nanoseconds and a negative offset"),
                    (true, "2024-02-29T23:59:59Z", "a leap day"),
                    (false, "2024-01-31", "a date only"),
                    (false, "2024-01-31 10:30:00Z", "a space for T"),
                    (false, "2024-01-31t10:30:00z", "lowercase t and z"),
                    (false, "2024-01-31T10:30:00", "no offset"),
                    (false, "2023-02-29T00:00:00Z", "February 29th of a common year"),
                    (false, "2024-01-31T24:00:00Z", "hour 24"),
                    (false, "2016-12-31T23:59:60Z", "a leap second"),
                    (false, "2024-01-31T10:30Z", "no seconds"),
                    (false, "2024-01-31T10:30:00+24:00", "an offset of 24 hours"),
                ] {
                    add(ok, why, &format!("\"{val}\""));
                }
                add(false, "a number", "0");
            }
            FieldType::Scalar(ScalarType::Json) => {
                add(true, "a string", "\"x\"");
                add(true, "a large integer (JavaScript rounds it)", "9007199254740993");
                add(true, "nested values", "{\"n\":[1e21,0.1,-0,{\"x\":null}]}");
            }
            FieldType::Scalar(ScalarType::Bytes) => {
                add(false, "no padding", "\"AAE\"");
                add(false, "too much padding", "\"A===\"");
                add(false, "not base64", "\"!!!!\"");
                add(false, "a number", "5");
                add(true, "non-zero trailing bits", "\"AB==\"");
            }
            FieldType::Enum(e) => {
                let e = self.ir.enum_(e).expect("enum of the schema");
                add(false, "not a value of the enum", "\"NOT_A_VALUE\"");
                let lower = e.values[0].name.to_lowercase();
                if e.values.iter().all(|x| x.name != lower) {
                    add(false, "a value in the wrong case", &serde_json::to_string(&lower).unwrap());
                }
            }
            FieldType::Composite(_) => {
                add(false, "a string", "\"x\"");
                add(false, "an empty object", "{}");
            }
            _ => {}
        }
        v
    }
}

fn bounds(rules: &[ValidateRule], add: &mut impl FnMut(bool, &str, &str), fmt: impl Fn(f64) -> String) {
    for r in rules {
        match r {
            ValidateRule::Min(n) => {
                add(true, "at min", &fmt(n.ceil()));
                add(false, "below min", &fmt(n.ceil() - 1.0));
            }
            ValidateRule::Max(n) => {
                add(true, "at max", &fmt(n.floor()));
                add(false, "above max", &fmt(n.floor() + 1.0));
            }
            _ => {}
        }
    }
}

fn fits_other_rules(rules: &[ValidateRule], s: &str) -> bool {
    rules.iter().all(|r| match r {
        ValidateRule::Regex(re) => regex::Regex::new(&for_rust(re)).is_ok_and(|c| c.is_match(s)),
        ValidateRule::Email | ValidateRule::Url | ValidateRule::Uuid => false,
        _ => true,
    })
}

fn js_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// A string that passes every rule.
fn string_value(rules: &[ValidateRule], variant: usize) -> String {
    let min = rules.iter().find_map(|r| if let ValidateRule::MinLength(n) = r { Some(*n as usize) } else { None });
    let max = rules.iter().find_map(|r| if let ValidateRule::MaxLength(n) = r { Some(*n as usize) } else { None });
    let non_empty = rules.contains(&ValidateRule::NonEmpty);
    let lo = min.unwrap_or(0).max(usize::from(non_empty));
    let ok_len = |s: &str| js_len(s) >= lo && max.is_none_or(|m| js_len(s) <= m);
    let pick = |candidates: &[&str]| candidates.iter().find(|c| ok_len(c)).map(|c| (*c).to_owned());
    let s = if rules.contains(&ValidateRule::Email) {
        pick(&["first.last+tag@example.com", "a@example.co"])
    } else if rules.contains(&ValidateRule::Url) {
        pick(&["https://example.com/a?b=c#d", "http://localhost:3000/"])
    } else if rules.contains(&ValidateRule::Uuid) {
        pick(&["123e4567-e89b-12d3-a456-426614174000", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"])
    } else if let Some(re) = rules.iter().find_map(|r| if let ValidateRule::Regex(re) = r { Some(re) } else { None }) {
        let compiled = regex::Regex::new(&for_rust(re)).expect("checked");
        // rand_regex samples unanchored patterns; the anchors only make the match whole.
        let body = re.strip_prefix('^').unwrap_or(re);
        let body = if body.ends_with('$') && !body.ends_with("\\$") { &body[..body.len() - 1] } else { body };
        rand_regex::Regex::compile(&for_rust(body), 8).ok().and_then(|sampler| {
            let mut rng = rand::rngs::StdRng::seed_from_u64(variant as u64 + 1);
            (0..500)
                .map(|_| rand::RngExt::sample::<String, _>(&mut rng, &sampler))
                .find(|s| ok_len(s) && compiled.is_match(s) && s.is_ascii())
        })
    } else {
        let base = ["héllo \"wörld\" 😀", "plain"][variant];
        Some(if ok_len(base) { base.to_owned() } else { "a".repeat(lo.max(1).min(max.unwrap_or(usize::MAX))) })
    };
    serde_json::to_string(&s.unwrap_or_else(|| "a".repeat(lo))).unwrap()
}

/// The `min` and `max` bounds among the rules.
fn min_max(rules: &[ValidateRule]) -> (Option<f64>, Option<f64>) {
    let min = rules.iter().find_map(|r| if let ValidateRule::Min(n) = r { Some(*n) } else { None });
    let max = rules.iter().find_map(|r| if let ValidateRule::Max(n) = r { Some(*n) } else { None });
    (min, max)
}

fn number_value(rules: &[ValidateRule], default: &str, integer: bool) -> String {
    let (min, max) = min_max(rules);
    if min.is_none() && max.is_none() {
        return default.to_owned();
    }
    let v = match (min, max) {
        (Some(lo), _) => lo.ceil(),
        (None, Some(hi)) => hi.floor(),
        _ => 0.0,
    };
    if integer || v.fract() == 0.0 { format!("{}", v as i64) } else { format!("{v}") }
}

fn exact_value(rules: &[ValidateRule], default: &str) -> String {
    match min_max(rules) {
        (Some(lo), _) => format!("{}", lo.ceil() as i128),
        (None, Some(hi)) => format!("{}", hi.floor() as i128),
        _ => default.to_owned(),
    }
}
