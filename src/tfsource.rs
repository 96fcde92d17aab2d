//! `--tf-dir`: where in the Terraform code a resource address is declared.
//!
//! A plan names `module.api["eu"].google_cloud_run_v2_service.this`; a reviewer wants
//! `modules/api/main.tf:5`. The root module is the directory given; each module call's
//! directory comes from its `source` in the plan's `configuration` (relative to its caller's
//! directory), for local paths only (`./` or `../`, as Terraform defines them): a registry
//! or git module's code is not in the tree. Every instance of a `count` or `for_each`
//! resource, and every instance of a repeated module, maps to the one block that declares it.
//!
//! The `.tf` files are parsed with `hcl-edit`, whose syntax tree keeps byte spans (the `hcl`
//! crate's does not), so a `resource` in a comment, a string or a heredoc is never taken for
//! a block. `.tf.json` files are not read.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};

use foldhash::HashMap;
use hcl_edit::Span;

use crate::plan::Address;

/// Where a block is declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Relative to the `--tf-dir` directory (it may start with `..` for a module beside it).
    pub path: PathBuf,
    /// 1-based line of the block's first token (`resource` or `data`).
    pub line: usize,
}

/// The declarations of a Terraform tree, by configuration module path and resource.
#[derive(Debug, Default)]
pub struct SourceMap {
    /// (module path, `type.name` or `data.type.name`) → location.
    blocks: HashMap<(String, String), Location>,
    /// What could not be mapped, for a note in the report.
    pub skipped: Vec<Skipped>,
}

/// A part of the tree left out of the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skipped {
    /// A `.tf` file that does not parse (or read); its resources are not located.
    File { path: PathBuf, reason: String },
    /// A module whose code is not in the tree: a remote source, a directory that cannot be
    /// read, or a caller that is itself not mapped.
    Module {
        module: String,
        source: String,
        reason: String,
    },
}

/// The `--tf-dir` directory itself cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TfDirError {
    pub path: PathBuf,
    pub reason: String,
}

impl fmt::Display for TfDirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "--tf-dir {}: {}", self.path.display(), self.reason)
    }
}

impl std::error::Error for TfDirError {}

impl SourceMap {
    /// Reads the root module in `tf_dir` and every local module that `module_sources` (module
    /// path → `source`, as [`crate::plan::Configuration::module_sources`] gives them) names.
    /// Only an unreadable `tf_dir` is an error; anything else that cannot be mapped is listed
    /// in [`SourceMap::skipped`].
    pub fn build(
        tf_dir: &Path,
        module_sources: &BTreeMap<String, String>,
    ) -> Result<SourceMap, TfDirError> {
        let mut map = SourceMap::default();
        // Directories relative to `tf_dir`, lexically normalised.
        let mut module_dirs: HashMap<&str, PathBuf> = HashMap::default();
        let mut scanned: HashMap<PathBuf, Vec<(String, Location)>> = HashMap::default();

        let root = scan_dir(tf_dir, Path::new(""), &mut map.skipped).map_err(|e| TfDirError {
            path: tf_dir.to_owned(),
            reason: e.to_string(),
        })?;
        map.insert_module("", &root);
        module_dirs.insert("", PathBuf::new());
        scanned.insert(PathBuf::new(), root);

        // A caller's path is a prefix of its callee's, so in key order every caller comes
        // before the modules it calls.
        for (module, source) in module_sources {
            let skip = |reason: &str| Skipped::Module {
                module: module.clone(),
                source: source.clone(),
                reason: reason.to_owned(),
            };
            if !is_local(source) {
                map.skipped
                    .push(skip("not a local path; its code is not in the tree"));
                continue;
            }
            let parent = module
                .rsplit_once(".module.")
                .map_or("", |(parent, _)| parent);
            let Some(parent_dir) = module_dirs.get(parent) else {
                map.skipped.push(skip("its caller is not mapped"));
                continue;
            };
            let dir = normalise(&parent_dir.join(source));
            if !scanned.contains_key(&dir) {
                match scan_dir(&tf_dir.join(&dir), &dir, &mut map.skipped) {
                    Ok(blocks) => {
                        scanned.insert(dir.clone(), blocks);
                    }
                    Err(e) => {
                        map.skipped
                            .push(skip(&format!("cannot read {}: {e}", dir.display())));
                        continue;
                    }
                }
            }
            map.insert_module(module, &scanned[&dir]);
            module_dirs.insert(module, dir);
        }
        Ok(map)
    }

    /// The block that declares the resource at `address` (any instance of it).
    pub fn locate(&self, address: &str) -> Option<&Location> {
        let address = Address::parse(address)?;
        self.blocks
            .get(&(address.config_module(), address.config_resource()))
    }

    fn insert_module(&mut self, module: &str, blocks: &[(String, Location)]) {
        for (resource, location) in blocks {
            // A resource declared twice is invalid Terraform; the first file (by name) wins.
            self.blocks
                .entry((module.to_owned(), resource.clone()))
                .or_insert_with(|| location.clone());
        }
    }
}

/// Terraform's rule: a local module source starts with `./` or `../`.
fn is_local(source: &str) -> bool {
    source.starts_with("./") || source.starts_with("../")
}

/// Removes `.` and folds `name/..` without touching the file system (a module directory is
/// reported as the code names it, not through symbolic links).
pub(crate) fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The `resource` and `data` blocks of one module directory's `.tf` files, in file-name
/// order. `shown` is the directory as locations name it.
fn scan_dir(
    dir: &Path,
    shown: &Path,
    skipped: &mut Vec<Skipped>,
) -> std::io::Result<Vec<(String, Location)>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.extension().is_some_and(|e| e == "tf") && p.is_file())
        .collect();
    files.sort();
    let mut blocks = Vec::new();
    for file in files {
        let Some(name) = file.file_name() else {
            continue;
        };
        let path = shown.join(name);
        let source = match std::fs::read_to_string(&file) {
            Ok(source) => source,
            Err(e) => {
                skipped.push(Skipped::File {
                    path,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        match declared_blocks(&source) {
            Ok(found) => blocks.extend(found.into_iter().map(|(resource, line)| {
                (
                    resource,
                    Location {
                        path: path.clone(),
                        line,
                    },
                )
            })),
            Err(reason) => skipped.push(Skipped::File { path, reason }),
        }
    }
    Ok(blocks)
}

/// The top-level `resource "TYPE" "NAME"` and `data "TYPE" "NAME"` blocks of one file, as
/// `TYPE.NAME` / `data.TYPE.NAME` with the line they start on.
fn declared_blocks(source: &str) -> Result<Vec<(String, usize)>, String> {
    let body = hcl_edit::parser::parse_body(source).map_err(|e| {
        let at = e.location();
        format!("line {}: {}", at.line(), e.message())
    })?;
    Ok(body
        .iter()
        .filter_map(|structure| structure.as_block())
        .filter_map(|block| {
            let prefix = match block.ident.as_str() {
                "resource" => "",
                "data" => "data.",
                _ => return None,
            };
            let [rtype, name] = block.labels.as_slice() else {
                return None;
            };
            let line = line_of(source, block.span()?.start);
            Some((
                format!("{prefix}{}.{}", rtype.as_str(), name.as_str()),
                line,
            ))
        })
        .collect())
}

/// The 1-based line holding byte `offset`.
fn line_of(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Configuration;
    use crate::plan::configuration::RawConfiguration;

    fn tree() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/tf")
    }

    /// The module sources as the plan of testdata/tf states them in `configuration`.
    fn plan_module_sources() -> BTreeMap<String, String> {
        let section = serde_json::json!({
            "root_module": {
                "resources": [{"address": "google_cloud_run_v2_service.site", "mode": "managed",
                    "type": "google_cloud_run_v2_service", "name": "site",
                    "provider_config_key": "google", "expressions": {}, "schema_version": 0}],
                "module_calls": {
                    "api": {
                        "source": "./modules/api",
                        "for_each_expression": {"references": []},
                        "expressions": {"region": {"references": ["each.key"]}},
                        "module": {
                            "resources": [{"address": "google_cloud_run_v2_service.this",
                                "mode": "managed", "type": "google_cloud_run_v2_service",
                                "name": "this", "provider_config_key": "google",
                                "expressions": {}, "schema_version": 0}],
                            "module_calls": {"db": {"source": "../db", "module": {}}},
                            "variables": {"region": {}}
                        }
                    },
                    "network": {
                        "source": "terraform-google-modules/network/google",
                        "version_constraint": "~> 9.0",
                        "module": {}
                    }
                }
            }
        })
        .to_string();
        let raw: RawConfiguration = serde_json::from_str(&section).unwrap();
        Configuration::from_raw(raw, &|_| true)
            .unwrap()
            .module_sources()
    }

    fn at(path: &str, line: usize) -> Option<Location> {
        Some(Location {
            path: path.into(),
            line,
        })
    }

    #[test]
    fn module_sources_come_from_the_plan_configuration_nested_calls_included() {
        let sources = plan_module_sources();
        let expected: BTreeMap<String, String> = [
            ("module.api", "./modules/api"),
            ("module.api.module.db", "../db"),
            ("module.network", "terraform-google-modules/network/google"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(sources, expected);
    }

    #[test]
    fn every_instance_maps_to_the_block_that_declares_it() {
        let map = SourceMap::build(&tree(), &plan_module_sources()).unwrap();
        let cases = [
            ("google_cloud_run_v2_service.site", at("main.tf", 13)),
            ("google_project_iam_member.x[0]", at("main.tf", 29)),
            ("google_project_iam_member.x[1]", at("main.tf", 29)),
            (
                r#"google_cloud_run_v2_service_iam_member.public["site"]"#,
                at("iam.tf", 8),
            ),
            ("data.google_iam_policy.public", at("iam.tf", 1)),
            (
                r#"module.api["eu"].google_cloud_run_v2_service.this"#,
                at("modules/api/main.tf", 5),
            ),
            (
                r#"module.api["us"].google_service_account.runtime"#,
                at("modules/api/main.tf", 1),
            ),
            (
                r#"module.api["eu"].module.db.google_service_account.db"#,
                at("modules/db/main.tf", 2),
            ),
        ];
        for (address, expected) in cases {
            assert_eq!(map.locate(address).cloned(), expected, "{address}");
        }
    }

    #[test]
    fn what_is_not_declared_in_the_tree_is_not_located() {
        let map = SourceMap::build(&tree(), &plan_module_sources()).unwrap();
        for address in [
            // Named in a comment and in a heredoc, never declared.
            "google_cloud_run_v2_service.decoy",
            "google_cloud_run_v2_service.in_a_heredoc",
            // A resource of the root module is not one of a module's.
            "module.api.google_cloud_run_v2_service.site",
            // A data source is not the managed resource of the same name.
            "google_iam_policy.public",
            // The registry module's code is not here.
            "module.network.google_compute_network.network",
            // Not an address.
            "projects/acme/locations/eu/services/api",
        ] {
            assert_eq!(map.locate(address), None, "{address}");
        }
        assert_eq!(
            map.skipped,
            [Skipped::Module {
                module: "module.network".into(),
                source: "terraform-google-modules/network/google".into(),
                reason: "not a local path; its code is not in the tree".into(),
            }]
        );
    }

    #[test]
    fn broken_files_and_missing_modules_are_skipped_and_the_rest_is_mapped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("good.tf"),
            "resource \"google_service_account\" \"ok\" {\n  account_id = \"ok\"\n}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("broken.tf"),
            "resource \"a\" \"b\" {\n  x = \n",
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "resource \"a\" \"c\" {}\n").unwrap();
        let sources: BTreeMap<String, String> = [
            ("module.gone", "./modules/gone"),
            ("module.gone.module.child", "./child"),
            ("module.remote", "git::https://example.com/m.git"),
            ("module.remote.module.local", "./local"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let map = SourceMap::build(dir.path(), &sources).unwrap();
        assert_eq!(
            map.locate("google_service_account.ok"),
            at("good.tf", 1).as_ref()
        );
        assert_eq!(map.locate("a.c"), None, "only .tf files are read");
        let reasons: Vec<String> = map
            .skipped
            .iter()
            .map(|s| match s {
                Skipped::File { path, reason } => format!("{}: {reason}", path.display()),
                Skipped::Module { module, reason, .. } => format!("{module}: {reason}"),
            })
            .collect();
        assert_eq!(reasons.len(), 5, "{reasons:#?}");
        assert!(
            reasons[0].starts_with("broken.tf: line 2: "),
            "{reasons:#?}"
        );
        assert!(
            reasons[1].starts_with("module.gone: cannot read modules/gone: "),
            "{reasons:#?}"
        );
        assert_eq!(
            reasons[2],
            "module.gone.module.child: its caller is not mapped"
        );
        assert!(reasons[3].starts_with("module.remote: not a local path"));
        assert_eq!(
            reasons[4],
            "module.remote.module.local: its caller is not mapped"
        );
    }

    #[test]
    fn an_unreadable_tf_dir_is_an_error() {
        let missing = tree().join("no-such-dir");
        let err = SourceMap::build(&missing, &BTreeMap::new()).unwrap_err();
        assert_eq!(err.path, missing);
        assert!(err.to_string().starts_with("--tf-dir "), "{err}");
    }

    #[test]
    fn module_directories_are_normalised_lexically() {
        assert_eq!(
            normalise(Path::new("modules/api/../db")),
            Path::new("modules/db")
        );
        assert_eq!(
            normalise(Path::new("./modules/./api")),
            Path::new("modules/api")
        );
        assert_eq!(
            normalise(Path::new("../shared/x")),
            Path::new("../shared/x")
        );
        assert_eq!(normalise(Path::new("a/../../b")), Path::new("../b"));
        assert!(is_local("./m") && is_local("../m"));
        assert!(!is_local("hashicorp/consul/aws") && !is_local("git::https://x/m.git"));
    }
}
