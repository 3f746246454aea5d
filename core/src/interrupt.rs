//! SIGINT and SIGTERM during a run. The first stops it safely: no operation starts, those in
//! flight finish and are recorded, the lock is released, and the command exits 130 (SIGINT) or
//! 143 (SIGTERM) saying what was not done. A second exits at once; what it cut short is settled
//! by the next command, as after any kill.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::schedule::Stop;

/// Watches for signals while a run lasts (until dropped).
pub(crate) struct Interrupts {
    signal: Arc<AtomicI32>,
    task: tokio::task::JoinHandle<()>,
}

const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

impl Interrupts {
    /// Starts watching; the first signal requests `stop`. What happens is said through `say`,
    /// so a live view on the terminal prints it above itself instead of drawing over it.
    pub(crate) fn watch(stop: Arc<Stop>, say: impl Fn(&str) + Send + 'static) -> Interrupts {
        let signal = Arc::new(AtomicI32::new(0));
        let got = signal.clone();
        let task = tokio::spawn(async move {
            let mut first = true;
            loop {
                let Some(number) = next_signal().await else {
                    return;
                };
                if first {
                    first = false;
                    got.store(number, Ordering::SeqCst);
                    stop.request();
                    say(
                        "Interrupted: the operations in flight finish and are recorded, no new \
                         one starts. Interrupt again to stop at once.",
                    );
                } else {
                    say("Stopping at once: the next command settles what was in flight.");
                    std::process::exit(128 + number);
                }
            }
        });
        Interrupts { signal, task }
    }

    /// The exit code the run ends with if it was interrupted: 128 plus the signal's number.
    pub(crate) fn exit_code(&self) -> Option<ExitCode> {
        self.code().map(ExitCode::from)
    }

    /// [`Interrupts::exit_code`] as a number.
    pub(crate) fn code(&self) -> Option<u8> {
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            n => Some(128 + n as u8),
        }
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The number of the next SIGINT or SIGTERM; `None` if they cannot be watched.
#[cfg(unix)]
pub(crate) async fn next_signal() -> Option<i32> {
    use tokio::signal::unix::{SignalKind, signal};
    // Made once per wait: a handler, once installed, stays for the process's life, so no
    // signal falls back to the default action between two waits.
    let mut int = signal(SignalKind::interrupt()).ok()?;
    let mut term = signal(SignalKind::terminate()).ok()?;
    tokio::select! {
        _ = int.recv() => Some(SIGINT),
        _ = term.recv() => Some(SIGTERM),
    }
}

#[cfg(not(unix))]
pub(crate) async fn next_signal() -> Option<i32> {
    tokio::signal::ctrl_c().await.ok().map(|_| SIGINT)
}
