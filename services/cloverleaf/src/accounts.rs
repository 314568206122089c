//! Storing an account in the registration database, for the two commands that make one without the HTTP API:
//! `cloverleaf accounts create` ([`crate::cli`]) and the demo's organiser ([`crate::demo`]). Both use this module and
//! neither uses the other.

use cloverleaf_service_kit::Settings;
use cloverleaf_service_kit::config::ServiceName;

/// Why an account could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("an account with the email address {0} exists already")]
    Taken(String),
    #[error("registration database: {0}")]
    Database(String),
    #[error("cannot create the account: {0}")]
    Create(String),
}

/// Connects to the registration database `settings` name, applies its migrations and creates the account through the
/// same store function as `POST /v1/accounts` (used by `accounts create` and by the demo's organiser).
pub async fn store_account(
    settings: &Settings,
    new: cloverleaf_registration::store::accounts::NewAccount,
) -> Result<cloverleaf_registration::store::accounts::account::Model, AccountError> {
    use cloverleaf_registration::domain::refusal::Refusal;
    use cloverleaf_registration::store::accounts::create_account;
    use cloverleaf_service_kit::db;

    let url = settings.database_url(ServiceName::Registration);
    let conn = db::connect(&url, 1)
        .await
        .map_err(|e| AccountError::Database(e.to_string()))?;
    if let Err(error) =
        db::migrate::<cloverleaf_registration::store::migrations::Migrator>(&conn).await
    {
        let _ = conn.close().await;
        return Err(AccountError::Database(error.to_string()));
    }
    let created = create_account(&conn, new)
        .await
        .map_err(|error| match error {
            cloverleaf_registration::Error::Refused(Refusal::EmailTaken { email }) => {
                AccountError::Taken(email)
            }
            other => AccountError::Create(other.to_string()),
        });
    let _ = conn.close().await;
    created
}
