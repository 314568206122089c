//! The audit trail's vocabulary, free of I/O: what was done ([`AuditAction`]). An entry names who acted (the
//! token's subject), what they did and to which event or registration, with a JSON detail of ids and values — never
//! a participant's name or address, so erasing a registration leaves its audit entries as they are.

use cloverleaf_service_kit::validate::Invalid;
use serde::{Deserialize, Serialize};

/// What an audit entry records. Stored as its name (`audit_entries.action`, at most 32 characters).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(
    rs_type = "String",
    db_type = "String(sea_orm::sea_query::StringLen::N(32))"
)]
pub enum AuditAction {
    /// An application was approved.
    #[sea_orm(string_value = "approved")]
    Approved,
    /// An application was rejected.
    #[sea_orm(string_value = "rejected")]
    Rejected,
    /// Someone was checked in.
    #[sea_orm(string_value = "checked_in")]
    CheckedIn,
    /// Personal data left the service (the registrations' CSV, one registration's data).
    #[sea_orm(string_value = "exported")]
    Exported,
    /// A registration's personal data was erased.
    #[sea_orm(string_value = "erased")]
    Erased,
    /// A team's membership changed (a member added, their role changed, or removed).
    #[sea_orm(string_value = "permissions_changed")]
    PermissionsChanged,
}

impl AuditAction {
    pub const ALL: [Self; 6] = [
        Self::Approved,
        Self::Rejected,
        Self::CheckedIn,
        Self::Exported,
        Self::Erased,
        Self::PermissionsChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::CheckedIn => "checked_in",
            Self::Exported => "exported",
            Self::Erased => "erased",
            Self::PermissionsChanged => "permissions_changed",
        }
    }

    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let value = value.trim();
        Self::ALL
            .into_iter()
            .find(|action| action.as_str() == value)
            .ok_or_else(|| {
                Invalid::new(
                    "invalid_action",
                    "must be approved, rejected, checked_in, exported, erased or permissions_changed",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_read_back_as_they_are_written() {
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()).expect("parse"), action);
            assert_eq!(
                serde_json::to_value(action).expect("json"),
                serde_json::Value::String(action.as_str().to_owned())
            );
        }
        assert_eq!(
            AuditAction::parse("deleted").expect_err("unknown").code,
            "invalid_action"
        );
    }
}
