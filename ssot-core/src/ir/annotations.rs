//! What the annotations of a model or field say, once parsed and checked (the checker in
//! `crate::annotations` produces these; every generator reads them).

use super::policy::Expr;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AuthMethod {
    Jwt,
    ApiKey,
    Public,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Jwt => "jwt",
            AuthMethod::ApiKey => "apiKey",
            AuthMethod::Public => "public",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RealtimeEvent {
    Created,
    Updated,
    Deleted,
}

/// A checked policy expression and the text it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    pub source: String,
    pub expr: Expr,
}

/// `@@policy`: `None` for an operation means denied (fail closed).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Policy {
    pub read: Option<Rule>,
    pub create: Option<Rule>,
    pub update: Option<Rule>,
    pub delete: Option<Rule>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    pub plugin: String,
    pub options: std::collections::BTreeMap<String, serde_json::Value>,
    /// The plugin's name in the annotation, for diagnostics.
    #[serde(skip)]
    pub span: crate::diagnostics::Span,
    /// Each option's key and value, for diagnostics.
    #[serde(skip)]
    pub option_spans: std::collections::BTreeMap<String, (crate::diagnostics::Span, crate::diagnostics::Span)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateLimit {
    pub limit: u32,
    pub window_seconds: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expose {
    pub api: bool,
    pub ui: bool,
    /// `@@expose(path: "people")`: the URL segment under `/api/` instead of the plural.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Default for Expose {
    fn default() -> Self {
        Expose { api: true, ui: true, path: None }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelAnnotations {
    /// `@@auth`; `None` means the config default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<Vec<AuthMethod>>,
    /// `@@policy`; `None` means no row-level security (open to whoever passes `@@auth`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<Policy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realtime: Option<Vec<RealtimeEvent>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    pub expose: Expose,
    /// `@deprecated <reason>` (JSDoc's tag, understood): TSDoc, `#[deprecated]`, OpenAPI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<String>,
}

/// One `@validate` rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "rule", content = "value", rename_all = "camelCase")]
pub enum ValidateRule {
    Email,
    Url,
    Uuid,
    NonEmpty,
    Regex(String),
    MinLength(u32),
    MaxLength(u32),
    Min(f64),
    Max(f64),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FieldAnnotations {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub validate: Vec<ValidateRule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readable: Option<Rule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub writable: Option<Rule>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub write_only: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
    /// `@deprecated <reason>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<String>,
}

impl FieldAnnotations {
    /// Present in responses and events.
    pub fn in_output(&self) -> bool {
        !self.hidden && !self.write_only
    }

    /// Accepted in create/update inputs.
    pub fn in_input(&self) -> bool {
        !self.hidden && !self.read_only
    }

    /// The annotation that keeps the field from some callers (`@hidden`, `@writeOnly`,
    /// `@readable`), if any.
    pub fn masked_by(&self) -> Option<&'static str> {
        if self.hidden {
            Some("@hidden")
        } else if self.write_only {
            Some("@writeOnly")
        } else if self.readable.is_some() {
            Some("@readable")
        } else {
            None
        }
    }
}
