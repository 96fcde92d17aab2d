//! Typed errors for input that is not a usable plan. Each message says what the input is and
//! what to run instead; the binary prefixes the file name.

use std::fmt;

/// Why an input could not be read as a `terraform show -json` plan.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputError {
    /// Zero bytes, or only whitespace / a byte-order mark.
    Empty,
    /// A zip archive: the binary plan that `terraform plan -out` writes.
    BinaryPlan,
    /// An HTML or XML page, typically an error page saved by mistake.
    Markup,
    /// The machine-readable UI stream of `terraform plan -json`.
    UiStream,
    /// Bytes that are not valid UTF-8 (or UTF-16 that does not decode).
    InvalidText {
        /// What does not decode.
        detail: String,
    },
    /// Text that is not JSON at all.
    NotJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// JSON that ends before the document is complete.
    Truncated {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// JSON that is syntactically broken or too deeply nested.
    MalformedJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        detail: String,
    },
    /// `terraform show -json` of a state file, not of a plan.
    StateFile,
    /// JSON, but no Terraform plan document.
    NotAPlan {
        /// What the document is missing.
        detail: String,
    },
    /// A plan whose `format_version` major is neither 0 nor 1.
    UnsupportedFormat {
        /// The plan's `format_version`.
        version: String,
    },
    /// A plan whose structure is broken where the analysis must read it.
    BadPlanStructure {
        /// Where and what.
        detail: String,
    },
    /// A mapped plan file ([`crate::map_plan_file`]) whose size or modification time changed
    /// while it was parsed: what was parsed may be neither version. Read it
    /// ([`crate::read_plan_file`]) and analyse the copy.
    ChangedWhileRead,
}

const SHOW_HINT: &str = "run `terraform show -json tfplan > plan.json` and pass plan.json";

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::Empty => write!(f, "the file is empty; {SHOW_HINT}"),
            InputError::BinaryPlan => write!(
                f,
                "this is a binary plan file (a zip archive), not JSON; {SHOW_HINT}"
            ),
            InputError::Markup => {
                write!(f, "this is an HTML/XML document, not a plan; {SHOW_HINT}")
            }
            InputError::UiStream => write!(
                f,
                "this is the `terraform plan -json` log stream (JSON Lines), not a plan document; \
                 save the plan with `terraform plan -out tfplan`, then {SHOW_HINT}"
            ),
            InputError::InvalidText { detail } => {
                write!(f, "the file is not valid text ({detail}); {SHOW_HINT}")
            }
            InputError::NotJson { line, column } => write!(
                f,
                "not JSON (line {line}, column {column}); is this `terraform plan` text output? \
                 {SHOW_HINT}"
            ),
            InputError::Truncated { line, column } => write!(
                f,
                "the JSON ends early at line {line}, column {column} (truncated file?); \
                 write it again with `terraform show -json tfplan > plan.json`"
            ),
            InputError::MalformedJson {
                line,
                column,
                detail,
            } => write!(
                f,
                "malformed JSON at line {line}, column {column}: {detail}; {SHOW_HINT}"
            ),
            InputError::StateFile => write!(
                f,
                "this is a Terraform state, not a plan; run `terraform plan -out tfplan`, then \
                 {SHOW_HINT}"
            ),
            InputError::NotAPlan { detail } => {
                write!(f, "not a Terraform plan: {detail}; {SHOW_HINT}")
            }
            InputError::UnsupportedFormat { version } => write!(
                f,
                "unsupported plan format_version {version:?} (runguard reads 0.x and 1.x); \
                 upgrade runguard, or write the plan with a Terraform or OpenTofu that emits 1.x"
            ),
            InputError::BadPlanStructure { detail } => {
                write!(f, "the plan is malformed: {detail}")
            }
            InputError::ChangedWhileRead => write!(
                f,
                "the file changed while runguard read it; run runguard again once whatever \
                 writes it has finished"
            ),
        }
    }
}

impl std::error::Error for InputError {}

pub(super) fn json_error(text: &str, e: &serde_json::Error) -> InputError {
    let (line, column) = (e.line(), e.column());
    // Text that does not even start like a JSON document (the human `terraform plan` output).
    if !text.trim_start().starts_with(['{', '[']) {
        return InputError::NotJson { line, column };
    }
    match e.classify() {
        serde_json::error::Category::Eof => InputError::Truncated { line, column },
        // The document is an array, not an object.
        serde_json::error::Category::Data if text.trim_start().starts_with('[') => {
            InputError::NotAPlan {
                detail: "the top level is a JSON array, not an object with plan keys".into(),
            }
        }
        // A plan key of the wrong type, or given twice.
        serde_json::error::Category::Data => InputError::BadPlanStructure {
            detail: format!(
                "{} (line {line}, column {column})",
                strip_position(&e.to_string())
            ),
        },
        _ => InputError::MalformedJson {
            line,
            column,
            detail: strip_position(&e.to_string()),
        },
    }
}

/// serde_json appends " at line L column C"; the message carries the position already.
pub(super) fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}
