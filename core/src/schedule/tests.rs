//! Property tests of the scheduler on random DAGs.

use std::cell::RefCell;
use std::collections::HashSet;

use petgraph::visit::Dfs;
use proptest::prelude::*;

use super::*;

/// A random DAG: edges only go from a lower to a higher node index, so it is acyclic.
fn dag_strategy() -> impl Strategy<Value = (usize, Vec<(usize, usize)>)> {
    (1usize..60).prop_flat_map(|n| {
        let edges = proptest::collection::vec((0..n, 0..n), 0..n * 3).prop_map(|pairs| {
            pairs
                .into_iter()
                .filter(|(a, b)| a < b)
                .collect::<HashSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
        });
        (Just(n), edges)
    })
}

#[derive(Debug, Default)]
struct Log {
    clock: usize,
    started: Vec<Option<usize>>,
    finished: Vec<Option<usize>>,
    runs: Vec<usize>,
    max_running: usize,
    running: usize,
}

fn build(n: usize, edges: &[(usize, usize)]) -> DiGraph<(), ()> {
    let mut g = DiGraph::new();
    for _ in 0..n {
        g.add_node(());
    }
    for &(a, b) in edges {
        g.add_edge(NodeIndex::new(a), NodeIndex::new(b), ());
    }
    g
}

/// Runs the DAG with operations that yield a node-dependent number of times, so that they
/// interleave, and fail where `fails` says.
fn run_logged(
    g: &DiGraph<(), ()>,
    parallel: usize,
    delays: &[u8],
    fails: &HashSet<usize>,
) -> (Vec<Outcome>, Log) {
    let n = g.node_count();
    let log = RefCell::new(Log {
        started: vec![None; n],
        finished: vec![None; n],
        runs: vec![0; n],
        ..Log::default()
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let outcome = rt.block_on(run_dag(g, parallel, |node| {
        let i = node.index();
        let log = &log;
        let delay = delays[i % delays.len()];
        let fail = fails.contains(&i);
        async move {
            {
                let mut l = log.borrow_mut();
                l.clock += 1;
                l.started[i] = Some(l.clock);
                l.runs[i] += 1;
                l.running += 1;
                l.max_running = l.max_running.max(l.running);
            }
            for _ in 0..delay {
                tokio::task::yield_now().await;
            }
            let mut l = log.borrow_mut();
            l.clock += 1;
            l.finished[i] = Some(l.clock);
            l.running -= 1;
            !fail
        }
    }));
    (outcome, log.into_inner())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn no_operation_starts_before_its_dependencies_finish_and_each_runs_once(
        (n, edges) in dag_strategy(),
        parallel in 0usize..5,
        delays in proptest::collection::vec(0u8..6, 1..20),
    ) {
        let g = build(n, &edges);
        let (outcome, log) = run_logged(&g, parallel, &delays, &HashSet::new());
        prop_assert!(outcome.iter().all(|o| *o == Outcome::Succeeded));
        prop_assert!(log.runs.iter().all(|&r| r == 1), "runs: {:?}", log.runs);
        for &(a, b) in &edges {
            prop_assert!(log.finished[a].unwrap() < log.started[b].unwrap(),
                "{b} started before its dependency {a} finished");
        }
        if parallel > 0 {
            prop_assert!(log.max_running <= parallel);
        }
    }

    #[test]
    fn a_failure_skips_exactly_its_descendants(
        (n, edges) in dag_strategy(),
        fail_seeds in proptest::collection::vec(0usize..60, 0..4),
        delays in proptest::collection::vec(0u8..4, 1..10),
    ) {
        let g = build(n, &edges);
        let fails: HashSet<usize> = fail_seeds.into_iter().filter(|&f| f < n).collect();
        let (outcome, log) = run_logged(&g, 0, &delays, &fails);
        // Nodes reachable from a failed node (other than itself) must be skipped; every other
        // node must have run exactly once.
        let mut downstream = HashSet::new();
        for &f in &fails {
            let mut dfs = Dfs::new(&g, NodeIndex::new(f));
            while let Some(x) = dfs.next(&g) {
                if x.index() != f {
                    downstream.insert(x.index());
                }
            }
        }
        for (i, &got) in outcome.iter().enumerate() {
            let expected = if downstream.contains(&i) {
                Outcome::Skipped
            } else if fails.contains(&i) {
                Outcome::Failed
            } else {
                Outcome::Succeeded
            };
            prop_assert_eq!(got, expected, "node {}", i);
            prop_assert_eq!(log.runs[i], usize::from(expected != Outcome::Skipped));
        }
    }
}

#[test]
fn a_slow_branch_does_not_hold_back_an_independent_one() {
    // a -> b (slow)    c -> d: d must start before b finishes, which waves would forbid.
    let g = build(4, &[(0, 1), (2, 3)]);
    let (_, log) = run_logged(&g, 0, &[0, 50, 0, 0], &HashSet::new());
    assert!(log.started[3].unwrap() < log.finished[1].unwrap());
}

#[tokio::test]
async fn once_stopped_nothing_starts_and_what_never_ran_is_not_started() {
    let g = build(4, &[(0, 1), (1, 2)]);
    let stop = Stop::default();
    let started = RefCell::new(Vec::new());
    let outcome = run_dag_until(&g, 1, &stop, |node| {
        started.borrow_mut().push(node.index());
        if node.index() == 0 {
            stop.request();
        }
        async { true }
    })
    .await;
    // Node 0 (the first ready) ran; it asked to stop before anything else could start.
    assert_eq!(*started.borrow(), vec![0]);
    assert_eq!(
        outcome,
        vec![
            Outcome::Succeeded,
            Outcome::NotStarted,
            Outcome::NotStarted,
            Outcome::NotStarted
        ]
    );
}
