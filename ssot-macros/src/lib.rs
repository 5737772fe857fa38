//! The `ssot!` macro. Use it through the `ssot` crate (feature `macros`).
//!
//! This crate only parses arguments, calls `ssot-core` and turns errors into
//! `compile_error!`; everything else lives in the core so it can be tested as a library.

use proc_macro::TokenStream;
use quote::quote;
use std::path::PathBuf;
use syn::{LitStr, parse_macro_input};

/// Expands to the Rust items of a Prisma schema: `ssot::ssot!("schema.prisma");`.
///
/// The path (a file or a folder) is relative to `CARGO_MANIFEST_DIR`; `ssot.toml` next to
/// `Cargo.toml` or the schema is read. Editing the schema or config rebuilds the crate.
/// Schema and annotation errors become a `compile_error!` with `file:line:column`.
#[proc_macro]
pub fn ssot(input: TokenStream) -> TokenStream {
    let path = parse_macro_input!(input as LitStr);
    let span = path.span();
    let root = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_default();
    let project = match ssot_core::Project::discover(&root, Some(path.value().as_ref()), None) {
        Ok(p) => p,
        Err(e) => return error(span, &relative(&e.to_string(), &root)),
    };
    // Track every input so that an edit triggers a rebuild, even when it fails.
    let tracked: Vec<String> = project
        .inputs()
        .unwrap_or_default()
        .iter()
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()).display().to_string())
        .collect();
    let track = quote!(#(const _: &[u8] = include_bytes!(#tracked);)*);
    match project.load() {
        Ok(loaded) => {
            let text = ssot_core::generate::rust::items_for_macro(&loaded.ir, &project.config);
            match text.parse::<proc_macro2::TokenStream>() {
                Ok(items) => quote!(#track #items).into(),
                Err(e) => error(span, &format!("ssot generated code that does not lex ({e}); please report this")),
            }
        }
        Err(e) => {
            let err: proc_macro2::TokenStream = error(span, &relative(&e.to_string(), &root)).into();
            quote!(#track #err).into()
        }
    }
}

/// Paths in a message relative to the crate's folder, as rustc prints its own.
fn relative(message: &str, root: &std::path::Path) -> String {
    let prefix = format!("{}/", root.display());
    message.replace(&prefix, "")
}

fn error(span: proc_macro2::Span, message: &str) -> TokenStream {
    // rustc prints its own "error: " before the message.
    let message = message.trim_end();
    let message = message.strip_prefix("error: ").unwrap_or(message);
    quote::quote_spanned!(span=> ::core::compile_error!(#message);).into()
}
