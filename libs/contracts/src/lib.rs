//! What crosses a service boundary, defined once (see `docs/architecture.md`).
