//! Teams and their members, free of I/O: what a valid team name is (one line of 1–120 characters, the Chinese name
//! likewise and optional) and how a member's role reads from a request. The roles themselves and what each may do
//! are `cloverleaf_auth::TeamRole` and its access rule, shared by every service.

use cloverleaf_auth::TeamRole;
use cloverleaf_service_kit::validate::{self, Invalid};

pub const TEAM_NAME_MAX_CHARS: usize = 120;

/// A team's name: trimmed, one line, 1–120 characters, no control characters.
pub fn team_name(value: &str) -> Result<String, Invalid> {
    validate::line(value, TEAM_NAME_MAX_CHARS)
}

/// A team's optional Chinese name (empty means none), checked like [`team_name`].
pub fn team_name_zh(value: Option<&str>) -> Result<Option<String>, Invalid> {
    validate::optional_line(value, TEAM_NAME_MAX_CHARS)
}

/// A member's role as a request names it: `organiser`, `viewer` or `check_in`.
pub fn member_role(value: &str) -> Result<TeamRole, Invalid> {
    TeamRole::parse(value.trim())
        .ok_or_else(|| Invalid::new("invalid_role", "must be organiser, viewer or check_in"))
}

/// What the audit trail keeps about a change of membership: ids and roles, nothing personal. `None` for the role
/// before (a new member) or after (a member removed).
pub fn membership_change_detail(
    team_id: uuid::Uuid,
    account_id: uuid::Uuid,
    old_role: Option<TeamRole>,
    new_role: Option<TeamRole>,
) -> serde_json::Value {
    serde_json::json!({
        "team_id": team_id,
        "account_id": account_id,
        "old_role": old_role.map(TeamRole::as_str),
        "new_role": new_role.map(TeamRole::as_str),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_line_of_1_to_120_characters() {
        assert_eq!(team_name("  PerMed Office ").expect("ok"), "PerMed Office");
        assert!(team_name(&"团".repeat(120)).is_ok(), "counts characters");
        assert_eq!(
            team_name(&"x".repeat(121)).expect_err("long").code,
            "too_long"
        );
        assert_eq!(team_name("  ").expect_err("empty").code, "required");
        assert_eq!(team_name("a\nb").expect_err("line").code, "line_break");
        assert_eq!(team_name_zh(Some("")).expect("empty is none"), None);
        assert_eq!(
            team_name_zh(Some("精准医学办公室")).expect("ok").as_deref(),
            Some("精准医学办公室")
        );
    }

    #[test]
    fn roles_are_the_three_the_tokens_know() {
        assert_eq!(member_role("organiser").expect("ok"), TeamRole::Organiser);
        assert_eq!(member_role("viewer").expect("ok"), TeamRole::Viewer);
        assert_eq!(member_role("check_in").expect("ok"), TeamRole::CheckIn);
        for bad in ["admin", "Viewer", "check-in", ""] {
            assert_eq!(member_role(bad).expect_err(bad).code, "invalid_role");
        }
    }

    #[test]
    fn a_membership_change_is_recorded_with_ids_and_roles_only() {
        let team = uuid::Uuid::now_v7();
        let account = uuid::Uuid::now_v7();
        let detail = membership_change_detail(team, account, None, Some(TeamRole::CheckIn));
        assert_eq!(
            detail,
            serde_json::json!({
                "team_id": team, "account_id": account, "old_role": null, "new_role": "check_in",
            })
        );
    }
}
