//! IAM facts that do not depend on the plan: member syntax and role capabilities.

mod level;
pub mod member;
pub mod roles;

pub use level::Level;
pub use member::{MemberKind, classify, normalize};
pub use roles::{Caps, predefined_caps};
