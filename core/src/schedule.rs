//! The scheduler: runs the operations of a DAG, each the moment all of its dependencies have
//! finished, as many at once as allowed.
//!
//! A ready queue, never topological levels: a slow operation holds back only what depends on
//! it. When an operation fails, the ones running finish, everything downstream of the failure
//! never starts, and independent branches go on.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};

/// How one operation of the DAG ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It ran and succeeded.
    Succeeded,
    /// It ran and failed.
    Failed,
    /// Never started: something it depends on failed.
    Skipped,
    /// Never started: the run was stopped first.
    NotStarted,
}

/// A request to stop a run: once made, no operation starts, and those running finish (or, for
/// one that only waits and has nothing to lose, such as a wait for readiness, end early).
#[derive(Debug, Default)]
pub struct Stop(AtomicBool, tokio::sync::Notify);

impl Stop {
    /// Asks the run to stop.
    pub fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
        self.1.notify_waiters();
    }

    /// Whether stopping was asked for.
    pub fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Resolves once stopping is asked for.
    pub async fn until_requested(&self) {
        let notified = self.1.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if !self.requested() {
            notified.await;
        }
    }
}

/// Runs every node of `dag` with `run`, at most `parallel` at once (0 means no limit).
/// `run` returns whether the operation succeeded. The DAG must be acyclic.
pub async fn run_dag<N, E, F, Fut>(dag: &DiGraph<N, E>, parallel: usize, run: F) -> Vec<Outcome>
where
    F: FnMut(NodeIndex) -> Fut,
    Fut: Future<Output = bool>,
{
    run_dag_until(dag, parallel, &Stop::default(), run).await
}

/// [`run_dag`], starting nothing more once `stop` is requested: what is running finishes, and
/// what never started is [`Outcome::NotStarted`].
pub async fn run_dag_until<N, E, F, Fut>(
    dag: &DiGraph<N, E>,
    parallel: usize,
    stop: &Stop,
    mut run: F,
) -> Vec<Outcome>
where
    F: FnMut(NodeIndex) -> Fut,
    Fut: Future<Output = bool>,
{
    let n = dag.node_count();
    let limit = if parallel == 0 { usize::MAX } else { parallel };
    let mut waiting_on: Vec<usize> = dag
        .node_indices()
        .map(|i| dag.neighbors_directed(i, Direction::Incoming).count())
        .collect();
    let mut outcome = vec![Outcome::Skipped; n];
    let mut ready: VecDeque<NodeIndex> = dag
        .node_indices()
        .filter(|i| waiting_on[i.index()] == 0)
        .collect();
    let mut running = FuturesUnordered::new();
    loop {
        while running.len() < limit && !stop.requested() {
            let Some(node) = ready.pop_front() else { break };
            let fut = run(node);
            running.push(async move { (node, fut.await) });
        }
        let Some((node, ok)) = running.next().await else {
            break;
        };
        if ok {
            outcome[node.index()] = Outcome::Succeeded;
            for next in dag.neighbors_directed(node, Direction::Outgoing) {
                let w = &mut waiting_on[next.index()];
                *w -= 1;
                if *w == 0 {
                    ready.push_back(next);
                }
            }
        } else {
            // Its dependents' counters never reach zero, so they (and theirs) never start.
            outcome[node.index()] = Outcome::Failed;
        }
    }
    if stop.requested() {
        for o in &mut outcome {
            if *o == Outcome::Skipped {
                *o = Outcome::NotStarted;
            }
        }
    }
    outcome
}

#[cfg(test)]
mod tests;
