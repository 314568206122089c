//! The loop every background job of the services runs: a round, then a pause until the next poll or a wake-up, and
//! at once again when the round says more is waiting; database errors back off; the shutdown token stops it.
//! The mail delivery worker, the notifications inbox worker and the reminder job are all one [`Rounds`] each.

use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// One job's work, a round at a time.
pub trait Rounds: Send + Sync + 'static {
    type Error: Display + Send;

    /// Does one round. `Ok(true)`: there is probably more waiting (a full batch), so the next round starts at once.
    fn round(&self) -> impl Future<Output = Result<bool, Self::Error>> + Send;
}

/// The handle of a running job (cheap to clone, e.g. into handler state).
#[derive(Clone)]
pub struct WorkerHandle {
    inner: Arc<Handle>,
}

struct Handle {
    wake: Notify,
    running: bool,
}

impl std::fmt::Debug for WorkerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerHandle")
            .field("running", &self.inner.running)
            .finish()
    }
}

impl WorkerHandle {
    /// A handle without a job behind it (tools and tests that drive rounds by hand).
    pub fn disabled() -> Self {
        Self {
            inner: Arc::new(Handle {
                wake: Notify::new(),
                running: false,
            }),
        }
    }

    /// Asks the job to run a round now instead of at the next poll (call it after committing work for it). Wakes
    /// coalesce.
    pub fn wake(&self) {
        if self.inner.running {
            self.inner.wake.notify_one();
        }
    }

    pub fn is_running(&self) -> bool {
        self.inner.running
    }
}

/// Runs `job` on `tasks` until `shutdown` is cancelled: a round, then a pause of `poll` (cut short by
/// [`WorkerHandle::wake`]); no pause after a round that found more work; after a failed round a pause that grows
/// with the failures in a row ([`crate::retry::error_pause`]). Stopping lets the round in progress finish (within
/// the service's shutdown grace) and starts no other.
pub fn spawn<J: Rounds>(
    job: J,
    name: &'static str,
    poll: Duration,
    tasks: &TaskTracker,
    shutdown: CancellationToken,
) -> WorkerHandle {
    let handle = Arc::new(Handle {
        wake: Notify::new(),
        running: true,
    });
    let span = tracing::info_span!("job", job = name);
    tasks.spawn(run(job, poll, handle.clone(), shutdown).instrument(span));
    WorkerHandle { inner: handle }
}

async fn run<J: Rounds>(job: J, poll: Duration, handle: Arc<Handle>, shutdown: CancellationToken) {
    let mut errors: u32 = 0;
    tracing::debug!("started");
    while !shutdown.is_cancelled() {
        // A round in progress is finished, not dropped, so what it did (a message sent, an event posted) is also
        // recorded and a graceful restart repeats nothing; rounds are short and look at the token themselves where
        // they can stop early. (A crash still leaves leases to expire: at least once.)
        let result = job.round().await;
        let pause = match result {
            Ok(true) => {
                errors = 0;
                continue;
            }
            Ok(false) => {
                errors = 0;
                poll
            }
            Err(error) => {
                errors = errors.saturating_add(1);
                let pause = crate::retry::error_pause(poll, errors);
                tracing::warn!(%error, retry_in_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
                    "round failed");
                pause
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = handle.wake.notified() => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
    tracing::debug!("stopped");
}
