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

impl FieldMeta {
    /// A field with every flag off; `db_name` and `rust_name` default to `name`. The builder
    /// methods below keep generated metadata short.
    pub const fn new(name: &'static str, kind: FieldKind, type_name: &'static str) -> Self {
        FieldMeta {
            name,
            rust_name: name,
            db_name: name,
            type_name,
            kind,
            optional: false,
            list: false,
            id: false,
            unique: false,
            has_default: false,
            updated_at: false,
            read_only: false,
            write_only: false,
            hidden: false,
            relation: None,
        }
    }

    pub const fn rust_name(mut self, rust_name: &'static str) -> Self {
        self.rust_name = rust_name;
        self
    }

    pub const fn db_name(mut self, db_name: &'static str) -> Self {
        self.db_name = db_name;
        self
    }

    pub const fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    pub const fn list(mut self) -> Self {
        self.list = true;
        self
    }

    pub const fn id(mut self) -> Self {
        self.id = true;
        self
    }

    pub const fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    pub const fn has_default(mut self) -> Self {
        self.has_default = true;
        self
    }

    pub const fn updated_at(mut self) -> Self {
        self.updated_at = true;
        self
    }

    pub const fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    pub const fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    pub const fn hidden(mut self) -> Self {
        self.hidden = true;
        self
    }

    pub const fn relation(mut self, relation: RelationMeta) -> Self {
        self.relation = Some(relation);
        self
    }
}

impl ModelMeta {
    pub fn field(&self, name: &str) -> Option<&FieldMeta> {
        self.fields.iter().find(|f| f.name == name)
    }
}
