//! Teams and their members (the account and its role in the team), and the migration of the teams and audit
//! tables.
//!
//! Every change of membership ([`set_member`], [`remove_member`]) writes its `permissions_changed` audit entry in the
//! same transaction, which first locks the team's row (PostgreSQL `FOR UPDATE`; SQLite `BEGIN IMMEDIATE`), so two
//! changes to one team queue up and each entry names the role it really replaced. [`grants_of`] gives an account's
//! memberships as its login token carries them.

use chrono::Utc;
use cloverleaf_auth::{TeamGrant, TeamRole};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};
use uuid::Uuid;

use super::accounts::account;
use super::audit::{self, NewAuditEntry};
use crate::Error;
use crate::domain::audit::AuditAction;
use crate::domain::refusal::Refusal;
use crate::domain::teams::membership_change_detail;
use cloverleaf_service_kit::db;

pub mod team {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "teams")]
    pub struct Model {
        /// UUIDv7.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// 1–120 characters; unique.
        #[sea_orm(unique)]
        pub name: String,
        pub name_zh: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod team_member {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "team_members")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub team_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub account_id: Uuid,
        /// `organiser`, `viewer` or `check_in` (`cloverleaf_auth::TeamRole::as_str`).
        pub role: String,
        pub added_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A member as the team's page shows them: the account's address and name beside the role.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub account_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: TeamRole,
}

/// The stored role as the auth library's value.
pub fn role_of(model: &team_member::Model) -> Result<TeamRole, Error> {
    TeamRole::parse(&model.role).ok_or_else(|| {
        Error::Corrupt(format!(
            "team_members.role {:?} of account {} in team {}",
            model.role, model.account_id, model.team_id
        ))
    })
}

fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

fn name_taken(name: &str) -> Error {
    Refusal::TeamNameTaken {
        name: name.to_owned(),
    }
    .into()
}

/// A new team's fields, valid.
#[derive(Debug, Clone)]
pub struct NewTeam {
    pub name: String,
    pub name_zh: Option<String>,
}

/// What to change about a team; `name_zh: Some(None)` removes the Chinese name.
#[derive(Debug, Clone, Default)]
pub struct TeamChange {
    pub name: Option<String>,
    pub name_zh: Option<Option<String>>,
}

/// Creates a team; [`Refusal::TeamNameTaken`] when another has its name.
pub async fn create_team(db: &DatabaseConnection, new: NewTeam) -> Result<team::Model, Error> {
    let now = Utc::now();
    let model = team::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(new.name.clone()),
        name_zh: Set(new.name_zh),
        created_at: Set(now),
        updated_at: Set(now),
    };
    match model.insert(&db::writer(db)).await {
        Ok(model) => Ok(model),
        Err(error) if is_unique_violation(&error) => Err(name_taken(&new.name)),
        Err(error) => Err(error.into()),
    }
}

pub async fn team(db: &DatabaseConnection, id: Uuid) -> Result<team::Model, Error> {
    team::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Refusal::TeamNotFound.into())
}

/// Teams by name (unique), paged by the name; only those in `only` when it is given (a member's own teams).
pub async fn list_teams(
    db: &DatabaseConnection,
    only: Option<&[Uuid]>,
    after: Option<String>,
    limit: u64,
) -> Result<Vec<team::Model>, Error> {
    let mut query = team::Entity::find();
    if let Some(ids) = only {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        query = query.filter(team::Column::Id.is_in(ids.iter().copied()));
    }
    if let Some(name) = after {
        query = query.filter(team::Column::Name.gt(name));
    }
    Ok(query
        .order_by_asc(team::Column::Name)
        .limit(limit + 1)
        .all(db)
        .await?)
}

/// Renames a team; [`Refusal::TeamNameTaken`] when another has the new name.
pub async fn update_team(
    db: &DatabaseConnection,
    id: Uuid,
    change: TeamChange,
) -> Result<team::Model, Error> {
    let txn = db::begin_write(db).await?;
    let current = team::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(Refusal::TeamNotFound)?;
    let mut model: team::ActiveModel = current.into();
    let name = change.name.clone();
    if let Some(name) = change.name {
        model.name = Set(name);
    }
    if let Some(name_zh) = change.name_zh {
        model.name_zh = Set(name_zh);
    }
    model.updated_at = Set(Utc::now());
    let updated = match model.update(&txn).await {
        Ok(updated) => updated,
        Err(error) if is_unique_violation(&error) => {
            return Err(name_taken(name.as_deref().unwrap_or_default()));
        }
        Err(error) => return Err(error.into()),
    };
    txn.commit().await?;
    Ok(updated)
}

/// A team's members with their accounts, by email address.
pub async fn members(db: &DatabaseConnection, team_id: Uuid) -> Result<Vec<Member>, Error> {
    let rows = team_member::Entity::find()
        .filter(team_member::Column::TeamId.eq(team_id))
        .all(db)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|m| m.account_id).collect();
    let accounts = if ids.is_empty() {
        Vec::new()
    } else {
        account::Entity::find()
            .filter(account::Column::Id.is_in(ids))
            .all(db)
            .await?
    };
    let mut members = rows
        .iter()
        .map(|row| {
            let found = accounts
                .iter()
                .find(|a| a.id == row.account_id)
                .ok_or_else(|| {
                    Error::Corrupt(format!(
                        "team member {} of team {team_id} has no account",
                        row.account_id
                    ))
                })?;
            Ok(Member {
                account_id: row.account_id,
                email: found.email.clone(),
                name: found.name.clone(),
                role: role_of(row)?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    members.sort_by(|a, b| a.email.cmp(&b.email));
    Ok(members)
}

/// The teams an account is in and its role in each, as its login token carries them (by team id).
pub async fn grants_of<C: ConnectionTrait>(
    db: &C,
    account_id: Uuid,
) -> Result<Vec<TeamGrant>, Error> {
    team_member::Entity::find()
        .filter(team_member::Column::AccountId.eq(account_id))
        .order_by_asc(team_member::Column::TeamId)
        .all(db)
        .await?
        .iter()
        .map(|row| {
            Ok(TeamGrant {
                team: row.team_id,
                role: role_of(row)?,
            })
        })
        .collect()
}

/// Makes `account_id` a member of `team_id` with `role`, or changes its role; `actor` (the admin's token subject)
/// is recorded with the change in the same transaction. Nothing is recorded when the role was that already.
/// [`Refusal::TeamNotFound`] / [`Refusal::AccountNotFound`] for an unknown team or account.
pub async fn set_member(
    db: &DatabaseConnection,
    team_id: Uuid,
    account_id: Uuid,
    role: TeamRole,
    actor: &str,
) -> Result<Member, Error> {
    let txn = db::begin_write(db).await?;
    team::Entity::find_by_id(team_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(Refusal::TeamNotFound)?;
    let found = account::Entity::find_by_id(account_id)
        .one(&txn)
        .await?
        .ok_or(Refusal::AccountNotFound)?;
    let current = team_member::Entity::find_by_id((team_id, account_id))
        .one(&txn)
        .await?;
    let old = current.as_ref().map(role_of).transpose()?;
    if old != Some(role) {
        match current {
            Some(current) => {
                let mut model: team_member::ActiveModel = current.into();
                model.role = Set(role.as_str().to_owned());
                model.update(&txn).await?;
            }
            None => {
                team_member::ActiveModel {
                    team_id: Set(team_id),
                    account_id: Set(account_id),
                    role: Set(role.as_str().to_owned()),
                    added_at: Set(Utc::now()),
                }
                .insert(&txn)
                .await?;
            }
        }
        record_membership_change(&txn, actor, team_id, account_id, old, Some(role)).await?;
    }
    txn.commit().await?;
    Ok(Member {
        account_id,
        email: found.email,
        name: found.name,
        role,
    })
}

/// A membership change's audit entry (ids and roles only), in the change's own transaction.
async fn record_membership_change(
    txn: &DatabaseTransaction,
    actor: &str,
    team_id: Uuid,
    account_id: Uuid,
    old: Option<TeamRole>,
    new: Option<TeamRole>,
) -> Result<(), Error> {
    audit::record(
        txn,
        NewAuditEntry {
            actor: actor.to_owned(),
            action: AuditAction::PermissionsChanged,
            event_id: None,
            registration_id: None,
            detail: membership_change_detail(team_id, account_id, old, new),
        },
    )
    .await?;
    Ok(())
}

/// Ends `account_id`'s membership of `team_id`, recorded with `actor` in the same transaction.
/// [`Refusal::TeamNotFound`] for an unknown team, [`Refusal::MemberNotFound`] when the account is not in it.
pub async fn remove_member(
    db: &DatabaseConnection,
    team_id: Uuid,
    account_id: Uuid,
    actor: &str,
) -> Result<(), Error> {
    let txn = db::begin_write(db).await?;
    team::Entity::find_by_id(team_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(Refusal::TeamNotFound)?;
    let current = team_member::Entity::find_by_id((team_id, account_id))
        .one(&txn)
        .await?
        .ok_or(Refusal::MemberNotFound)?;
    let old = role_of(&current)?;
    team_member::Entity::delete_by_id((team_id, account_id))
        .exec(&txn)
        .await?;
    record_membership_change(&txn, actor, team_id, account_id, Some(old), None).await?;
    txn.commit().await?;
    Ok(())
}

/// The migration of the teams, team members and audit tables.
// async_trait's expansion needs the elided lifetime that rust_2018_idioms warns about.
#[allow(elided_lifetimes_in_paths)]
pub mod migration {
    use sea_orm_migration::prelude::*;

    use cloverleaf_service_kit::db::migration::instant;

    /// `teams`, `team_members` and `audit_entries`.
    pub struct CreateTeamsAndAudit;

    impl MigrationName for CreateTeamsAndAudit {
        fn name(&self) -> &str {
            "m20261203_000010_create_teams_and_audit"
        }
    }

    #[derive(DeriveIden)]
    enum Teams {
        Table,
        Id,
        Name,
        NameZh,
        CreatedAt,
        UpdatedAt,
    }

    #[derive(DeriveIden)]
    enum TeamMembers {
        Table,
        TeamId,
        AccountId,
        Role,
        AddedAt,
    }

    #[derive(DeriveIden)]
    enum Accounts {
        Table,
        Id,
    }

    #[derive(DeriveIden)]
    enum AuditEntries {
        Table,
        Id,
        At,
        Actor,
        Action,
        EventId,
        RegistrationId,
        Detail,
    }

    #[async_trait::async_trait]
    impl MigrationTrait for CreateTeamsAndAudit {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(Teams::Table)
                        .col(ColumnDef::new(Teams::Id).uuid().not_null().primary_key())
                        .col(
                            ColumnDef::new(Teams::Name)
                                .string_len(120)
                                .not_null()
                                .unique_key(),
                        )
                        .col(ColumnDef::new(Teams::NameZh).string_len(120).null())
                        .col(instant(Teams::CreatedAt))
                        .col(instant(Teams::UpdatedAt))
                        .to_owned(),
                )
                .await?;
            manager
                .create_table(
                    Table::create()
                        .table(TeamMembers::Table)
                        .col(ColumnDef::new(TeamMembers::TeamId).uuid().not_null())
                        .col(ColumnDef::new(TeamMembers::AccountId).uuid().not_null())
                        .col(ColumnDef::new(TeamMembers::Role).string_len(16).not_null())
                        .col(instant(TeamMembers::AddedAt))
                        .primary_key(
                            Index::create()
                                .col(TeamMembers::TeamId)
                                .col(TeamMembers::AccountId),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .from(TeamMembers::Table, TeamMembers::TeamId)
                                .to(Teams::Table, Teams::Id)
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .from(TeamMembers::Table, TeamMembers::AccountId)
                                .to(Accounts::Table, Accounts::Id)
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .to_owned(),
                )
                .await?;
            // An account's teams, at login.
            manager
                .create_index(
                    Index::create()
                        .name("team_members_by_account")
                        .table(TeamMembers::Table)
                        .col(TeamMembers::AccountId)
                        .to_owned(),
                )
                .await?;
            manager
                .create_table(
                    Table::create()
                        .table(AuditEntries::Table)
                        .col(
                            ColumnDef::new(AuditEntries::Id)
                                .uuid()
                                .not_null()
                                .primary_key(),
                        )
                        .col(instant(AuditEntries::At))
                        .col(ColumnDef::new(AuditEntries::Actor).text().not_null())
                        .col(
                            ColumnDef::new(AuditEntries::Action)
                                .string_len(32)
                                .not_null(),
                        )
                        .col(ColumnDef::new(AuditEntries::EventId).uuid().null())
                        .col(ColumnDef::new(AuditEntries::RegistrationId).uuid().null())
                        .col(ColumnDef::new(AuditEntries::Detail).text().not_null())
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("audit_entries_by_at")
                        .table(AuditEntries::Table)
                        .col(AuditEntries::At)
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("audit_entries_by_event")
                        .table(AuditEntries::Table)
                        .col(AuditEntries::EventId)
                        .col(AuditEntries::Id)
                        .to_owned(),
                )
                .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            for table in [
                AuditEntries::Table.into_iden(),
                TeamMembers::Table.into_iden(),
                Teams::Table.into_iden(),
            ] {
                manager
                    .drop_table(Table::drop().table(table).if_exists().to_owned())
                    .await?;
            }
            Ok(())
        }
    }
}
