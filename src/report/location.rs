//! Where a finding points in the repository, for the formats that annotate files (SARIF,
//! GitLab code quality).
//!
//! With `--tf-dir`, a resource address maps to the line of the `resource` block that declares
//! it (`tfsource`); paths are written relative to the current directory, which CI runs
//! from the repository root, so they read as repository paths. Without it, or for an address
//! the tree does not declare, the finding points at the plan file as given on the command line,
//! with no line.

use std::borrow::Cow;
use std::path::{Component, Path, PathBuf};

use super::Report;
use crate::tfsource::{Skipped, SourceMap, TfDirError, normalise};

/// The Terraform code of one plan: the `--tf-dir` tree, mapped with that plan's module sources.
#[derive(Debug)]
pub struct TfTree {
    /// The directory as locations name it: relative to the current directory when it lies
    /// under it.
    dir: PathBuf,
    map: SourceMap,
}

impl TfTree {
    /// Maps `dir` with the module sources of the plan `report` was made from; `cwd` is the
    /// directory paths are made relative to.
    pub fn build(dir: &Path, report: &Report, cwd: &Path) -> Result<TfTree, TfDirError> {
        let map = SourceMap::build(dir, &report.module_sources)?;
        Ok(TfTree {
            dir: relative_to(dir, cwd),
            map,
        })
    }

    /// What the tree could not map (unparsable files, remote modules), to tell the reader.
    pub fn skipped(&self) -> &[Skipped] {
        &self.map.skipped
    }

    fn locate(&self, address: &str) -> Option<FileLine> {
        let at = self.map.locate(address)?;
        Some(FileLine {
            path: normalise(&self.dir.join(&at.path)),
            line: Some(at.line),
        })
    }
}

/// One analysed plan, as the file formats see it.
pub struct PlanOutput<'a> {
    /// The plan as given on the command line; `-` is standard input.
    pub plan: &'a str,
    /// The report, or why the plan was not analysed.
    pub report: Result<&'a Report, &'a str>,
    /// The `--tf-dir` map for this plan, when one was given.
    pub tree: Option<&'a TfTree>,
}

impl PlanOutput<'_> {
    /// The plan's name for messages (`<stdin>` for standard input).
    pub fn name(&self) -> &str {
        if self.plan == "-" {
            "<stdin>"
        } else {
            self.plan
        }
    }

    /// Where `address` is declared, else the plan file; `None` only for a plan read from
    /// standard input that the tree does not locate.
    pub fn locate(&self, address: &str) -> Option<FileLine> {
        self.tree
            .and_then(|t| t.locate(address))
            .or_else(|| self.plan_file())
    }

    /// The plan file itself, with no line; `None` for standard input.
    pub fn plan_file(&self) -> Option<FileLine> {
        (self.plan != "-").then(|| FileLine {
            path: normalise(Path::new(self.plan)),
            line: None,
        })
    }
}

/// A file and, when known, the 1-based line in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLine {
    /// Relative to the current directory, or absolute when outside it.
    pub path: PathBuf,
    /// 1-based; `None` when only the file is known.
    pub line: Option<usize>,
}

impl FileLine {
    /// The path with `/` separators, as a repository path is written.
    pub fn slash_path(&self) -> String {
        let parts: Vec<Cow<'_, str>> = self
            .path
            .components()
            .map(|c| match c {
                Component::RootDir => Cow::Borrowed(""),
                other => other.as_os_str().to_string_lossy(),
            })
            .collect();
        let joined = parts.join("/");
        if joined.is_empty() {
            ".".to_owned()
        } else {
            joined
        }
    }

    /// The path as a URI reference: relative paths percent-encoded (to be resolved against the
    /// repository root), absolute ones as `file://` URIs.
    pub fn uri(&self) -> String {
        let encoded = percent_encode(&self.slash_path());
        if self.path.is_absolute() {
            format!("file://{encoded}")
        } else {
            encoded
        }
    }
}

/// `path` relative to `cwd` when it lies under it; otherwise as it is. Lexical only.
fn relative_to(path: &Path, cwd: &Path) -> PathBuf {
    if path.is_absolute() {
        if let Ok(rest) = normalise(path).strip_prefix(normalise(cwd)) {
            return rest.to_owned();
        }
    }
    normalise(path)
}

/// Percent-encodes every byte that may not stand as itself in a URI path (RFC 3986: the
/// unreserved characters and `/` are kept).
fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> FileLine {
        FileLine {
            path: path.into(),
            line: None,
        }
    }

    #[test]
    fn uris_are_percent_encoded_relative_references_or_file_uris() {
        assert_eq!(file("infra/main.tf").uri(), "infra/main.tf");
        assert_eq!(file("my infra/a#b.tf").uri(), "my%20infra/a%23b.tf");
        assert_eq!(file("ünï/x.tf").uri(), "%C3%BCn%C3%AF/x.tf");
        assert_eq!(file("/tmp/plan.json").uri(), "file:///tmp/plan.json");
        assert_eq!(file("../up/x.tf").uri(), "../up/x.tf");
    }

    #[test]
    fn directories_under_the_current_one_become_relative() {
        let cwd = Path::new("/repo");
        assert_eq!(
            relative_to(Path::new("/repo/infra"), cwd),
            Path::new("infra")
        );
        assert_eq!(
            relative_to(Path::new("/repo/./infra/../tf"), cwd),
            Path::new("tf")
        );
        assert_eq!(
            relative_to(Path::new("/elsewhere/tf"), cwd),
            Path::new("/elsewhere/tf")
        );
        assert_eq!(relative_to(Path::new("./infra"), cwd), Path::new("infra"));
    }

    #[test]
    fn a_plan_from_standard_input_has_no_file() {
        let report = Err("not needed");
        let stdin = PlanOutput {
            plan: "-",
            report,
            tree: None,
        };
        assert_eq!(stdin.plan_file(), None);
        assert_eq!(stdin.locate("google_cloud_run_v2_service.api"), None);
        assert_eq!(stdin.name(), "<stdin>");
        let file = PlanOutput {
            plan: "./plans/../plan.json",
            report,
            tree: None,
        };
        assert_eq!(
            file.locate("google_cloud_run_v2_service.api"),
            Some(FileLine {
                path: "plan.json".into(),
                line: None
            })
        );
    }
}
