//! Where an IAM grant is made.

use std::fmt;

use serde::Serialize;

/// Where an IAM grant is made: on the resource itself, or on a scope that holds it.
///
/// Declared in alphabetical order: grants and findings sort by level, and this keeps the order
/// the report had when levels were strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// A folder, and every project under it.
    Folder,
    /// An organization, and everything in it.
    Organization,
    /// A project, and every resource in it.
    Project,
    /// The resource itself.
    Resource,
}

impl Level {
    /// The spelling the report uses: `folder`, `organization`, `project` or `resource`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Folder => "folder",
            Level::Organization => "organization",
            Level::Project => "project",
            Level::Resource => "resource",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_are_the_report_spellings() {
        for level in [
            Level::Folder,
            Level::Organization,
            Level::Project,
            Level::Resource,
        ] {
            let json = serde_json::to_string(&level).unwrap();
            assert_eq!(json, format!("\"{}\"", level.as_str()));
        }
    }

    #[test]
    fn order_is_alphabetical_as_the_strings_were() {
        let mut levels = [
            Level::Resource,
            Level::Project,
            Level::Organization,
            Level::Folder,
        ];
        levels.sort();
        let names: Vec<&str> = levels.iter().map(|l| l.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }
}
