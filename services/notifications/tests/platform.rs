//! The notifications service boots from configuration on its own database (SQLite, or PostgreSQL when
//! CLOVERLEAF_TEST_DATABASE_URL is set) and answers what every service answers.

use cloverleaf_service_kit::config::ServiceName;

cloverleaf_service_kit::platform_tests!(
    ServiceName::Notifications,
    cloverleaf_notifications::build
);
