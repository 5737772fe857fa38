//! Which `///` lines are ssot's. Real schemas carry the tags of other tools in the same doc
//! comments (JSDoc's `@deprecated` and `@see`, zod-prisma-types' `@zod.string.min(1)`, NestJS
//! generators' `@DtoReadOnly`, project tags like `@shared`): a line is an annotation line only
//! when its first word is one of ssot's annotations, or so close to one (`@valdate`, `@readonly`)
//! that it is surely a typo, which is then reported with a did-you-mean. Every other line is
//! documentation.

use super::{FIELD_ANNOTATIONS, MODEL_ANNOTATIONS};

/// What a doc line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    /// ssot annotations (or a typo of one): parsed and checked.
    Annotation,
    /// `@deprecated <reason>`: documentation, and the item is deprecated.
    Deprecated(&'a str),
    /// `@zod.<chain>` of zod-prisma-types or prisma-zod-generator (the text after `@zod.`).
    Zod(&'a str),
    /// Prose, or another tool's tag.
    Doc,
}

/// Classifies one doc line (its text after `///`).
pub fn classify(text: &str) -> Line<'_> {
    let t = text.trim_start();
    let Some(rest) = t.strip_prefix('@') else { return Line::Doc };
    let rest = rest.strip_prefix('@').unwrap_or(rest);
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
    let (name, after) = rest.split_at(end);
    if name.is_empty() {
        return Line::Doc;
    }
    if let Some(chain) = after.strip_prefix('.') {
        return if name == "zod" { Line::Zod(chain.trim_end()) } else { Line::Doc };
    }
    if name == "deprecated" {
        return Line::Deprecated(after.trim());
    }
    let all = MODEL_ANNOTATIONS.iter().chain(FIELD_ANNOTATIONS);
    if all.clone().any(|a| *a == name) || all.into_iter().any(|a| near_miss(name, a)) { Line::Annotation } else { Line::Doc }
}

/// A typo of `known`: at most one edit for names of up to five letters, two for longer ones,
/// case aside (`readonly`, `polcy`, `valdate`), but not another word (`shared`, `DtoReadOnly`).
fn near_miss(name: &str, known: &str) -> bool {
    let allowed = if known.len() <= 5 { 1 } else { 2 };
    strsim::damerau_levenshtein(&name.to_lowercase(), &known.to_lowercase()) <= allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_tools_tags_are_documentation() {
        for line in [
            " @deprecatedX",
            " @property id - Unique id",
            " @see https://example.com",
            " @shared",
            " @local",
            " @DtoReadOnly",
            " @DtoCreateOptional",
            " @TypeGraphQL.omit(output: true)",
            " @zodX",
            " [JsonType]",
            " @param x",
            " @example {\"a\": 1}",
            " @default now",
            " @format email",
            " @ts-ignore",
            " email@example.com is the address",
            " @",
        ] {
            assert_eq!(classify(line), Line::Doc, "{line}");
        }
    }

    #[test]
    fn ssot_annotations_and_their_typos_are_annotations() {
        for line in [
            " @@policy(read: \"true\")",
            " @policy(read: \"true\")",
            " @readable(\"id == auth.id\")",
            " @readonly",
            " @readOnly",
            " @@polcy(read: \"true\")",
            " @valdate(email)",
            " @@searh(fields: [a])",
            " @hiden",
            "@validate(email) @readOnly",
        ] {
            assert_eq!(classify(line), Line::Annotation, "{line}");
        }
    }

    #[test]
    fn deprecated_and_zod_are_recognised() {
        assert_eq!(classify(" @deprecated was for v2"), Line::Deprecated("was for v2"));
        assert_eq!(classify(" @deprecated"), Line::Deprecated(""));
        assert_eq!(classify(" @zod.string.min(1).max(10)"), Line::Zod("string.min(1).max(10)"));
        assert_eq!(classify(" @zod.import([\"import { x } from 'y'\"])"), Line::Zod("import([\"import { x } from 'y'\"])"));
    }
}
