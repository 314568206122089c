use sea_orm_migration::prelude::*;

/// Every migration of the notifications database, oldest first. Names never change once released.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(cloverleaf_service_kit::outbox::migration::CreateOutbox),
            Box::new(cloverleaf_service_kit::outbox::migration::OutboxPositionSequence),
            Box::new(cloverleaf_service_kit::outbox::migration::OutboxDeliveryOrder),
            Box::new(super::messages::migration::CreateMessages),
            Box::new(super::inbox::migration::CreateInbox),
            Box::new(super::invites::migration::CreateInvites),
            Box::new(super::reminders::migration::CreateReminders),
            Box::new(super::inbox::migration::IndexUnprocessedByKey),
        ]
    }
}
