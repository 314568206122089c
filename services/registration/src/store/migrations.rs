use sea_orm_migration::prelude::*;

/// Every migration of the registration database, oldest first. Names never change once released. Each store module
/// keeps the migration of its own tables beside its queries.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(cloverleaf_service_kit::outbox::migration::CreateOutbox),
            Box::new(cloverleaf_service_kit::outbox::migration::OutboxPositionSequence),
            Box::new(cloverleaf_service_kit::outbox::migration::OutboxDeliveryOrder),
            Box::new(super::accounts::migration::CreateAccounts),
            Box::new(super::registrations::migration::CreateRegistrations),
            Box::new(cloverleaf_service_kit::inbox::migration::CreateInboxReceived),
            Box::new(super::registrations::migration::FormsEventCancelled),
            Box::new(super::teams::migration::CreateTeamsAndAudit),
        ]
    }
}
