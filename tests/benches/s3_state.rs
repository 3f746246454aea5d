//! The state in S3 against the state in a local file (a bench binary, not a timed test): run
//! with `cargo bench -p cairn-tests --bench s3_state`, results in BENCHMARKS.md.
//!
//! `up` of 1,000 test-provider resources (zero latency, each depending on up to 3 of the 200
//! before it), once with the state in a local SQLite file and once in moto's S3, in the same
//! run; then an `up` with nothing to do (what a command costs whatever it does), and opening the
//! stack on a second "machine" (a fresh working copy from the snapshot). The S3 requests are
//! counted by the state's own client as it sends them, retries included.

use std::time::{Duration, Instant};

use cairn::testing::{TestProvider, Thing, ThingArgs};
use cairn::{Config, Engine, Output, Program, Stack};
use cairn_state::Store;
use cairn_state::s3::{Location, RequestCounts};
use cairn_tests::Moto;

const N: usize = 1_000;

fn declare(n: usize, cloud: TestProvider) -> Program {
    Program::declare(Stack::new("bench", Config::default()), move |s| {
        s.provider("test", cloud);
        let mut handles: Vec<Thing> = Vec::with_capacity(n);
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move |below: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % below as u64) as usize
        };
        for i in 0..n {
            let deps: Vec<usize> = if i == 0 {
                Vec::new()
            } else {
                let lo = i.saturating_sub(200);
                (0..next(4)).map(|_| lo + next(i - lo)).collect()
            };
            let refs =
                (!deps.is_empty()).then(|| Output::all(deps.iter().map(|&d| handles[d].id())));
            handles.push(Thing::new(
                s,
                &format!("r{i}"),
                ThingArgs {
                    value: Some(format!("v{i}").into()),
                    refs,
                    ..Default::default()
                },
            ));
        }
    })
    .expect("valid program")
}

/// One `up` of the program on `store`; returns the wall time and the operations it ran.
fn up(
    rt: &tokio::runtime::Runtime,
    store: &Store,
    cloud: TestProvider,
    parallel: usize,
) -> (Duration, u64) {
    let engine = Engine::new(store.clone(), "bench");
    let program = declare(N, cloud);
    let start = Instant::now();
    let session = engine.lock("up").unwrap();
    let plan = rt.block_on(session.plan(&program)).unwrap();
    let exec = rt
        .block_on(session.apply(&program, &plan, parallel, &|_| {}))
        .unwrap();
    assert!(exec.errors.is_empty(), "{:?}", exec.errors.first());
    drop(session);
    let ops = exec.counts.values().map(|n| *n as u64).sum();
    (start.elapsed(), ops)
}

fn minus(a: RequestCounts, b: RequestCounts) -> RequestCounts {
    RequestCounts {
        get: a.get - b.get,
        list: a.list - b.list,
        head: a.head - b.head,
        put: a.put - b.put,
        delete: a.delete - b.delete,
    }
}

fn show(what: &str, took: Duration, r: RequestCounts) {
    println!(
        "{what:<44} {:>8.3}s  PUT {:>5}  DELETE {:>3}  GET {:>4}  LIST {:>3}  HEAD {:>2}",
        took.as_secs_f64(),
        r.put,
        r.delete,
        r.get,
        r.list,
        r.head
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let moto = Moto::start();
    let sdk = rt.block_on(async {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&moto.endpoint)
            .region(aws_config::Region::new("us-east-2"))
            .credentials_provider(aws_sdk_s3::config::Credentials::for_tests())
            .load()
            .await;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(true)
                .build(),
        );
        s3.create_bucket()
            .bucket("bench")
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::UsEast2)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        sdk
    });
    let location = || Location::parse("s3://bench/cairn").unwrap();
    println!("## up of {N} test-provider resources, state local vs in moto's S3");

    let dir = tempfile::tempdir().unwrap();
    let local = Store::open(dir.path().join("state.db")).unwrap();
    let (took, ops) = up(&rt, &local, TestProvider::new(), 0);
    println!(
        "{:<44} {:>8.3}s  ({ops} operations)",
        "local SQLite: up",
        took.as_secs_f64()
    );

    let start = Instant::now();
    let s3 = Store::open_s3_with(location(), "bench", &sdk).unwrap();
    let opened = s3.s3_requests().unwrap();
    show("S3: open (empty stack)", start.elapsed(), opened);
    let (took, ops) = up(&rt, &s3, TestProvider::new(), 0);
    let run = minus(s3.s3_requests().unwrap(), opened);
    show("S3: up, creating everything", took, run);

    let before = s3.s3_requests().unwrap();
    let cloud = TestProvider::new();
    let (idle_took, idle_ops) = up(&rt, &s3, cloud, 0);
    assert_eq!(idle_ops, 0);
    let idle = minus(s3.s3_requests().unwrap(), before);
    show("S3: up with nothing to do (per command)", idle_took, idle);
    let per_op = (run.writes() as f64 - idle.writes() as f64) / ops as f64;
    println!(
        "writes per operation: ({} writes - {} per command) / {ops} operations = {per_op:.3}",
        run.writes(),
        idle.writes()
    );

    let start = Instant::now();
    let second = Store::open_s3_with(location(), "bench", &sdk).unwrap();
    let took = start.elapsed();
    assert_eq!(second.resources("bench").unwrap().len(), N);
    show(
        "S3: open on a second machine (1,000 records)",
        took,
        second.s3_requests().unwrap(),
    );

    // The command line's default: at most 16 operations at once, so at most 16 writers wait
    // together.
    let other = Location::parse("s3://bench/parallel-16").unwrap();
    let s3 = Store::open_s3_with(other, "bench", &sdk).unwrap();
    let opened = s3.s3_requests().unwrap();
    let (took, ops) = up(&rt, &s3, TestProvider::new(), 16);
    let run = minus(s3.s3_requests().unwrap(), opened);
    show("S3: up, --parallel 16", took, run);
    println!(
        "writes per operation: ({} - {}) / {ops} = {:.3}",
        run.writes(),
        idle.writes(),
        (run.writes() as f64 - idle.writes() as f64) / ops as f64
    );
    let dir = tempfile::tempdir().unwrap();
    let local = Store::open(dir.path().join("state.db")).unwrap();
    let (took, ops) = up(&rt, &local, TestProvider::new(), 16);
    println!(
        "{:<44} {:>8.3}s  ({ops} operations)",
        "local SQLite: up, --parallel 16",
        took.as_secs_f64()
    );
}
