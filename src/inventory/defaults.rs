//! The one rule for an attribute that has an API default and that the plan shows as unknown.
//!
//! Terraform shows an attribute as unknown (`after_unknown`) for two different reasons:
//!
//! - the configuration sets it to an expression that is only known at apply (`local.x`, a
//!   resource attribute, a function of either): its value is whatever that expression gives, so
//!   it is **unknown**;
//! - the configuration does not set it, the schema marks it Optional + Computed, and the object
//!   is being created: the provider leaves it for the API to fill, so it is the **API default**.
//!
//! The plan's `configuration` section tells them apart: it has an expression for the attribute
//! in the first case and none in the second. Every attribute with a default (ingress, the
//! invoker check, the `run.app` URL, IAP, the v1 annotations, Binary Authorization, VPC egress,
//! and the runtime service account) is settled by [`unknown_value`].

/// What an attribute that the plan shows as unknown stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownValue {
    /// Unset on create: the API applies its default.
    ApiDefault,
    /// Set to something not known at plan time, or unknown on an update (an Optional + Computed
    /// attribute keeps its prior value, which the plan does not show as unknown; one that is
    /// unknown on update is being set).
    Unknown,
}

/// `creating`: the object is being created (or replaced) by the plan. `configured`: the
/// configuration has an expression for the attribute (a constant, references, or `{}` for an
/// expression without either).
pub fn unknown_value(creating: bool, configured: bool) -> UnknownValue {
    if creating && !configured {
        UnknownValue::ApiDefault
    } else {
        UnknownValue::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unset_on_create_is_the_default() {
        assert_eq!(unknown_value(true, false), UnknownValue::ApiDefault);
        assert_eq!(unknown_value(true, true), UnknownValue::Unknown);
        assert_eq!(unknown_value(false, false), UnknownValue::Unknown);
        assert_eq!(unknown_value(false, true), UnknownValue::Unknown);
    }
}
