//! Engine benchmarks (a bench binary, not a timed test): run with
//! `cargo bench -p cairn --features testing --bench engine`, results in BENCHMARKS.md.
//!
//! 1. Scheduling quality: random DAGs of 1,000 and 10,000 resources with random per-operation
//!    latencies, through the real executor and state store, unbounded parallelism. Reports the
//!    makespan divided by the DAG's critical path (the physical limit).
//! 2. Engine overhead: a zero-latency provider with durable state writes: time per resource at
//!    1,000 and 10,000 resources, and the ratio of the two totals.
//! 3. Preview of an unchanged 10,000-resource stack: time and peak memory.
//! 5. Rate limits (BENCHMARKS.md's 4 is the S3 benchmark): random DAGs of 2,000 and 10,000
//!    resources whose creates draw from emulated EC2 buckets, paced against retry-only;
//!    makespan over max(critical path, bucket bound).
//! 6. Readiness: the seed program's graph (`seed-graph.dot`) with AWS's latencies scaled down,
//!    dependents waiting for ready against waits overlapped, both against their critical paths.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn::pace::Bucket;
use cairn::testing::{Backoff, Pacing, TestProvider, Thing, ThingArgs, Warming, WarmingArgs};
use cairn::{Config, Engine, Output, Program, ResourceOptions, Stack};
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

/// A latency of 20 to 100 ms for each of `n` operations.
fn random_latencies(n: usize, seed: u64) -> Vec<Duration> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0xfeed);
    (0..n)
        .map(|_| Duration::from_millis(rng.random_range(20..=100)))
        .collect()
}

/// The latencies by resource name (`r{i}`, as `declare` names them).
fn by_name(latency: &[Duration]) -> Arc<HashMap<String, Duration>> {
    Arc::new(
        latency
            .iter()
            .enumerate()
            .map(|(i, d)| (format!("r{i}"), *d))
            .collect(),
    )
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
    let (took, failed, engine, dir) = up_program(rt, declare(dag, cloud));
    assert_eq!(failed, 0);
    (took, engine, dir)
}

/// Runs `up` of `program` on a fresh state database: the wall time and the failed operations.
fn up_program(
    rt: &tokio::runtime::Runtime,
    program: Program,
) -> (Duration, usize, Engine, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Store::open(dir.path().join("state.db")).unwrap(), "bench");
    let session = engine.lock("up").unwrap();
    let plan = rt.block_on(session.plan(&program)).unwrap();
    let start = Instant::now();
    let exec = rt
        .block_on(session.apply(&program, &plan, 0, &|_| {}))
        .unwrap();
    let took = start.elapsed();
    let failed = exec.errors.len();
    drop(session);
    (took, failed, engine, dir)
}

/// Scenario 5's time scale: the emulated cloud runs 20 times faster than AWS, so a bucket
/// refilling 5 a second refills 100, and a create of 0.4 to 2 s takes 20 to 100 ms.
const RATE_SCALE: f64 = 20.0;

/// EC2's bucket for a mutating API (200 at once, 5 a second), as `cairn-aws` seeds it.
const EC2_MUTATING: Bucket = Bucket::new(200, 5.0);

/// Scenario 5: the creates of even resources call one API, the odd ones another (two EC2
/// creates, each with its own bucket); returns (makespan, lower bound, throttled, calls,
/// failed operations).
fn rate_limited_up(
    rt: &tokio::runtime::Runtime,
    dag: &[Vec<usize>],
    latency: &[Duration],
    pacing: Pacing,
) -> (Duration, Duration, u64, u64, usize) {
    let bucket = EC2_MUTATING.faster(RATE_SCALE);
    let by_name = by_name(latency);
    let cloud = TestProvider::new()
        .with_latency(move |name, op| match op {
            "create" => by_name.get(name).copied().unwrap_or_default(),
            _ => Duration::ZERO,
        })
        .with_rate_limits(
            &[("ec2:CreateEven", bucket), ("ec2:CreateOdd", bucket)],
            |name, op| {
                let i: usize = name[1..].parse().ok()?;
                (op == "create").then_some(if i.is_multiple_of(2) {
                    "ec2:CreateEven"
                } else {
                    "ec2:CreateOdd"
                })
            },
            pacing,
            Backoff::AWS.faster(RATE_SCALE),
        );
    let (took, failed, _, _dir) = up_program(rt, declare(dag, cloud.clone()));
    let mut bound = critical_path(dag, latency);
    let (mut throttled, mut calls) = (0, 0);
    for (admitted, refused) in cloud.throttling().into_values() {
        let excess = admitted.saturating_sub(u64::from(bucket.size)) as f64;
        bound = bound.max(Duration::from_secs_f64(excess / bucket.refill));
        throttled += refused;
        calls += admitted + refused;
    }
    (took, bound, throttled, calls, failed)
}

/// Scenario 6's time scale: a second of AWS is 10 ms.
const READY_SCALE: f64 = 100.0;

/// How long AWS takes, in seconds: (create call, wait for ready after it). A create call is
/// about a second; a load balancer is active about three minutes after, an interface endpoint
/// available about two, an ECS service steady about two (waited for as Terraform's
/// `wait_for_steady_state` does).
fn aws_latency(name: &str, ty: &str) -> (f64, f64) {
    match ty {
        "aws:lb/LoadBalancer" => (1.0, 180.0),
        "aws:ec2/VpcEndpoint" if !name.contains("s3") => (1.0, 120.0),
        "aws:ecs/Service" => (1.0, 120.0),
        _ => (1.0, 0.0),
    }
}

/// The seed program's graph: (name, type) per node and (from, to, depends_on) per edge.
type SeedGraph = (Vec<(String, String)>, Vec<(usize, usize, bool)>);

fn seed_graph() -> SeedGraph {
    let dot = include_str!("seed-graph.dot");
    let (mut nodes, mut edges) = (Vec::new(), Vec::new());
    for line in dot.lines().map(str::trim) {
        if let Some((from, rest)) = line.strip_prefix('n').and_then(|l| l.split_once(" -> n")) {
            let to: String = rest.chars().take_while(char::is_ascii_digit).collect();
            edges.push((
                from.parse().unwrap(),
                to.parse().unwrap(),
                rest.contains("dashed"),
            ));
        } else if let Some(label) = line.split_once("label=\"").map(|(_, l)| l) {
            let label = label.trim_end_matches("\"];");
            let (name, ty) = label.split_once("\\n").unwrap();
            nodes.push((name.to_string(), ty.to_string()));
        }
    }
    assert!(
        edges.iter().all(|e| e.0 < e.1),
        "declaration order puts dependencies first"
    );
    (nodes, edges)
}

/// The critical path of the seed graph: with `overlap`, a load balancer's dependents by data
/// start after its create call, the others after it is ready.
fn seed_critical_path((nodes, edges): &SeedGraph, overlap: bool) -> f64 {
    // Node order in the DOT is declaration order, where dependencies come first.
    let (mut made, mut ready) = (vec![0.0f64; nodes.len()], vec![0.0f64; nodes.len()]);
    for (i, (name, ty)) in nodes.iter().enumerate() {
        let start = edges
            .iter()
            .filter(|e| e.1 == i)
            .map(|&(from, _, explicit)| {
                let early = overlap && nodes[from].1 == "aws:lb/LoadBalancer" && !explicit;
                if early { made[from] } else { ready[from] }
            })
            .fold(0.0, f64::max);
        let (create, wait) = aws_latency(name, ty);
        made[i] = start + create;
        ready[i] = made[i] + wait;
    }
    ready.into_iter().fold(0.0, f64::max)
}

/// The seed graph declared for the test provider: a load balancer is a `Warming` thing when
/// the waits overlap, a `Thing` whose create takes the whole wait otherwise.
fn declare_seed(graph: &SeedGraph, overlap: bool) -> (Program, TestProvider) {
    let (nodes, edges) = graph.clone();
    let scale = |s: f64| Duration::from_secs_f64(s / READY_SCALE);
    let latency: Arc<HashMap<String, (Duration, Duration)>> = Arc::new(
        nodes
            .iter()
            .map(|(name, ty)| {
                let (create, wait) = aws_latency(name, ty);
                let split = overlap && ty == "aws:lb/LoadBalancer";
                let times = if split {
                    (scale(create), scale(wait))
                } else {
                    (scale(create + wait), Duration::ZERO)
                };
                (name.clone(), times)
            })
            .collect(),
    );
    let cloud = TestProvider::new().with_latency(move |name, op| {
        let (create, ready) = latency.get(name).copied().unwrap_or_default();
        match op {
            "create" => create,
            "ready" => ready,
            _ => Duration::ZERO,
        }
    });
    let provider = cloud.clone();
    let program = Program::declare(Stack::new("bench", Config::default()), move |s| {
        s.provider("test", provider);
        let mut ids: Vec<Output<String>> = Vec::new();
        for (i, (name, ty)) in nodes.iter().enumerate() {
            let into = edges.iter().filter(|e| e.1 == i);
            let refs: Vec<Output<String>> = into
                .clone()
                .filter(|e| !e.2)
                .map(|e| ids[e.0].clone())
                .collect();
            let mut opts = ResourceOptions::default();
            for e in into.filter(|e| e.2) {
                opts = opts.depends_on(nodes[e.0].0.as_str());
            }
            let refs = (!refs.is_empty()).then(|| Output::all(refs));
            let id = if overlap && ty == "aws:lb/LoadBalancer" {
                let args = WarmingArgs {
                    refs,
                    ..Default::default()
                };
                Warming::with(s, name, args, opts).id()
            } else {
                let args = ThingArgs {
                    refs,
                    ..Default::default()
                };
                Thing::with(s, name, args, opts).id()
            };
            ids.push(id);
        }
    })
    .expect("valid program");
    (program, cloud)
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
                let latency = random_latencies(n, seed);
                let by_name = by_name(&latency);
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

    if wanted("rate") {
        println!(
            "## Rate limits (two EC2 create APIs, bucket 200 + 5/s each, time x{RATE_SCALE}; \
             latencies 20-100 ms; unbounded parallelism)"
        );
        for &n in &[2_000usize, 10_000] {
            let dag = random_dag(n, 1);
            let latency = random_latencies(n, 1);
            for pacing in [Pacing::Paced, Pacing::RetryOnly] {
                let (took, bound, throttled, calls, failed) =
                    rate_limited_up(&rt, &dag, &latency, pacing);
                println!(
                    "n={n:>6} {pacing:<9?}  lower bound {:>7.3}s  makespan {:>7.3}s  ratio {:.3}  \
                     throttled {throttled} of {calls} calls ({:.2}%)  failed {failed}",
                    bound.as_secs_f64(),
                    took.as_secs_f64(),
                    took.as_secs_f64() / bound.as_secs_f64(),
                    throttled as f64 * 100.0 / calls as f64,
                );
            }
        }
    }

    if wanted("readiness") {
        println!(
            "## Readiness: the seed program's graph, AWS latencies, 1 s of AWS = {} ms",
            1000.0 / READY_SCALE
        );
        let graph = seed_graph();
        for overlap in [false, true] {
            let (program, cloud) = declare_seed(&graph, overlap);
            let (took, failed, _, _dir) = up_program(&rt, program);
            assert_eq!(failed, 0);
            let cp = seed_critical_path(&graph, overlap);
            let ready = cloud.calls().iter().filter(|c| c.op == "ready").count();
            println!(
                "{:<22} {} resources  critical path {:>6.1} s of AWS  makespan {:>6.1} s of AWS  \
                 ratio {:.3}  ({ready} readiness waits)",
                if overlap {
                    "waits overlapped"
                } else {
                    "dependents wait ready"
                },
                graph.0.len(),
                cp,
                took.as_secs_f64() * READY_SCALE,
                took.as_secs_f64() * READY_SCALE / cp,
            );
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
