//! `oidc`: sign-in to the admin UI with an OpenID Connect provider (Google, Microsoft Entra,
//! Keycloak, Auth0, any issuer with a discovery document). The UI runs the authorization-code
//! flow with PKCE, state and nonce (`openid-client`), maps the ID token's claims to the
//! `[auth.claims]` of `ssot.toml`, and keeps the session as a JWT of the API's own (HS256 with
//! `JWT_SECRET`) in an HTTP-only cookie: the API, TypeScript or Rust, checks it like any token.
//!
//! ```toml
//! [plugins.oidc]
//! name = "Company SSO"                # the sign-in button: "Sign in with Company SSO"
//! scopes = ["openid", "email"]        # default: openid, email, profile
//! session_minutes = 480               # how long a session lasts (default 480)
//!
//! [plugins.oidc.claims]               # a claim of [auth.claims] → the ID-token claim it comes from
//! id = "employee_id"                  # (default: the same name; `id` falls back to `sub`)
//! ```

use super::{Contribution, EnvVar, OptionSpec, OptionType, Options, Plugin, PluginCx, SignIn};
use crate::config::Config;
use crate::diagnostics::did_you_mean;
use crate::generate::ts::js;
use crate::ir::Ir;
use serde_json::json;

pub struct Oidc;

const OPTIONS: &[OptionSpec] = &[
    OptionSpec::optional("name", OptionType::String, "the provider's name on the sign-in button (default \"single sign-on\")"),
    OptionSpec::optional("scopes", OptionType::StringList, "the scopes asked for (default [\"openid\", \"email\", \"profile\"])"),
    OptionSpec::optional("session_minutes", OptionType::Int, "how long a session lasts, in minutes (default 480)"),
    OptionSpec::optional("claims", OptionType::Table, "each claim of [auth.claims] → the ID-token claim it comes from"),
];

/// Where the plugin's part of the UI lives (`/plugins/oidc/sign-in`, `/plugins/oidc/callback`).
const DIR: &str = "app/plugins/oidc";

fn scopes(options: &Options) -> Vec<String> {
    match options.get("scopes").and_then(|v| v.as_array()) {
        Some(list) => list.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        None => vec!["openid".into(), "email".into(), "profile".into()],
    }
}

fn session_minutes(options: &Options) -> i64 {
    options.get("session_minutes").and_then(|v| v.as_i64()).unwrap_or(480)
}

impl Plugin for Oidc {
    fn name(&self) -> &str {
        "oidc"
    }

    fn options(&self) -> &[OptionSpec] {
        OPTIONS
    }

    fn check_options(&self, _ir: &Ir, options: &Options) -> Vec<(String, String)> {
        let mut wrong = Vec::new();
        if !scopes(options).iter().any(|s| s == "openid") {
            wrong.push(("scopes".into(), "an OpenID Connect sign-in needs the `openid` scope: add \"openid\"".into()));
        }
        if let Some(bad) = scopes(options).iter().find(|s| s.is_empty() || s.contains(char::is_whitespace)) {
            wrong.push(("scopes".into(), format!("`{bad}` is not a scope: one word each")));
        }
        let minutes = session_minutes(options);
        if !(1..=43_200).contains(&minutes) {
            wrong.push(("session_minutes".into(), format!("{minutes} is out of range: from 1 to 43200 (30 days)")));
        }
        wrong
    }

    fn idle(&self, ir: &Ir, config: &Config) -> Option<String> {
        (!crate::generate::ts::ui::enabled(ir, config)).then(|| {
            "it signs in to the admin UI, and this tree has none (`ui = false`, `--no-ui`, or no model with a page): it adds nothing".into()
        })
    }

    fn check_config(&self, _ir: &Ir, config: &Config, options: &Options) -> Vec<(String, String)> {
        let mut wrong = Vec::new();
        if !config.auth_default.contains(&crate::annotations::AuthMethod::Jwt) {
            wrong.push((String::new(), "its sessions are JWTs: add \"jwt\" to `default` under [auth]".into()));
        }
        if let Some(table) = options.get("claims").and_then(|v| v.as_object()) {
            for (claim, source) in table {
                if !config.claims.iter().any(|c| c.name == *claim) {
                    let mut m = format!("`{claim}` is not a claim of [auth.claims]");
                    match did_you_mean(claim, config.claims.iter().map(|c| c.name.as_str())) {
                        Some(h) => m.push_str(&format!(": did you mean `{h}`?")),
                        None => m.push_str(&format!(
                            " (declared: {})",
                            config.claims.iter().map(|c| format!("`{}`", c.name)).collect::<Vec<_>>().join(", ")
                        )),
                    }
                    wrong.push(("claims".into(), m));
                } else if source.as_str().is_some_and(str::is_empty) {
                    wrong.push(("claims".into(), format!("`{claim}` names no ID-token claim")));
                }
            }
        }
        wrong
    }

    fn generate(&self, cx: &PluginCx) -> Contribution {
        let mut c = Contribution::default();
        let header = crate::generate::HEADER;
        let mapping: serde_json::Map<String, serde_json::Value> = cx
            .config
            .claims
            .iter()
            .map(|claim| {
                let from = cx.options.get("claims").and_then(|t| t.get(&claim.name)).and_then(|v| v.as_str()).unwrap_or(&claim.name);
                (claim.name.clone(), json!(from))
            })
            .collect();
        let settings = json!({
            "scopes": scopes(cx.options),
            "sessionMinutes": session_minutes(cx.options),
            "claims": mapping,
        });
        c.files.insert(
            format!("{DIR}/oidc.ts").into(),
            format!(
                "// {header}\n\n{}",
                include_str!("../../templates/ts/plugins/oidc.ts").replace(
                    "const SETTINGS: Settings = /*{{settings}}*/ {} as Settings;\n",
                    &(js::json_const("SETTINGS", "Settings", &settings) + "\n")
                )
            ),
        );
        for (route, function) in [("sign-in", "start"), ("callback", "finish")] {
            c.files.insert(
                format!("{DIR}/{route}/route.ts").into(),
                format!(
                    "// {header}\n\n// GET /plugins/oidc/{route}: see ../oidc.ts.\nimport {{ {function} }} from \"../oidc.js\";\n\nexport const dynamic = \"force-dynamic\";\n\nexport async function GET(request: Request): Promise<Response> {{\n  return {function}(request);\n}}\n"
                ),
            );
        }
        let name = super::option_str(cx.options, "name");
        c.sign_in = Some(SignIn {
            name: if name.is_empty() { "single sign-on" } else { name }.to_owned(),
            href: "/plugins/oidc/sign-in".into(),
            env: "OIDC_ISSUER".into(),
        });
        c.dependencies.insert("openid-client".into(), "6.9.1".into());
        c.ui_env.push(EnvVar::new("OIDC_ISSUER", "Admin UI sign-in (OpenID Connect): the issuer, like https://accounts.google.com (its\n/.well-known/openid-configuration is read). Unset: the sign-in page offers no single sign-on."));
        c.ui_env.push(EnvVar::new(
            "OIDC_CLIENT_ID",
            "The UI's client id at the issuer; register <UI origin>/plugins/oidc/callback as its redirect URI.",
        ));
        c.ui_env.push(EnvVar::new("OIDC_CLIENT_SECRET", "Its secret (a confidential client); unset for a public client (PKCE alone)."));
        c.ui_env.push(EnvVar::new(
            "OIDC_REDIRECT_URL",
            "The callback as the browser reaches it, when the UI runs behind a proxy (default: from the request).",
        ));
        c
    }
}
