//! Teams and the one access rule every service applies to an event's data.
//!
//! A programme's partners are **teams**; an event belongs to one team (its owner) and may be shared with others
//! (co-organised). A token says which teams its holder is in, and with which role ([`TeamGrant`]); [`access`]
//! decides, from that and the event's teams alone, whether an action is allowed. Each service calls it on its own
//! data, with the event's teams as scheduling says them (never as the caller's page says them).
//!
//! | who | own or shared team's events | another team's events | events of no team |
//! |---|---|---|---|
//! | admin, another service | everything | everything | everything |
//! | team organiser | everything | hidden | hidden |
//! | team viewer | read, export | hidden | hidden |
//! | team check-in | check in | hidden | hidden |
//! | organiser in no team (programme-wide) | — | hidden | everything |
//!
//! "Hidden" is the answer for something whose existence must not leak (404): a draft, a registration list, a
//! delivery log. A service that shows the event publicly anyway (a published event) answers 403 to a change instead.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::claims::{Claims, Role};

/// What a member may do in a team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamRole {
    /// Creates and changes the team's events and everything in them.
    Organiser,
    /// Reads the team's events, registrations and exports; changes nothing.
    Viewer,
    /// Only checks people in at the team's events.
    CheckIn,
}

impl TeamRole {
    pub const ALL: [Self; 3] = [Self::Organiser, Self::Viewer, Self::CheckIn];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Organiser => "organiser",
            Self::Viewer => "viewer",
            Self::CheckIn => "check_in",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == value)
    }

    fn allows(self, action: Action) -> bool {
        match self {
            Self::Organiser => true,
            Self::Viewer => matches!(action, Action::Read | Action::Export),
            Self::CheckIn => action == Action::CheckIn,
        }
    }

    /// Of two roles in teams that share one event, the one that may do more counts.
    fn rank(self) -> u8 {
        match self {
            Self::Organiser => 0,
            Self::Viewer => 1,
            Self::CheckIn => 2,
        }
    }
}

/// Membership of one team, as a token carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TeamGrant {
    pub team: Uuid,
    pub role: TeamRole,
}

/// What is done to an event or to data that belongs to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See what is not public: a draft, the registrations, a form's settings, reminders, the delivery log.
    Read,
    /// Create, change, publish, cancel; approve, reject, erase; write to attendees.
    Change,
    /// Record someone's arrival.
    CheckIn,
    /// Download personal data (the registrations' CSV, one registration's data).
    Export,
}

/// Which teams an event belongs to.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventTeams<'a> {
    /// The owning team; `None` for events made before teams existed (programme-wide).
    pub owner: Option<Uuid>,
    /// Teams that co-organise it.
    pub shared_with: &'a [Uuid],
}

impl<'a> EventTeams<'a> {
    pub fn new(owner: Option<Uuid>, shared_with: &'a [Uuid]) -> Self {
        Self { owner, shared_with }
    }

    fn includes(&self, team: Uuid) -> bool {
        self.owner == Some(team) || self.shared_with.contains(&team)
    }
}

/// Why an action is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The caller has nothing to do with the event: its non-public data must look absent (404).
    Hidden,
    /// The caller belongs to the event's teams but their role does not allow this (403).
    Forbidden,
}

impl Denied {
    /// The answer every service gives for event data: 404 as if it were not there, or 403 naming the role.
    pub fn problem(self) -> cloverleaf_problem::Problem {
        match self {
            Self::Hidden => cloverleaf_problem::Problem::not_found("This event"),
            Self::Forbidden => cloverleaf_problem::Problem::forbidden(
                "your role in this event's team does not allow this",
            ),
        }
    }
}

/// The one access rule (see the module's table).
pub fn access(claims: &Claims, event: EventTeams<'_>, action: Action) -> Result<(), Denied> {
    match claims.role {
        Role::Admin | Role::Service => Ok(()),
        Role::Participant => Err(Denied::Hidden),
        Role::Organiser if claims.teams.is_empty() => match event.owner {
            None => Ok(()),
            Some(_) => Err(Denied::Hidden),
        },
        Role::Organiser => {
            let role = claims
                .teams
                .iter()
                .filter(|grant| event.includes(grant.team))
                .map(|grant| grant.role)
                .min_by_key(|role| role.rank())
                .ok_or(Denied::Hidden)?;
            if role.allows(action) {
                Ok(())
            } else {
                Err(Denied::Forbidden)
            }
        }
    }
}

impl Claims {
    /// May this caller create events and change shared directories (people, venues)? Admins; organisers of some
    /// team; programme-wide organisers (in no team). Viewers and check-in staff may not.
    pub fn may_organise(&self) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Organiser => {
                self.teams.is_empty() || self.teams.iter().any(|g| g.role == TeamRole::Organiser)
            }
            Role::Participant | Role::Service => false,
        }
    }

    /// The teams this caller organises events for.
    pub fn organised_teams(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.teams
            .iter()
            .filter(|g| g.role == TeamRole::Organiser)
            .map(|g| g.team)
    }

    /// Admins and services see every event's private data without a team.
    pub fn sees_all_teams(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Service)
    }

    /// Every team this caller is in, whatever its role.
    pub fn member_teams(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.teams.iter().map(|g| g.team)
    }

    /// Teams whose events this caller may read privately (drafts, registrations): those it organises or views.
    pub fn readable_teams(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.teams
            .iter()
            .filter(|g| g.role.allows(Action::Read))
            .map(|g| g.team)
    }

    /// The team a new event of this caller belongs to: the one named, which the caller must organise (admins may
    /// name any); else the only team it organises; else none for admins and programme-wide organisers. `Err` says
    /// why not, for the `team_id` field.
    pub fn team_for_new_event(&self, named: Option<Uuid>) -> Result<Option<Uuid>, &'static str> {
        if self.role == Role::Admin || self.role == Role::Service {
            return Ok(named);
        }
        let organised: Vec<Uuid> = self.organised_teams().collect();
        match named {
            Some(team) if organised.contains(&team) => Ok(Some(team)),
            Some(_) => Err("you do not organise events for this team"),
            None if self.teams.is_empty() => Ok(None),
            None => match organised.as_slice() {
                [only] => Ok(Some(*only)),
                [] => Err("you organise events for no team"),
                _ => Err("you organise events for several teams: name one"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(role: Role, teams: Vec<TeamGrant>) -> Claims {
        Claims {
            sub: "someone@example.org".into(),
            role,
            scope: None,
            teams,
            iss: "test".into(),
            aud: vec![],
            exp: 0,
            iat: 0,
            nbf: 0,
            jti: String::new(),
        }
    }

    const ACTIONS: [Action; 4] = [
        Action::Read,
        Action::Change,
        Action::CheckIn,
        Action::Export,
    ];

    #[test]
    fn roles_allow_what_the_table_says() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let own = EventTeams::new(Some(a), &[]);
        let grant = |role| vec![TeamGrant { team: a, role }];
        for action in ACTIONS {
            assert_eq!(access(&claims(Role::Admin, vec![]), own, action), Ok(()));
            assert_eq!(
                access(
                    &claims(Role::Organiser, grant(TeamRole::Organiser)),
                    own,
                    action
                ),
                Ok(())
            );
            let viewer = access(
                &claims(Role::Organiser, grant(TeamRole::Viewer)),
                own,
                action,
            );
            assert_eq!(
                viewer.is_ok(),
                matches!(action, Action::Read | Action::Export),
                "{action:?}"
            );
            let door = access(
                &claims(Role::Organiser, grant(TeamRole::CheckIn)),
                own,
                action,
            );
            assert_eq!(door.is_ok(), action == Action::CheckIn, "{action:?}");
            if let Err(denied) = viewer.and(door) {
                assert_eq!(denied, Denied::Forbidden);
            }
            // Another team's organiser knows nothing of it.
            let other = claims(
                Role::Organiser,
                vec![TeamGrant {
                    team: b,
                    role: TeamRole::Organiser,
                }],
            );
            assert_eq!(access(&other, own, action), Err(Denied::Hidden));
            // Shared with b: b's organiser co-organises.
            assert_eq!(
                access(&other, EventTeams::new(Some(a), &[b]), action),
                Ok(())
            );
            // Programme-wide organisers: events of no team only.
            let wide = claims(Role::Organiser, vec![]);
            assert_eq!(access(&wide, own, action), Err(Denied::Hidden));
            assert_eq!(access(&wide, EventTeams::default(), action), Ok(()));
            assert_eq!(
                access(&other, EventTeams::default(), action),
                Err(Denied::Hidden)
            );
            assert_eq!(
                access(&claims(Role::Participant, vec![]), own, action),
                Err(Denied::Hidden)
            );
        }
    }

    #[test]
    fn the_strongest_role_among_an_events_teams_counts() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let both = claims(
            Role::Organiser,
            vec![
                TeamGrant {
                    team: a,
                    role: TeamRole::Viewer,
                },
                TeamGrant {
                    team: b,
                    role: TeamRole::Organiser,
                },
            ],
        );
        assert_eq!(
            access(&both, EventTeams::new(Some(a), &[b]), Action::Change),
            Ok(())
        );
        assert_eq!(
            access(&both, EventTeams::new(Some(a), &[]), Action::Change),
            Err(Denied::Forbidden)
        );
        assert!(both.may_organise());
        assert!(
            !claims(
                Role::Organiser,
                vec![TeamGrant {
                    team: a,
                    role: TeamRole::Viewer
                }]
            )
            .may_organise()
        );
    }
}
