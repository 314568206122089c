//! The notifications service boots from configuration on its own database (SQLite, or PostgreSQL when
//! CLOVERLEAF_TEST_DATABASE_URL is set) and answers what every service answers.

use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::outbox;
use cloverleaf_service_kit::testing::{TestApp, assert_platform_endpoints, on_postgres, url_kind};
use sea_orm::{EntityTrait, PaginatorTrait};

#[tokio::test]
async fn serves_health_readiness_metrics_and_docs() {
    let mut app = TestApp::spawn(ServiceName::Notifications, cloverleaf_notifications::build).await;
    assert_eq!(
        url_kind(app.database.url()) == "postgres",
        on_postgres(),
        "runs on the database the suite asked for"
    );
    assert_platform_endpoints(&app, ServiceName::Notifications).await;
    app.stop().await;
}

#[tokio::test]
async fn its_migrations_create_the_outbox() {
    let app = TestApp::spawn(ServiceName::Notifications, cloverleaf_notifications::build).await;
    let db = cloverleaf_service_kit::db::connect(app.database.url(), 1)
        .await
        .expect("connect");
    assert_eq!(
        outbox::event::Entity::find()
            .count(&db)
            .await
            .expect("outbox table exists"),
        0
    );
    assert_eq!(
        outbox::delivery::Entity::find()
            .count(&db)
            .await
            .expect("deliveries table exists"),
        0
    );
}
