//! The one place that writes generated files.
//!
//! A file is written only when its bytes change, so an unchanged schema touches nothing and
//! wakes no watcher. For output trees, `.ssot/manifest.json` lists every file ssot wrote with a
//! hash of its contents: files that are no longer produced are removed only when the manifest
//! says ssot wrote them and they still hold what ssot wrote — a user's file is never touched.

use crate::generate::Files;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

pub const MANIFEST: &str = ".ssot/manifest.json";

/// What a write did, file by file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WriteReport {
    pub created: Vec<PathBuf>,
    pub updated: Vec<PathBuf>,
    pub unchanged: Vec<PathBuf>,
    pub removed: Vec<PathBuf>,
    /// Pages of the admin UI the user changed or put there first: left as they are.
    pub kept: Vec<PathBuf>,
}

impl WriteReport {
    pub fn changed(&self) -> bool {
        !(self.created.is_empty() && self.updated.is_empty() && self.removed.is_empty())
    }

    pub fn summary(&self) -> String {
        let kept = if self.kept.is_empty() { String::new() } else { format!(", {} yours kept", self.kept.len()) };
        format!(
            "{} created, {} updated, {} removed, {} unchanged{kept}",
            self.created.len(),
            self.updated.len(),
            self.removed.len(),
            self.unchanged.len()
        )
    }
}

/// A failed write, naming the path.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    pub source: io::Error,
}

fn err(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
    move |source| WriteError { path: path.to_owned(), source }
}

#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Path (relative, `/`-separated) → sha256 of the contents.
    pub files: BTreeMap<String, String>,
    /// Schema items that got no API, with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<crate::ir::Skipped>,
    /// The [`stamp`] of the generator and inputs that made these files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<String>,
    /// Size and modification time of every output when it was last checked (relative paths for
    /// files of the tree, absolute ones for outputs elsewhere, like the Rust file).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stats: BTreeMap<String, String>,
}

/// The generator that writes: its version and a fingerprint of its sources and templates.
pub const GENERATOR: &str = concat!(env!("CARGO_PKG_VERSION"), "+", env!("SSOT_GENERATOR_FINGERPRINT"));

/// What a run depends on: the generator and every input (`parts`: paths, file contents,
/// settings). Equal stamps and untouched outputs mean that a run would write nothing.
pub fn stamp(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    h.update(GENERATOR.as_bytes());
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn stat(path: &Path) -> Option<String> {
    let m = std::fs::metadata(path).ok()?;
    let t = m.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(format!("{}:{}", m.len(), t.as_nanos()))
}

fn stat_path(root: &Path, key: &str) -> PathBuf {
    let p = Path::new(key);
    if p.is_absolute() { p.to_path_buf() } else { root.join(p) }
}

/// True when the tree at `root` was written from inputs with this `stamp` and none of its
/// outputs has been edited, deleted or replaced since: the caller may skip the run entirely
/// (without reading the schema). Any doubt answers false.
pub fn fresh(root: &Path, stamp: &str) -> bool {
    let Ok(text) = std::fs::read_to_string(root.join(MANIFEST)) else { return false };
    let Ok(m) = serde_json::from_str::<Manifest>(&text) else { return false };
    m.inputs.as_deref() == Some(stamp)
        && !m.stats.is_empty()
        && m.files.keys().all(|k| m.stats.contains_key(k))
        && m.stats.iter().all(|(key, s)| stat(&stat_path(root, key)).as_deref() == Some(s.as_str()))
}

/// The state of every output (the tree's files and `extra` ones), for [`fresh`].
fn stats(root: &Path, files: &BTreeMap<String, String>, extra: &[PathBuf]) -> Result<BTreeMap<String, String>, WriteError> {
    let mut out = BTreeMap::new();
    for key in files.keys() {
        if let Some(s) = stat(&root.join(key)) {
            out.insert(key.clone(), s);
        }
    }
    for p in extra {
        let abs = std::path::absolute(p).map_err(err(p))?;
        if let Some(s) = stat(&abs) {
            out.insert(abs.to_string_lossy().into_owned(), s);
        }
    }
    Ok(out)
}

/// A page of the admin UI (`app/**/page.tsx`), the server's `src/server/custom.ts` (the user's
/// plugins), a message template of the email plugin, the payments plugin's event handlers, the AI
/// plugin's provider or a deployment file (`Dockerfile`,
/// `.dockerignore`, `docker-compose.yml`): the user may replace or wrap it, and one that differs
/// from what ssot last wrote there (or that was there before ssot) is theirs.
pub fn user_replaceable(key: &str) -> bool {
    (key.starts_with("app/") && key.ends_with("page.tsx"))
        || matches!(key, "src/server/custom.ts" | "Dockerfile" | ".dockerignore" | "docker-compose.yml")
        || key == crate::plugin::PAYMENT_HANDLERS
        || key == crate::plugin::AI_PROVIDER
        || (key.starts_with("src/server/plugins/templates/") && key != "src/server/plugins/templates/index.ts")
}

pub fn hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What writing `contents` to `path` would do, without writing.
fn status(path: &Path, contents: &str) -> Result<Option<bool>, WriteError> {
    match std::fs::read(path) {
        Ok(old) if old == contents.as_bytes() => Ok(None),
        Ok(_) => Ok(Some(false)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Some(true)),
        Err(e) => Err(err(path)(e)),
    }
}

/// Writes one file if its bytes differ. Returns whether it wrote. The new contents go to a
/// temporary file first and are renamed over the old, so a crash never leaves half a file.
pub fn write_if_changed(path: &Path, contents: &str) -> Result<bool, WriteError> {
    if status(path, contents)?.is_none() {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err(dir))?;
    }
    let tmp = path.with_extension(format!("{}.ssot-tmp", path.extension().and_then(|e| e.to_str()).unwrap_or("")));
    std::fs::write(&tmp, contents).map_err(err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(err(path))?;
    Ok(true)
}

/// Writes a whole output tree under `root` and keeps its manifest. With `check`, nothing is
/// written and the report says what would change.
pub fn write_tree(root: &Path, files: &Files, skipped: &[crate::ir::Skipped], check: bool) -> Result<WriteReport, WriteError> {
    write_tree_stamped(root, files, skipped, check, None)
}

/// [`write_tree`], recording in the manifest the `stamp` of the inputs and the state of every
/// output (and of `extra` outputs elsewhere, written before), so that the next run with the same
/// stamp can be skipped by [`fresh`].
pub fn write_tree_stamped(
    root: &Path,
    files: &Files,
    skipped: &[crate::ir::Skipped],
    check: bool,
    stamp: Option<(&str, &[PathBuf])>,
) -> Result<WriteReport, WriteError> {
    let manifest_path = root.join(MANIFEST);
    let old: Manifest = match std::fs::read_to_string(&manifest_path) {
        Ok(text) => serde_json::from_str(&text).unwrap_or_default(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Manifest::default(),
        Err(e) => return Err(err(&manifest_path)(e)),
    };
    let mut report = WriteReport::default();
    let mut new = Manifest { files: BTreeMap::new(), skipped: skipped.to_vec(), inputs: None, stats: BTreeMap::new() };
    for (rel, contents) in files {
        let path = root.join(rel);
        let key = rel.to_string_lossy().replace('\\', "/");
        let st = status(&path, contents)?;
        if st == Some(false) && user_replaceable(&key) {
            let on_disk = std::fs::read_to_string(&path).map_err(err(&path))?;
            if old.files.get(&key) != Some(&hash(&on_disk)) {
                // Still listed with what ssot wrote last, so that the page stays the user's.
                if let Some(h) = old.files.get(&key) {
                    new.files.insert(key, h.clone());
                }
                report.kept.push(rel.clone());
                continue;
            }
        }
        new.files.insert(key, hash(contents));
        match st {
            None => report.unchanged.push(rel.clone()),
            Some(created) => {
                if !check {
                    write_if_changed(&path, contents)?;
                }
                if created { report.created.push(rel.clone()) } else { report.updated.push(rel.clone()) }
            }
        }
    }
    for (key, old_hash) in &old.files {
        if new.files.contains_key(key) {
            continue;
        }
        let path = root.join(key);
        // Remove only what still holds the bytes ssot wrote; an edited file is the user's now.
        match std::fs::read_to_string(&path) {
            Ok(text) if &hash(&text) == old_hash => {
                if !check {
                    std::fs::remove_file(&path).map_err(err(&path))?;
                }
                report.removed.push(PathBuf::from(key));
            }
            _ => {}
        }
    }
    if let (Some((stamp, extra)), false) = (stamp, check) {
        new.inputs = Some(stamp.to_owned());
        new.stats = stats(root, &new.files, extra)?;
    }
    let manifest_text = format!("{}\n", serde_json::to_string_pretty(&new).unwrap_or_default());
    if !check {
        write_if_changed(&manifest_path, &manifest_text)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(pairs: &[(&str, &str)]) -> Files {
        pairs.iter().map(|(p, c)| (PathBuf::from(p), c.to_string())).collect()
    }

    #[test]
    fn writes_only_changes_and_removes_only_its_own_files() {
        let dir = std::env::temp_dir().join(format!("ssot-writer-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let r = write_tree(&dir, &files(&[("a.ts", "a"), ("sub/b.ts", "b"), ("c.ts", "c")]), &[], false).unwrap();
        assert_eq!(r.created.len(), 3);
        std::fs::write(dir.join("user.ts"), "mine").unwrap();
        std::fs::write(dir.join("c.ts"), "edited by the user").unwrap();

        let r = write_tree(&dir, &files(&[("a.ts", "a"), ("sub/b.ts", "b2")]), &[], false).unwrap();
        assert_eq!(r.unchanged, vec![PathBuf::from("a.ts")]);
        assert_eq!(r.updated, vec![PathBuf::from("sub/b.ts")]);
        assert!(r.removed.is_empty(), "an edited file was removed: {r:?}");
        assert_eq!(std::fs::read_to_string(dir.join("user.ts")).unwrap(), "mine");
        assert_eq!(std::fs::read_to_string(dir.join("c.ts")).unwrap(), "edited by the user");

        let r = write_tree(&dir, &files(&[("a.ts", "a")]), &[], false).unwrap();
        assert_eq!(r.removed, vec![PathBuf::from("sub/b.ts")]);
        assert!(!dir.join("sub/b.ts").exists());

        let check = write_tree(&dir, &files(&[("a.ts", "changed")]), &[], true).unwrap();
        assert!(check.changed());
        assert_eq!(std::fs::read_to_string(dir.join("a.ts")).unwrap(), "a", "--check wrote");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_page_the_user_changed_or_put_there_first_is_kept() {
        let dir = std::env::temp_dir().join(format!("ssot-writer-pages-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("app/admin/tags")).unwrap();
        // A page of the user's before the first generation.
        std::fs::write(dir.join("app/admin/tags/page.tsx"), "my tags page").unwrap();
        let tree = |v: &str| files(&[("app/admin/posts/page.tsx", v), ("app/admin/tags/page.tsx", v), ("app/admin/_ui/list.tsx", v)]);
        let r = write_tree(&dir, &tree("v1"), &[], false).unwrap();
        assert_eq!(r.kept, vec![PathBuf::from("app/admin/tags/page.tsx")]);
        assert_eq!(std::fs::read_to_string(dir.join("app/admin/tags/page.tsx")).unwrap(), "my tags page");
        // The user wraps the generated posts page; the next generation leaves it, and the others move on.
        std::fs::write(dir.join("app/admin/posts/page.tsx"), "wrapped").unwrap();
        std::fs::write(dir.join("app/admin/_ui/list.tsx"), "edited").unwrap();
        let r = write_tree(&dir, &tree("v2"), &[], false).unwrap();
        assert_eq!(r.kept.len(), 2, "{r:?}");
        assert_eq!(std::fs::read_to_string(dir.join("app/admin/posts/page.tsx")).unwrap(), "wrapped");
        assert_eq!(std::fs::read_to_string(dir.join("app/admin/_ui/list.tsx")).unwrap(), "v2", "only pages are the user's");
        assert!(write_tree(&dir, &tree("v3"), &[], false).unwrap().summary().ends_with("2 yours kept"));
        assert_eq!(std::fs::read_to_string(dir.join("app/admin/posts/page.tsx")).unwrap(), "wrapped");
        // A page the user did not touch follows the schema.
        std::fs::remove_file(dir.join("app/admin/posts/page.tsx")).unwrap();
        write_tree(&dir, &tree("v4"), &[], false).unwrap();
        write_tree(&dir, &tree("v5"), &[], false).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("app/admin/posts/page.tsx")).unwrap(), "v5");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn deployment_files_the_user_changed_are_kept() {
        let dir = std::env::temp_dir().join(format!("ssot-writer-deploy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let tree = |v: &str| files(&[("Dockerfile", v), ("docker-compose.yml", v), (".dockerignore", v), ("package.json", v)]);
        write_tree(&dir, &tree("v1"), &[], false).unwrap();
        std::fs::write(dir.join("docker-compose.yml"), "my services").unwrap();
        std::fs::write(dir.join("package.json"), "edited").unwrap();
        let r = write_tree(&dir, &tree("v2"), &[], false).unwrap();
        assert_eq!(r.kept, vec![PathBuf::from("docker-compose.yml")]);
        assert_eq!(std::fs::read_to_string(dir.join("docker-compose.yml")).unwrap(), "my services");
        assert_eq!(std::fs::read_to_string(dir.join("Dockerfile")).unwrap(), "v2", "untouched: follows the generator");
        assert_eq!(std::fs::read_to_string(dir.join("package.json")).unwrap(), "v2", "not a deployment file");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
