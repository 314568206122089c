//! The registration desk: where new registrations queue to be written, several per transaction (group commit).
//!
//! Every registration takes its event's form lock, and on SQLite the one writer connection, for the whole of its
//! transaction; written one by one, each spent about ten round trips to the database under that lock, so a burst of
//! registrations for a popular webinar queued behind it (measured: ~800–980/s on SQLite with the machine half idle).
//! The desk instead hands whatever has queued while the previous batch was being written — up to [`MAX_BATCH`] — to
//! [`registrations::register_batch`], which writes them all with a fixed number of statements. Nobody waits for a
//! batch to fill: a request that finds the desk idle is written at once, alone.
//!
//! If a batch's transaction fails, each of its requests is tried again alone with [`registrations::register`], so a
//! request that cannot be written does not take its neighbours down with it. A request whose caller has gone away is
//! still written (and its confirmation sent): it was complete when it reached the desk.

use std::sync::Arc;

use cloverleaf_service_kit::observe;
use sea_orm::{DatabaseConnection, DbBackend};
use tokio::sync::{mpsc, oneshot};

use super::registrations::{self, NewRegistration, Registered};
use crate::Error;
use crate::domain::refusal::Refusal;

/// The most registrations written in one transaction. Enough to take a whole burst from 64 clients in one go; the
/// statements stay far below either database's limit on bound parameters.
pub const MAX_BATCH: usize = 64;

/// Batches written at once: one on SQLite, which has one writer anyway; several on PostgreSQL. Each writer takes the
/// registrations of its own share of the events, so two batches never wait for the same form's lock (measured with
/// one shared queue: every batch held all ten events of the burst and the writers took turns); forms are locked in
/// event-id order all the same.
fn writers(db: &DatabaseConnection) -> usize {
    match db.get_database_backend() {
        DbBackend::Postgres => 4,
        _ => 1,
    }
}

struct Job {
    request: NewRegistration,
    answer: oneshot::Sender<Result<Registered, Error>>,
}

/// The handle handlers register through (cheap to clone). The writing tasks end when the last handle is dropped,
/// after answering everything already queued.
#[derive(Clone)]
pub struct RegistrationDesk {
    db: DatabaseConnection,
    /// One queue per writer; an event's registrations always go to the same one.
    queues: Arc<Vec<mpsc::Sender<Job>>>,
}

impl std::fmt::Debug for RegistrationDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrationDesk").finish_non_exhaustive()
    }
}

impl RegistrationDesk {
    /// Opens the desk: starts its writing tasks on the current runtime.
    pub fn open(db: DatabaseConnection, subscribers: Vec<String>) -> Self {
        let subscribers = Arc::new(subscribers);
        let queues = (0..writers(&db))
            .map(|_| {
                // Bounded, so a flood waits in the handlers (and their timeouts) rather than in memory.
                let (queue, jobs) = mpsc::channel(MAX_BATCH * 16);
                tokio::spawn(write_batches(db.clone(), jobs, Arc::clone(&subscribers)));
                queue
            })
            .collect();
        Self {
            db,
            queues: Arc::new(queues),
        }
    }

    /// Registers one participant: the answer of [`registrations::register`], written in a batch with whatever else
    /// is waiting. A retry whose answer is already stored is answered from the read pool without queueing.
    pub async fn register(&self, mut request: NewRegistration) -> Result<Registered, Error> {
        if let Some(key) = &request.idempotency_key
            && let Some(replayed) = registrations::replay(&self.db, key).await?
        {
            return Ok(replayed);
        }
        request.request_id = request.request_id.or_else(observe::current_request_id);
        // UUIDv7s end in random bits: the events spread evenly over the writers.
        let shares = u128::try_from(self.queues.len().max(1)).unwrap_or(1);
        let writer = usize::try_from(request.event_id.as_u128() % shares).unwrap_or(0);
        let queue = self.queues.get(writer).ok_or_else(closed)?;
        let (answer, answered) = oneshot::channel();
        queue
            .send(Job { request, answer })
            .await
            .map_err(|_| closed())?;
        answered.await.map_err(|_| closed())?
    }
}

fn closed() -> Error {
    Refusal::ShuttingDown.into()
}

async fn write_batches(
    db: DatabaseConnection,
    mut jobs: mpsc::Receiver<Job>,
    subscribers: Arc<Vec<String>>,
) {
    loop {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        if jobs.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        let (requests, answers): (Vec<NewRegistration>, Vec<_>) =
            batch.into_iter().map(|j| (j.request, j.answer)).unzip();
        match registrations::register_batch(&db, &requests, &subscribers).await {
            Ok(results) => {
                for (answer, result) in answers.into_iter().zip(results) {
                    // The caller may have gone away; what was written stays written.
                    let _ = answer.send(result);
                }
            }
            Err(error) => {
                tracing::warn!(%error, registrations = requests.len(), "a batch of registrations failed; writing each alone");
                for (answer, request) in answers.into_iter().zip(requests) {
                    let result = registrations::register(&db, request, &subscribers).await;
                    let _ = answer.send(result);
                }
            }
        }
    }
}
