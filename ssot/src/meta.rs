//! Model metadata as consts, for generic code over generated models (routers, admin tools).

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Scalar,
    Enum,
    Composite,
    Relation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelationMeta {
    /// The related model.
    pub model: &'static str,
    /// Prisma's relation name.
    pub name: &'static str,
    /// Foreign-key fields on this side (empty on the back side and for m:n).
    pub fields: &'static [&'static str],
    pub references: &'static [&'static str],
    pub to_many: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldMeta {
    /// The JSON key: the Prisma field name.
    pub name: &'static str,
    /// The Rust field name.
    pub rust_name: &'static str,
    /// The column name (`@map`, else the field name).
    pub db_name: &'static str,
    /// `String`, `Int`, ..., or the enum, composite or related model name.
    pub type_name: &'static str,
    pub kind: FieldKind,
    pub optional: bool,
    pub list: bool,
    pub id: bool,
    pub unique: bool,
    pub has_default: bool,
    pub updated_at: bool,
    pub read_only: bool,
    pub write_only: bool,
    pub hidden: bool,
    pub relation: Option<RelationMeta>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelMeta {
    pub name: &'static str,
    /// The table (`@@map`, else the model name).
    pub db_name: &'static str,
    pub is_view: bool,
    /// Fields identifying a row (primary key, else the first unique criterion).
    pub id_fields: &'static [&'static str],
    pub fields: &'static [FieldMeta],
}

impl ModelMeta {
    pub fn field(&self, name: &str) -> Option<&FieldMeta> {
        self.fields.iter().find(|f| f.name == name)
    }
}
