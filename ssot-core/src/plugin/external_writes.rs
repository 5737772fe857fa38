//! `external_writes`: writes that other programs make to the tables of `@@realtime` models (a
//! migration, a script, a Rust service) reach the API's subscribers. A trigger on each table
//! reports the row's key with `pg_notify`; the server listens, loads the row and delivers it
//! under the same policies as its own writes. PostgreSQL only.

use super::{Contribution, EnvVar, OptionSpec, OptionType, Plugin, PluginCx, ServerModule};
use crate::ir::{Ir, Model};
use serde_json::json;

pub struct ExternalWrites;

/// The `pg_notify` channel, and the name of the function and of the triggers.
const CHANNEL: &str = "ssot_changes";

const OPTIONS: &[OptionSpec] = &[OptionSpec::optional(
    "install",
    OptionType::Bool,
    "the server creates the function and the triggers at startup (default true; false: apply external-writes.sql yourself)",
)];

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The column of each id field, in the order of the model's id.
fn key_columns(m: &Model) -> Vec<String> {
    m.id_fields().into_iter().map(|f| m.field(f).and_then(|f| f.db_name.clone()).unwrap_or_else(|| f.to_owned())).collect()
}

fn models(ir: &Ir) -> Vec<&Model> {
    ir.api_models().filter(|m| m.annotations.realtime.is_some() && !m.id_fields().is_empty()).collect()
}

/// The function every trigger runs: the model's name and key columns are its arguments. The
/// API's own writes (connections named `ssot…`) are left out: the API reports them itself. A
/// key too long for a notification (8000 bytes) is reported without it.
const FUNCTION: &str = r#"CREATE OR REPLACE FUNCTION ssot_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r jsonb;
  k jsonb := '[]';
  payload text;
BEGIN
  IF current_setting('application_name', true) LIKE 'ssot%' THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'DELETE' THEN r := to_jsonb(OLD); ELSE r := to_jsonb(NEW); END IF;
  FOR i IN 1 .. TG_NARGS - 1 LOOP
    k := k || jsonb_build_array(r -> TG_ARGV[i]);
  END LOOP;
  payload := jsonb_build_object('m', TG_ARGV[0], 'op', lower(TG_OP), 'k', k)::text;
  IF octet_length(payload) > 7900 THEN
    payload := jsonb_build_object('m', TG_ARGV[0], 'op', lower(TG_OP), 'k', null)::text;
  END IF;
  PERFORM pg_notify('ssot_changes', payload);
  RETURN NULL;
END
$$;"#;

/// What follows the table in the trigger of one model. `pg_get_triggerdef` qualifies the table
/// with its schema, so the servers compare the end of the installed definition with this.
fn call(m: &Model) -> String {
    let args: Vec<String> = std::iter::once(literal(&m.name)).chain(key_columns(m).iter().map(|c| literal(c))).collect();
    format!(" FOR EACH ROW EXECUTE FUNCTION {CHANNEL}({})", args.join(", "))
}

/// The trigger of one model, as `pg_get_triggerdef` prints it.
fn trigger(m: &Model) -> String {
    format!("CREATE TRIGGER {CHANNEL} AFTER INSERT OR DELETE OR UPDATE ON {}{}", super::sql_table(m), call(m))
}

/// The SQL a DBA applies (idempotent), also what the server runs with `install`.
fn script(ir: &Ir) -> String {
    let mut s = format!(
        "-- {}\n-- The external_writes plugin (docs/plugins.md#external-writes): writes that other programs make\n-- to these tables reach the API's subscribers. Idempotent; the server applies it at startup\n-- unless [plugins.external_writes] install = false.\n\n{FUNCTION}\n",
        crate::generate::HEADER
    );
    for m in models(ir) {
        s.push_str(&format!("\nDROP TRIGGER IF EXISTS {CHANNEL} ON {};\n{};\n", super::sql_table(m), trigger(m)));
    }
    s
}

impl Plugin for ExternalWrites {
    fn name(&self) -> &str {
        "external_writes"
    }

    fn options(&self) -> &[OptionSpec] {
        OPTIONS
    }

    fn check_schema(&self, ir: &Ir) -> Result<(), String> {
        if !matches!(ir.provider.as_str(), "postgresql" | "postgres") {
            return Err(format!("external_writes needs PostgreSQL (LISTEN/NOTIFY); the schema's provider is `{}`", ir.provider));
        }
        if models(ir).is_empty() {
            return Err("external_writes reports writes to `@@realtime` models, and the schema has none".into());
        }
        Ok(())
    }

    fn generate(&self, cx: &PluginCx) -> Contribution {
        let mut c = Contribution::default();
        c.files.insert(
            "src/server/plugins/external_writes.ts".into(),
            format!("// {}\n\n{}", crate::generate::HEADER, include_str!("../../templates/ts/plugins/external_writes.ts")),
        );
        c.files.insert("src/server/plugins/external-writes.sql".into(), script(cx.ir));
        let tables: Vec<_> = models(cx.ir)
            .into_iter()
            .map(|m| json!({ "model": m.name, "table": super::sql_table(m), "trigger": trigger(m), "call": call(m) }))
            .collect();
        c.server_module = Some(ServerModule {
            path: "plugins/external_writes".into(),
            options: json!({
                "install": cx.options.get("install").and_then(|v| v.as_bool()).unwrap_or(true),
                "function": FUNCTION,
                "tables": tables,
            }),
        });
        c.dependencies.insert("pg".into(), "8.23.1".into());
        c.dev_dependencies.insert("@types/pg".into(), "8.23.1".into());
        c.env.push(EnvVar::new("EXTERNAL_WRITES_URL", "External writes: the database the notifications are read from when DATABASE_URL goes through a pooler that cannot LISTEN (PgBouncer in transaction mode); empty: DATABASE_URL."));
        c
    }
}
