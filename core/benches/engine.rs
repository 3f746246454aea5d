//! Engine benchmarks (a bench binary, not a timed test): run with
//! `cargo bench -p cairn --features testing --bench engine`, results in BENCHMARKS.md.
//!
//! 1. Scheduling quality: random DAGs of 1,000 and 10,000 resources with random per-operation
//!    latencies, through the real executor and state store, unbounded parallelism. Reports the
//!    makespan divided by the DAG's critical path (the physical limit).
//! 2. Engine overhead: a zero-latency provider with durable state writes: time per resource at
//!    1,000 and 10,000 resources, and the ratio of the two totals.
//! 3. Preview of an unchanged 10,000-resource stack: time and peak memory.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn::testing::{TestProvider, Thing, ThingArgs};
use cairn::{Config, Engine, Output, Program, Stack};
use cairn_state::Store;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// A random DAG: node `i` depends on up to 3 earlier nodes, chosen among the previous 200 so
/// that the DAG has long chains as well as wide levels.
fn random_dag(n: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            if i == 0 {
                return Vec::new();
            }
            let k = rng.random_range(0..=3usize);
            let lo = i.saturating_sub(200);
            let mut deps: Vec<usize> = (0..k).map(|_| rng.random_range(lo..i)).collect();
            deps.sort_unstable();
            deps.dedup();
            deps
        })
        .collect()
}

fn declare(dag: &[Vec<usize>], cloud: TestProvider) -> Program {
    let dag = dag.to_vec();
    Program::declare(Stack::new("bench", Config::default()), move |s| {
        s.provider("test", cloud);
        let mut handles: Vec<Thing> = Vec::with_capacity(dag.len());
        for (i, deps) in dag.iter().enumerate() {
            let refs =
                (!deps.is_empty()).then(|| Output::all(deps.iter().map(|&d| handles[d].id())));
            let t = Thing::new(
                s,
                &format!("r{i}"),
                ThingArgs {
                    value: Some(format!("v{i}").into()),
                    refs,
                    ..Default::default()
                },
            );
            handles.push(t);
        }
    })
    .expect("valid program")
}

fn critical_path(dag: &[Vec<usize>], latency: &[Duration]) -> Duration {
    let mut finish = vec![Duration::ZERO; dag.len()];
    for (i, deps) in dag.iter().enumerate() {
        let start = deps.iter().map(|&d| finish[d]).max().unwrap_or_default();
        finish[i] = start + latency[i];
    }
    finish.into_iter().max().unwrap_or_default()
}

/// Runs `up` of the whole DAG on a fresh state database; returns the wall time.
fn up(
    rt: &tokio::runtime::Runtime,
    dag: &[Vec<usize>],
    cloud: TestProvider,
) -> (Duration, Engine, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Store::open(dir.path().join("state.db")).unwrap(), "bench");
    let program = declare(dag, cloud);
    let session = engine.lock("up").unwrap();
    let plan = rt.block_on(session.plan(&program)).unwrap();
    let start = Instant::now();
    let exec = rt
        .block_on(session.apply(&program, &plan, 0, &|_| {}))
        .unwrap();
    let took = start.elapsed();
    assert!(exec.errors.is_empty(), "{:?}", exec.errors.first());
    drop(session);
    (took, engine, dir)
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn current_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resets the peak RSS counter (Linux: writing 5 to clear_refs), so the next reading is the
/// peak of what follows.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn main() {
    // `cargo bench` passes `--bench`; anything else filters scenarios by name.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();

    if wanted("makespan") {
        println!("## Makespan / critical path (random latencies 20-100 ms, unbounded parallelism)");
        for &n in &[1_000usize, 10_000] {
            for seed in [1u64, 2, 3] {
                let dag = random_dag(n, seed);
                let mut rng = StdRng::seed_from_u64(seed ^ 0xfeed);
                let latency: Vec<Duration> = (0..n)
                    .map(|_| Duration::from_millis(rng.random_range(20..=100)))
                    .collect();
                let by_name: Arc<HashMap<String, Duration>> = Arc::new(
                    latency
                        .iter()
                        .enumerate()
                        .map(|(i, d)| (format!("r{i}"), *d))
                        .collect(),
                );
                let cloud = TestProvider::new()
                    .with_latency(move |name, _| by_name.get(name).copied().unwrap_or_default());
                let cp = critical_path(&dag, &latency);
                let (took, _, _dir) = up(&rt, &dag, cloud);
                println!(
                    "n={n:>6} seed={seed}  critical path {:>7.3}s  makespan {:>7.3}s  ratio {:.3}",
                    cp.as_secs_f64(),
                    took.as_secs_f64(),
                    took.as_secs_f64() / cp.as_secs_f64()
                );
            }
        }
    }

    if wanted("overhead") {
        println!("## Engine overhead per resource (zero-latency provider, durable state writes)");
        let mut totals = HashMap::new();
        for &n in &[1_000usize, 10_000] {
            let dag = random_dag(n, 7);
            let runs: Vec<Duration> = (0..3)
                .map(|_| up(&rt, &dag, TestProvider::new()).0)
                .collect();
            let best = *runs.iter().min().unwrap();
            totals.insert(n, best);
            println!(
                "n={n:>6}  best of 3 {:>7.3}s  per resource {:>6.1} µs",
                best.as_secs_f64(),
                best.as_secs_f64() * 1e6 / n as f64
            );
        }
        println!(
            "ratio 10,000 / 1,000 = {:.2} (linear = 10)",
            totals[&10_000].as_secs_f64() / totals[&1_000].as_secs_f64()
        );
    }

    if wanted("preview") {
        println!("## Preview of an unchanged 10,000-resource stack");
        let n = 10_000;
        let dag = random_dag(n, 11);
        let cloud = TestProvider::new();
        let (_, engine, _dir) = up(&rt, &dag, cloud.clone());
        cloud.clear_calls();
        for _ in 0..3 {
            let before = current_rss_kib();
            reset_peak_rss();
            let start = Instant::now();
            let program = declare(&dag, cloud.clone());
            let plan = rt.block_on(engine.preview(&program)).unwrap();
            let took = start.elapsed();
            assert!(cairn::is_noop(&plan));
            println!(
                "declare + plan {:>7.3}s  peak RSS {:>6.1} MiB (baseline {:.1} MiB)",
                took.as_secs_f64(),
                peak_rss_kib() as f64 / 1024.0,
                before as f64 / 1024.0
            );
        }
        assert!(
            cloud.calls().is_empty(),
            "preview must not call the provider"
        );
    }
}
