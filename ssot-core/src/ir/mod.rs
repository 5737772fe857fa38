//! The intermediate representation every generator reads.
//!
//! It is built once from the validated schema (see [`crate::frontend`]) and the annotations
//! (see [`crate::annotations`]); generators never look at Prisma's types. It serializes with
//! serde so tests can snapshot it. Spans are kept for diagnostics but left out of snapshots.

pub mod annotations;
pub mod policy;

use crate::diagnostics::Span;
use annotations::{FieldAnnotations, ModelAnnotations};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Ir {
    /// Datasource provider as written (`postgresql`, `mysql`, `sqlite`, `sqlserver`,
    /// `cockroachdb`, `mongodb`).
    pub provider: String,
    pub models: Vec<Model>,
    pub enums: Vec<Enum>,
    pub composite_types: Vec<CompositeType>,
    /// Schema items that get no API, with the reason.
    pub skipped: Vec<Skipped>,
    /// The schema as the generated server's Prisma 7 client is built from it: every file
    /// without its `generator` blocks and datasource URLs (ssot writes its own generator and
    /// `prisma.config.ts`). Left out of snapshots.
    #[serde(skip)]
    pub prisma_files: Vec<PrismaFile>,
    /// `previewFeatures` of the schema's client generator, kept in the generated one.
    #[serde(skip)]
    pub preview_features: Vec<String>,
}

/// One schema file as the generated tree carries it.
#[derive(Debug, Clone, Default)]
pub struct PrismaFile {
    /// The file name (no folders), unique within the schema.
    pub name: String,
    pub text: String,
}

impl Ir {
    pub fn model(&self, name: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.name == name)
    }

    pub fn enum_(&self, name: &str) -> Option<&Enum> {
        self.enums.iter().find(|e| e.name == name)
    }

    pub fn composite_type(&self, name: &str) -> Option<&CompositeType> {
        self.composite_types.iter().find(|c| c.name == name)
    }

    /// Models and views that get generated items (not `@@ignore`d).
    pub fn api_models(&self) -> impl Iterator<Item = &Model> {
        self.models.iter().filter(|m| !m.ignored)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    Model,
    View,
}

#[derive(Debug, Clone, Serialize)]
pub struct Model {
    pub name: String,
    pub kind: ModelKind,
    /// `@@map` name, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_name: Option<String>,
    /// `@@schema` name, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documentation: Option<String>,
    pub fields: Vec<Field>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<PrimaryKey>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub uniques: Vec<Unique>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ignored: bool,
    pub annotations: ModelAnnotations,
    #[serde(skip)]
    pub span: Span,
}

impl Model {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Scalar, enum and composite fields that exist in the database (not relations, not
    /// `Unsupported`, not `@ignore`d).
    pub fn data_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| f.is_data())
    }

    /// Fields a row carries in responses and events.
    pub fn output_fields(&self) -> impl Iterator<Item = &Field> {
        self.data_fields().filter(|f| f.annotations.in_output())
    }

    /// Fields a create input accepts. Ids with a default (`autoincrement()`, `uuid()`, ...) are
    /// the server's to choose unless the field says `@writable(...)`: a client that picks the next
    /// id blocks everyone else's creates and probes for rows it cannot see.
    pub fn create_fields(&self) -> impl Iterator<Item = &Field> {
        let ids = self.id_fields();
        self.data_fields().filter(move |f| {
            let server_id = ids.contains(&f.name.as_str()) && f.default.is_some() && f.annotations.writable.is_none();
            f.annotations.in_input() && !server_id
        })
    }

    /// Fields an update input accepts: those of create, less ids and `@updatedAt`.
    pub fn update_fields(&self) -> impl Iterator<Item = &Field> {
        self.create_fields().filter(|f| !f.id && !f.updated_at)
    }

    pub fn relation_fields(&self) -> impl Iterator<Item = (&Field, &Relation)> {
        self.fields.iter().filter(|f| !f.ignored).filter_map(|f| match &f.ty {
            FieldType::Relation(r) => Some((f, r)),
            _ => None,
        })
    }

    /// The fields that identify a row: the primary key, else the first unique criterion.
    pub fn id_fields(&self) -> Vec<&str> {
        if let Some(pk) = &self.primary_key {
            return pk.fields.iter().map(String::as_str).collect();
        }
        self.uniques.first().map(|u| u.fields.iter().map(String::as_str).collect()).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PrimaryKey {
    pub fields: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Unique {
    pub fields: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arity {
    Required,
    Optional,
    List,
}

#[derive(Debug, Clone, Serialize)]
pub struct Field {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_name: Option<String>,
    #[serde(rename = "type")]
    pub ty: FieldType,
    pub arity: Arity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<DefaultValue>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub updated_at: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unique: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub id: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ignored: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native_type: Option<NativeType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documentation: Option<String>,
    pub annotations: FieldAnnotations,
    #[serde(skip)]
    pub span: Span,
}

impl Field {
    pub fn is_optional(&self) -> bool {
        self.arity == Arity::Optional
    }

    pub fn is_list(&self) -> bool {
        self.arity == Arity::List
    }

    /// A field with a column of its own that the API carries.
    pub fn is_data(&self) -> bool {
        !self.ignored && matches!(self.ty, FieldType::Scalar(_) | FieldType::Enum(_) | FieldType::Composite(_))
    }

    pub fn relation(&self) -> Option<&Relation> {
        match &self.ty {
            FieldType::Relation(r) => Some(r),
            _ => None,
        }
    }

    /// True when the database fills the field in on create (a default, `@updatedAt`).
    pub fn has_server_value(&self) -> bool {
        self.default.is_some() || self.updated_at
    }

    /// A create input may leave the field out: it has a default or `@updatedAt`, is optional,
    /// or is a list. (Every field of an update input may be left out.)
    pub fn optional_in_create(&self) -> bool {
        self.is_list() || self.is_optional() || self.has_server_value()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "lowercase")]
pub enum FieldType {
    Scalar(ScalarType),
    Enum(String),
    Composite(String),
    Relation(Relation),
    Unsupported(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ScalarType {
    String,
    Int,
    BigInt,
    Float,
    Decimal,
    Boolean,
    DateTime,
    Json,
    Bytes,
}

impl ScalarType {
    pub fn as_str(self) -> &'static str {
        match self {
            ScalarType::String => "String",
            ScalarType::Int => "Int",
            ScalarType::BigInt => "BigInt",
            ScalarType::Float => "Float",
            ScalarType::Decimal => "Decimal",
            ScalarType::Boolean => "Boolean",
            ScalarType::DateTime => "DateTime",
            ScalarType::Json => "Json",
            ScalarType::Bytes => "Bytes",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "String" => ScalarType::String,
            "Int" => ScalarType::Int,
            "BigInt" => ScalarType::BigInt,
            "Float" => ScalarType::Float,
            "Decimal" => ScalarType::Decimal,
            "Boolean" => ScalarType::Boolean,
            "DateTime" => ScalarType::DateTime,
            "Json" => ScalarType::Json,
            "Bytes" => ScalarType::Bytes,
            _ => return None,
        })
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, ScalarType::Int | ScalarType::BigInt | ScalarType::Float | ScalarType::Decimal)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RelationKind {
    /// This side holds the foreign key of a 1:1 relation, or is the back side of one.
    OneToOne,
    /// This side is the "many" of a 1:N relation, holding the foreign key.
    ManyToOne,
    /// This side is the list of a 1:N relation.
    OneToMany,
    /// An implicit m:n relation (Prisma manages the join table).
    ManyToMany,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Relation {
    /// The related model.
    pub model: String,
    pub name: String,
    pub kind: RelationKind,
    /// Foreign-key fields on this model (empty on the back side and for m:n).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// Referenced fields on the related model.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// The field on the related model that points back, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opposite: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_delete: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_update: Option<String>,
}

impl Relation {
    pub fn is_to_many(&self) -> bool {
        matches!(self.kind, RelationKind::OneToMany | RelationKind::ManyToMany)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "camelCase")]
pub enum DefaultValue {
    Autoincrement,
    Now,
    /// `uuid()` (version 4) or `uuid(7)`.
    Uuid(Option<u32>),
    /// `cuid()` (version 1) or `cuid(2)`.
    Cuid(Option<u32>),
    Ulid,
    /// `nanoid()` (21 characters) or `nanoid(n)`.
    Nanoid(Option<u32>),
    /// MongoDB `auto()`.
    Auto,
    /// CockroachDB `sequence()`.
    Sequence,
    DbGenerated(Option<String>),
    Value(Literal),
}

/// A literal as written in the schema (defaults, annotation arguments).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Literal {
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    /// An enum value or other bare identifier.
    Ident(Ident),
    List(Vec<Literal>),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ident {
    pub ident: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NativeType {
    pub name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Enum {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_name: Option<String>,
    /// `@@schema` name, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documentation: Option<String>,
    pub values: Vec<EnumValue>,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnumValue {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documentation: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CompositeType {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documentation: Option<String>,
    pub fields: Vec<Field>,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Skipped {
    /// `Model` or `Model.field`.
    pub item: String,
    pub reason: String,
}
