//! A fault-injecting HTTP proxy on loopback, in front of moto: the AWS SDK talks to it as to
//! any endpoint, and it answers a chosen share of requests with what AWS answers when it is
//! overloaded or failing (throttling, HTTP 500 and 503, a connection closed without a response),
//! in each service's own error format, or with a permanent error for requests that match a rule.
//! Every other request is forwarded to moto unchanged.
//!
//! Injected faults never reach moto, as when AWS's front door refuses a call; so the test can
//! tell which of the program's calls took effect. Lost responses are the exception: the request
//! is forwarded, moto acts on it, and the connection is then closed unanswered, as when a
//! network loses a response after AWS did the work.
//!
//! Every decision is a hash of the seed and the request's number (its place in the order the
//! proxy received requests), not a shared random stream, so a seed replays the same faults for
//! the same order of requests.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What to inject.
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    /// Share of requests that fail transiently, 0.0 to 1.0.
    pub rate: f64,
    pub seed: u64,
    /// Requests whose head or body contains every one of these strings fail with
    /// `(status, code, message)`, every time.
    pub permanent: Vec<(Vec<String>, u16, String, String)>,
    /// Share of mutating requests (creates, updates, deletes) forwarded to moto whose response
    /// is then lost, 0.0 to 1.0.
    pub lost_responses: f64,
    /// Lose the response of the first request of each mutating operation (`CreateVpc`,
    /// `DeleteVpc`, `CreateRole`…), after moto acted on it: every resource type's create and
    /// delete meets a lost response once.
    pub lose_first_of_each: bool,
    /// Hold one mutating request, and every one after it, until the proxy is released or
    /// dropped: the point a test kills the program at, or keeps it busy until.
    pub hold: Option<Hold>,
    /// Throttle the first N requests of each of these operations (`("CreateSubnet", 3)`),
    /// retries included, as AWS does an API whose bucket is empty.
    pub throttle_first: Vec<(&'static str, u64)>,
}

/// Which mutating request to hold, and when.
#[derive(Debug, Clone, Copy)]
pub struct Hold {
    /// Count only requests of this operation (`CreateSubnet`); `None`: every mutating one.
    pub op: Option<&'static str>,
    /// The first to hold, counting those requests from 0.
    pub from: u64,
    /// Forward it to moto first, so that what it asks is done and only the answer is held.
    pub after_moto: bool,
}

/// Counts of what the proxy did.
#[derive(Debug, Default)]
pub struct FaultStats {
    pub forwarded: AtomicU64,
    pub throttled: AtomicU64,
    pub server_errors: AtomicU64,
    pub dropped: AtomicU64,
    pub permanent: AtomicU64,
    /// Operations whose response was lost after moto acted, in order.
    pub lost: Mutex<Vec<String>>,
    /// Every mutating call forwarded to moto, in the order moto answered.
    pub calls: Mutex<Vec<Call>>,
    clock: AtomicU64,
}

/// One mutating call moto answered.
#[derive(Debug, Clone)]
pub struct Call {
    pub op: String,
    /// The request as text (head and decoded body): the ids it names.
    pub text: String,
    /// When it arrived and when moto answered, on one logical clock.
    pub arrived: u64,
    pub answered: u64,
}

impl FaultStats {
    pub fn injected(&self) -> u64 {
        self.throttled.load(Ordering::SeqCst)
            + self.server_errors.load(Ordering::SeqCst)
            + self.dropped.load(Ordering::SeqCst)
    }

    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::SeqCst)
    }

    /// Whether every call of operation `first` naming `first_id` was answered before any call
    /// of `then` naming `then_id` arrived, and both were made.
    pub fn before(&self, (first, first_id): (&str, &str), (then, then_id): (&str, &str)) -> bool {
        let calls = self.calls.lock().unwrap();
        let of = |op: &str, id: &str| {
            calls
                .iter()
                .filter(|c| c.op == op && c.text.contains(id))
                .cloned()
                .collect::<Vec<_>>()
        };
        let last_answer = of(first, first_id).iter().map(|c| c.answered).max();
        let first_arrival = of(then, then_id).iter().map(|c| c.arrived).min();
        matches!((last_answer, first_arrival), (Some(a), Some(b)) if a < b)
    }
}

/// The running proxy; stops accepting when dropped.
pub struct FaultProxy {
    pub endpoint: String,
    pub stats: Arc<FaultStats>,
    stop: Arc<AtomicBool>,
    port: u16,
    shared: Arc<Shared>,
}

struct Shared {
    upstream: String,
    plan: FaultPlan,
    /// Requests received so far: the next one's number.
    requests: AtomicU64,
    /// Mutating operations seen (for `lose_first_of_each`).
    seen: Mutex<HashSet<String>>,
    /// Requests throttled so far by `throttle_first`, per operation.
    throttled_first: Mutex<std::collections::HashMap<String, u64>>,
    /// Mutating requests received so far (of `Hold::op`, when it names one).
    mutating: AtomicU64,
    /// The gate of `FaultPlan::hold`: the operations held so far, and whether it is open
    /// (`Some(true)`: let them go on; `Some(false)`: drop them, unanswered and unforwarded).
    gate: Mutex<(Vec<String>, Option<bool>)>,
    gate_changed: std::sync::Condvar,
    stats: Arc<FaultStats>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`host:port`) on a free port of 127.0.0.1.
    pub fn start(upstream: &str, plan: FaultPlan) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stats = Arc::new(FaultStats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared {
            upstream: upstream.trim_start_matches("http://").to_string(),
            requests: AtomicU64::new(0),
            seen: Mutex::default(),
            throttled_first: Mutex::default(),
            mutating: AtomicU64::new(0),
            gate: Mutex::default(),
            gate_changed: std::sync::Condvar::new(),
            plan,
            stats: stats.clone(),
        });
        let stopping = stop.clone();
        let serving = shared.clone();
        std::thread::spawn(move || {
            let shared = serving;
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, &shared);
                });
            }
        });
        FaultProxy {
            endpoint: format!("http://127.0.0.1:{port}"),
            stats,
            stop,
            port,
            shared,
        }
    }

    /// Waits until the request `FaultPlan::hold` names is held, and returns its operation;
    /// `None` if none is held within `timeout` (the program made fewer mutating requests).
    pub fn held(&self, timeout: std::time::Duration) -> Option<String> {
        let gate = self.shared.gate.lock().unwrap();
        let (gate, _) = self
            .shared
            .gate_changed
            .wait_timeout_while(gate, timeout, |(held, _)| held.is_empty())
            .unwrap();
        gate.0.first().cloned()
    }

    /// Lets every held request go on.
    pub fn release(&self) {
        self.open_gate(true);
    }

    fn open_gate(&self, go_on: bool) {
        let mut gate = self.shared.gate.lock().unwrap();
        gate.1 = gate.1.or(Some(go_on));
        self.shared.gate_changed.notify_all();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // What is still held belongs to a program the test has ended: it never arrives.
        self.open_gate(false);
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One request as read from the client.
struct Request {
    head: String,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn body_text(&self) -> String {
        let raw = String::from_utf8_lossy(&self.body);
        percent_decode(&raw)
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let end = line == "\r\n";
        head.push_str(&line);
        if end {
            break;
        }
    }
    let mut req = Request {
        head,
        body: Vec::new(),
    };
    let len: usize = req
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    req.body = vec![0; len];
    reader.read_exact(&mut req.body)?;
    Ok(Some(req))
}

enum Protocol {
    /// awsJson (ECR, ECS, CloudWatch Logs): `X-Amz-Target` names the operation.
    Json,
    /// EC2's query protocol.
    Ec2,
    /// awsQuery (IAM, STS, ELBv2).
    Query,
}

fn protocol(req: &Request) -> Protocol {
    if req.header("x-amz-target").is_some() {
        Protocol::Json
    } else if req.body_text().contains("Version=2016-11-15") {
        Protocol::Ec2
    } else {
        Protocol::Query
    }
}

fn error_response(req: &Request, status: u16, code: &str, message: &str) -> Vec<u8> {
    let reason = match status {
        400 => "Bad Request",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let (content_type, extra, body) = match protocol(req) {
        Protocol::Json => (
            "application/x-amz-json-1.1",
            format!("x-amzn-ErrorType: {code}\r\n"),
            format!(r#"{{"__type":"{code}","message":"{message}"}}"#),
        ),
        Protocol::Ec2 => (
            "text/xml",
            String::new(),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>injected</RequestID></Response>"
            ),
        ),
        Protocol::Query => (
            "text/xml",
            String::new(),
            format!(
                "<ErrorResponse><Error><Type>{}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>injected</RequestId></ErrorResponse>",
                if status < 500 { "Sender" } else { "Receiver" }
            ),
        ),
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn throttling(req: &Request) -> Vec<u8> {
    match protocol(req) {
        Protocol::Ec2 => {
            error_response(req, 503, "RequestLimitExceeded", "Request limit exceeded.")
        }
        Protocol::Json => error_response(req, 400, "ThrottlingException", "Rate exceeded"),
        Protocol::Query => error_response(req, 400, "Throttling", "Rate exceeded"),
    }
}

/// Holds the calling request until the gate opens, having said what is held; whether it may
/// go on.
fn wait_at_gate(shared: &Shared, op: &str) -> bool {
    let mut gate = shared.gate.lock().unwrap();
    gate.0.push(op.to_string());
    shared.gate_changed.notify_all();
    let gate = shared
        .gate_changed
        .wait_while(gate, |(_, open)| open.is_none())
        .unwrap();
    gate.1 == Some(true)
}

/// A number in [0, 1) from the seed, the request's number and what it decides (splitmix64).
fn chance(seed: u64, request: u64, what: u64) -> f64 {
    let mut z = seed
        .wrapping_add(request.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(what.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// The operation a request calls: `X-Amz-Target`'s (awsJson) or the `Action` parameter.
fn operation(req: &Request) -> Option<String> {
    if let Some(target) = req.header("x-amz-target") {
        return target.rsplit('.').next().map(str::to_string);
    }
    let body = req.body_text();
    let line = req.head.lines().next().unwrap_or_default().to_string();
    body.split('&')
        .chain(line.split(['?', '&', ' ']))
        .find_map(|kv| kv.strip_prefix("Action="))
        .map(str::to_string)
}

/// Whether an operation changes something (what a lost response can leave done but unknown).
fn mutating(op: &str) -> bool {
    !["Describe", "List", "Get", "BatchGet", "AssumeRole"]
        .iter()
        .any(|p| op.starts_with(p))
}

fn serve(conn: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut client = conn;
    let Some(req) = read_request(&mut reader)? else {
        return Ok(());
    };
    let stats = &shared.stats;
    let text = format!("{}{}", req.head, req.body_text());
    if let Some((_, status, code, message)) = shared
        .plan
        .permanent
        .iter()
        .find(|(needles, ..)| needles.iter().all(|n| text.contains(n.as_str())))
    {
        stats.permanent.fetch_add(1, Ordering::SeqCst);
        client.write_all(&error_response(&req, *status, code, message))?;
        return client.shutdown(Shutdown::Both);
    }
    let n = shared.requests.fetch_add(1, Ordering::SeqCst);
    if let Some(op) = operation(&req)
        && let Some((_, first)) = shared.plan.throttle_first.iter().find(|(o, _)| *o == op)
    {
        let mut done = shared.throttled_first.lock().unwrap();
        let count = done.entry(op).or_default();
        if *count < *first {
            *count += 1;
            stats.throttled.fetch_add(1, Ordering::SeqCst);
            client.write_all(&throttling(&req))?;
            return client.shutdown(Shutdown::Both);
        }
    }
    let seed = shared.plan.seed;
    if chance(seed, n, 1) < shared.plan.rate {
        let kind = chance(seed, n, 2);
        if kind < 0.4 {
            stats.throttled.fetch_add(1, Ordering::SeqCst);
            client.write_all(&throttling(&req))?;
        } else if kind < 0.6 {
            stats.server_errors.fetch_add(1, Ordering::SeqCst);
            client.write_all(&error_response(&req, 500, "InternalError", "injected"))?;
        } else if kind < 0.8 {
            stats.server_errors.fetch_add(1, Ordering::SeqCst);
            client.write_all(&error_response(&req, 503, "ServiceUnavailable", "injected"))?;
        } else {
            // Closed without a response, as a reset connection looks to the client.
            stats.dropped.fetch_add(1, Ordering::SeqCst);
        }
        return client.shutdown(Shutdown::Both);
    }
    let op = operation(&req).filter(|op| mutating(op));
    let arrived = stats.tick();
    let hold = match (&op, shared.plan.hold) {
        (Some(op), Some(h)) if h.op.is_none_or(|o| o == op) => {
            let nth = shared.mutating.fetch_add(1, Ordering::SeqCst);
            (nth >= h.from).then_some(h.after_moto)
        }
        _ => None,
    };
    if hold == Some(false) && !wait_at_gate(shared, op.as_deref().unwrap_or_default()) {
        return client.shutdown(Shutdown::Both);
    }
    stats.forwarded.fetch_add(1, Ordering::SeqCst);
    let mut upstream = TcpStream::connect(&shared.upstream)?;
    // One request per upstream connection: the response then ends when moto closes it.
    let head: String = req
        .head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:") && !l.is_empty())
        .map(|l| format!("{l}\r\n"))
        .collect();
    upstream.write_all(head.as_bytes())?;
    upstream.write_all(b"Connection: close\r\n\r\n")?;
    upstream.write_all(&req.body)?;
    let mut response = Vec::new();
    upstream.read_to_end(&mut response)?;
    if let Some(op) = &op {
        let call = Call {
            op: op.clone(),
            text: text.clone(),
            arrived,
            answered: stats.tick(),
        };
        stats.calls.lock().unwrap().push(call);
    }
    // Tell the client this connection ends here, so it never tries to reuse it.
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(response.len());
    let head = String::from_utf8_lossy(&response[..split]);
    let mut out: String = head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    out.push_str("Connection: close\r\n\r\n");
    if hold == Some(true) && !wait_at_gate(shared, op.as_deref().unwrap_or_default()) {
        return client.shutdown(Shutdown::Both);
    }
    if let Some(op) = op {
        let first =
            shared.plan.lose_first_of_each && shared.seen.lock().unwrap().insert(op.clone());
        if first || chance(seed, n, 3) < shared.plan.lost_responses {
            // moto has acted; the client never hears of it.
            stats.lost.lock().unwrap().push(op);
            return client.shutdown(Shutdown::Both);
        }
    }
    client.write_all(out.as_bytes())?;
    client.write_all(response.get(split + 4..).unwrap_or_default())?;
    client.shutdown(Shutdown::Both)
}
