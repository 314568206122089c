//! Organiser and admin accounts, and the failed-login count per address that throttles guessing.
//!
//! The API (`POST /v1/accounts`) and the command line (`cloverleaf accounts create`) create accounts through
//! [`create_account`]. A login attempt is first counted by [`begin_login_attempt`] — in a write transaction that
//! locks the address's row, so parallel guesses queue up and every one of them is counted — and a success then clears
//! the count ([`login_succeeded`]). Password hashing runs on blocking threads ([`hash_password`], [`check_password`]).

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};
use uuid::Uuid;

use crate::Error;
use crate::domain::accounts::{
    self, AccountChange, AccountEmail, AccountRole, FORGET_FAILURES_AFTER, LoginFailures, Password,
};
use crate::domain::refusal::Refusal;
use cloverleaf_service_kit::db;

pub mod account {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "accounts")]
    pub struct Model {
        /// UUIDv7.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// Lower-case; unique.
        #[sea_orm(unique)]
        pub email: String,
        pub name: String,
        /// `organiser` or `admin`.
        pub role: crate::domain::accounts::AccountRole,
        /// argon2id PHC string. Never leaves the service.
        pub password_hash: String,
        pub disabled: bool,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub last_login_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod login_failure {
    use sea_orm::entity::prelude::*;

    /// Consecutive failed logins for one address (lower-cased, whether or not it has an account, so the throttle
    /// answers the same for both).
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "login_failures")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub email: String,
        pub failures: i32,
        pub last_failure_at: DateTimeUtc,
        /// No longer set: logins are slowed down, never locked (rows written by earlier versions may hold a time).
        pub locked_until: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// The stored role as the domain's value (an active enum: read from the column as it is).
pub fn role_of(model: &account::Model) -> Result<AccountRole, Error> {
    Ok(model.role)
}

fn email_taken(email: &str) -> Error {
    Refusal::EmailTaken {
        email: email.to_owned(),
    }
    .into()
}

/// Runs argon2 on a blocking thread, so a login never stalls the threads that serve other requests.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| Error::Hashing(format!("the hashing task failed: {error}")))
}

/// The argon2id PHC string of a new password.
pub async fn hash_password(password: Password) -> Result<String, Error> {
    blocking(move || accounts::hash_password(&password))
        .await?
        .map_err(|error| Error::Hashing(error.to_string()))
}

/// Whether `password` is the one `hash` was made from; with no hash (no such account) a dummy hash is checked, so
/// the answer takes as long either way.
pub async fn check_password(hash: Option<String>, password: String) -> Result<bool, Error> {
    blocking(move || accounts::verify_login(hash.as_deref(), &password)).await
}

/// A new account's fields, valid.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: AccountEmail,
    pub name: String,
    pub role: AccountRole,
    pub password: Password,
}

/// Creates an account; [`Refusal::EmailTaken`] when the address has one already.
pub async fn create_account(
    db: &DatabaseConnection,
    new: NewAccount,
) -> Result<account::Model, Error> {
    let email = new.email.into_string();
    // Checked first to spare the hashing; the unique index decides when two creates race.
    if account_by_email(db, &email).await?.is_some() {
        return Err(email_taken(&email));
    }
    let password_hash = hash_password(new.password).await?;
    let now = Utc::now();
    let model = account::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email.clone()),
        name: Set(new.name),
        role: Set(new.role),
        password_hash: Set(password_hash),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        last_login_at: Set(None),
    };
    match model.insert(db).await {
        Ok(model) => Ok(model),
        Err(error) if is_unique_violation(&error) => Err(email_taken(&email)),
        Err(error) => Err(error.into()),
    }
}

pub async fn account(db: &DatabaseConnection, id: Uuid) -> Result<account::Model, Error> {
    account::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Refusal::AccountNotFound.into())
}

/// The account of an address as [`accounts::login_key`] gives it (lower-case).
pub async fn account_by_email(
    db: &DatabaseConnection,
    email: &str,
) -> Result<Option<account::Model>, Error> {
    Ok(account::Entity::find()
        .filter(account::Column::Email.eq(email))
        .one(db)
        .await?)
}

/// Accounts by email address, paged by the address (unique).
pub async fn list_accounts(
    db: &DatabaseConnection,
    after: Option<String>,
    limit: u64,
) -> Result<Vec<account::Model>, Error> {
    let mut query = account::Entity::find();
    if let Some(email) = after {
        query = query.filter(account::Column::Email.gt(email));
    }
    Ok(query
        .order_by_asc(account::Column::Email)
        .limit(limit + 1)
        .all(db)
        .await?)
}

/// Changes an account's name, role or disabled flag. `acting` is the subject of the admin's token: an admin may not
/// disable or demote their own account ([`Refusal::OwnAccount`] naming the field).
pub async fn update_account(
    db: &DatabaseConnection,
    id: Uuid,
    change: AccountChange,
    acting: &str,
) -> Result<account::Model, Error> {
    let txn = db::begin_write(db).await?;
    let current = account::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(Refusal::AccountNotFound)?;
    let role = role_of(&current)?;
    if current.email == accounts::login_key(acting)
        && let Err((field, message)) = accounts::own_account_change(role, &change)
    {
        return Err(Refusal::OwnAccount { field, message }.into());
    }
    let mut model: account::ActiveModel = current.into();
    if let Some(name) = change.name {
        model.name = Set(name);
    }
    if let Some(role) = change.role {
        model.role = Set(role);
    }
    if let Some(disabled) = change.disabled {
        model.disabled = Set(disabled);
    }
    model.updated_at = Set(Utc::now());
    let updated = model.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Counts one login attempt for `email` (a [`accounts::login_key`]) before its password is checked, and says how much
/// later to answer it. The row is locked for the decision (PostgreSQL `FOR UPDATE`; SQLite `BEGIN IMMEDIATE`), so
/// parallel attempts are counted one after another and none slips past the slow-down.
pub async fn begin_login_attempt(
    db: &DatabaseConnection,
    email: &str,
    now: DateTime<Utc>,
) -> Result<std::time::Duration, Error> {
    let txn = db::begin_write(db).await?;
    // The row must exist before it can be locked; the first attempts for an address may race to create it.
    login_failure::Entity::insert(login_failure::ActiveModel {
        email: Set(email.to_owned()),
        failures: Set(0),
        last_failure_at: Set(now),
        locked_until: Set(None),
    })
    .on_conflict_do_nothing_on([login_failure::Column::Email])
    .exec_without_returning(&txn)
    .await?;
    let row = login_failure::Entity::find_by_id(email.to_owned())
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(DbErr::RecordNotFound(
            "login_failures row just written".into(),
        ))?;
    let state = LoginFailures {
        failures: row.failures,
    };
    let (delay, next) = state.attempt();
    let mut model: login_failure::ActiveModel = row.into();
    model.failures = Set(next.failures);
    model.locked_until = Set(None);
    model.last_failure_at = Set(now);
    model.update(&txn).await?;
    txn.commit().await?;
    Ok(delay)
}

/// A login succeeded: the address's failures are forgotten and the account's last login noted.
pub async fn login_succeeded(
    db: &DatabaseConnection,
    email: &str,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    login_failure::Entity::delete_by_id(email.to_owned())
        .exec(db)
        .await?;
    account::Entity::update_many()
        .col_expr(
            account::Column::LastLoginAt,
            sea_orm::sea_query::Expr::value(Some(now)),
        )
        .filter(account::Column::Id.eq(account_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets the failures of addresses that have been quiet for a day, so that addresses tried once (most of them
/// without an account) do not pile up. (A lock written by an earlier version is kept until it has run out.)
pub async fn forget_stale_failures<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> Result<u64, Error> {
    let result = login_failure::Entity::delete_many()
        .filter(login_failure::Column::LastFailureAt.lt(now - FORGET_FAILURES_AFTER))
        .filter(
            Condition::any()
                .add(login_failure::Column::LockedUntil.is_null())
                .add(login_failure::Column::LockedUntil.lt(now)),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// The migration of the accounts tables.
// async_trait's expansion needs the elided lifetime that rust_2018_idioms warns about.
#[allow(elided_lifetimes_in_paths)]
pub mod migration {
    use sea_orm_migration::prelude::*;

    use cloverleaf_service_kit::db::migration::instant;

    /// `accounts` and `login_failures`.
    pub struct CreateAccounts;

    impl MigrationName for CreateAccounts {
        fn name(&self) -> &str {
            "m20261121_000010_create_accounts"
        }
    }

    #[derive(DeriveIden)]
    enum Accounts {
        Table,
        Id,
        Email,
        Name,
        Role,
        PasswordHash,
        Disabled,
        CreatedAt,
        UpdatedAt,
        LastLoginAt,
    }

    #[derive(DeriveIden)]
    enum LoginFailures {
        Table,
        Email,
        Failures,
        LastFailureAt,
        LockedUntil,
    }

    #[async_trait::async_trait]
    impl MigrationTrait for CreateAccounts {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(Accounts::Table)
                        .col(ColumnDef::new(Accounts::Id).uuid().not_null().primary_key())
                        .col(
                            ColumnDef::new(Accounts::Email)
                                .string_len(254)
                                .not_null()
                                .unique_key(),
                        )
                        .col(ColumnDef::new(Accounts::Name).string_len(200).not_null())
                        .col(ColumnDef::new(Accounts::Role).string_len(16).not_null())
                        .col(
                            ColumnDef::new(Accounts::PasswordHash)
                                .string_len(255)
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(Accounts::Disabled)
                                .boolean()
                                .not_null()
                                .default(false),
                        )
                        .col(instant(Accounts::CreatedAt))
                        .col(instant(Accounts::UpdatedAt))
                        .col(
                            ColumnDef::new(Accounts::LastLoginAt)
                                .timestamp_with_time_zone()
                                .null(),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_table(
                    Table::create()
                        .table(LoginFailures::Table)
                        .col(
                            ColumnDef::new(LoginFailures::Email)
                                .string_len(254)
                                .not_null()
                                .primary_key(),
                        )
                        .col(
                            ColumnDef::new(LoginFailures::Failures)
                                .integer()
                                .not_null()
                                .default(0),
                        )
                        .col(instant(LoginFailures::LastFailureAt))
                        .col(
                            ColumnDef::new(LoginFailures::LockedUntil)
                                .timestamp_with_time_zone()
                                .null(),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("login_failures_by_last_failure")
                        .table(LoginFailures::Table)
                        .col(LoginFailures::LastFailureAt)
                        .to_owned(),
                )
                .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            for table in [
                LoginFailures::Table.into_iden(),
                Accounts::Table.into_iden(),
            ] {
                manager
                    .drop_table(Table::drop().table(table).if_exists().to_owned())
                    .await?;
            }
            Ok(())
        }
    }
}
