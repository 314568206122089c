use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

/// Who a token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Organiser,
    /// Someone who registered; holds a manage token for one registration, no account.
    Participant,
    /// Another Cloverleaf service.
    Service,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Organiser => "organiser",
            Self::Participant => "participant",
            Self::Service => "service",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Self::Admin),
            "organiser" => Ok(Self::Organiser),
            "participant" => Ok(Self::Participant),
            "service" => Ok(Self::Service),
            other => Err(format!("unknown role {other:?}")),
        }
    }
}

/// Prefix of the scope that ties a manage token to one registration: `registration:<uuid>`.
pub const REGISTRATION_SCOPE_PREFIX: &str = "registration:";

/// The claims of every Cloverleaf token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    /// Space-separated scopes (RFC 8693 style); a manage token carries `registration:<id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The teams the holder is in and their role in each (organisers' tokens; absent = in no team).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<crate::teams::TeamGrant>,
    pub iss: String,
    #[serde(deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
}

impl Claims {
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.as_deref().unwrap_or("").split_whitespace()
    }

    pub fn has_scope(&self, wanted: &str) -> bool {
        self.scopes().any(|s| s == wanted)
    }

    /// The registration a participant's manage token opens, if it is one.
    pub fn managed_registration(&self) -> Option<Uuid> {
        if self.role != Role::Participant {
            return None;
        }
        self.scopes()
            .find_map(|s| s.strip_prefix(REGISTRATION_SCOPE_PREFIX))
            .and_then(|id| id.parse().ok())
    }

    pub fn is_organiser_or_admin(&self) -> bool {
        matches!(self.role, Role::Organiser | Role::Admin)
    }
}

/// `aud` may be one string or an array of strings (RFC 7519 §4.1.3).
fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}
