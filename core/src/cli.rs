//! The command line every Cairn program gets from [`crate::run`].

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use cairn_state::{LockOptions, NEW_PASSPHRASE_VAR, PASSPHRASE_VAR, Store};
use clap::{Parser, Subcommand};
use serde_json::Value;

use crate::config::{Config, ConfigValue};
use crate::display::{self, PlanView};
use crate::engine::{Engine, EngineError, ImportSpec, Program, Resolution, Session, is_noop};
use crate::events;
use crate::execute::{Event, Execution};
use crate::interrupt::Interrupts;
use crate::plan::StepKind;
use crate::progress::PlainLog;
use crate::saved_plan::{SavedPlan, Steering, config_digest};
use crate::stack::Stack;
use crate::target::Targeting;

/// Default for `--parallel`. Cloud calls spend their time waiting on the provider, not on this
/// machine, so more than cores; AWS throttles accounts at a few dozen mutating calls a second,
/// and 16 keeps a large stack well inside that while still never being the critical path of
/// an ordinary deployment (which rarely has more than 16 independent resources ready at once).
pub const DEFAULT_PARALLEL: usize = 16;

#[derive(Parser, Debug)]
#[command(about = "Preview and apply this program's infrastructure", version)]
struct Cli {
    /// The stack to operate on.
    #[arg(long, global = true, env = "CAIRN_STACK", default_value = "dev")]
    stack: String,
    /// Where the state is kept: a SQLite file, or `s3://BUCKET/PREFIX` for a state a team
    /// shares (credentials, region and endpoint from the standard AWS configuration).
    #[arg(
        long,
        global = true,
        env = "CAIRN_STATE",
        default_value = ".cairn/state.db"
    )]
    state: String,
    /// How long to wait for a stack's lock another command holds before giving up (`30s`,
    /// `5m`); at once by default.
    #[arg(long, global = true, env = "CAIRN_LOCK_TIMEOUT", value_parser = humantime::parse_duration, default_value = "0s")]
    lock_timeout: std::time::Duration,
    /// With the state in S3: how long the lock's lease lasts unless renewed, so how long the
    /// lock of a command that was killed stays before another takes it over.
    #[arg(long, global = true, env = "CAIRN_LOCK_LEASE", value_parser = humantime::parse_duration, default_value = "60s")]
    lock_lease: std::time::Duration,
    /// Where the stack's configuration file (`Cairn.<stack>.toml`) lives.
    #[arg(long, global = true, env = "CAIRN_CONFIG_DIR", default_value = ".")]
    config_dir: PathBuf,
    /// Colour: on a terminal unless `NO_COLOR` is set (`auto`), or always, or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(clap::Args, Debug, Default)]
struct SteerArgs {
    /// Replace this resource even if nothing about it changed (repeatable).
    #[arg(long = "replace", value_name = "NAME")]
    replace: Vec<String>,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(clap::Args, Debug, Default)]
struct TargetArgs {
    /// Only this resource and what it needs (repeatable; for destroy, what needs it).
    #[arg(long = "target", value_name = "NAME")]
    targets: Vec<String>,
    /// Leave out this resource and what needs it (repeatable; for destroy, what it needs).
    #[arg(long = "exclude", value_name = "NAME")]
    excludes: Vec<String>,
}

impl TargetArgs {
    /// Restricts `program` to what was asked for, warning that the rest is left as it is.
    fn apply(&self, program: &mut Program, voice: Voice) {
        if self.targets.is_empty() && self.excludes.is_empty() {
            return;
        }
        voice.warn(
            "targeting is in effect: resources left out by --target/--exclude are left as \
             recorded, so the stack may not match the program until a run without them",
        );
        program.target(Targeting {
            targets: self.targets.clone(),
            excludes: self.excludes.clone(),
        });
    }
}

#[derive(clap::Args, Debug, Default)]
struct ConfigArgs {
    /// Set (and save) a configuration value for this run: KEY=VALUE.
    #[arg(short = 'c', long = "config", value_name = "KEY=VALUE")]
    assignments: Vec<String>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Show, property by property, what `up` would change.
    Preview {
        #[arg(long)]
        json: bool,
        /// Show every property of what changes, not only the changed ones.
        #[arg(long)]
        diff: bool,
        /// Also write the plan to FILE (JSON, secrets sealed), for `up --plan FILE` to apply
        /// exactly.
        #[arg(long, value_name = "FILE")]
        save_plan: Option<PathBuf>,
        /// Exit with 1 if anything would change (a CI check that the cloud matches the
        /// program).
        #[arg(long)]
        expect_no_changes: bool,
        /// Read every resource back first and plan against what the cloud holds now, showing
        /// the drift (the state is not written).
        #[arg(long, conflicts_with = "save_plan")]
        refresh: bool,
        #[command(flatten)]
        config: ConfigArgs,
        #[command(flatten)]
        steer: SteerArgs,
    },
    /// Create, update and delete resources so the cloud matches the program.
    Up {
        /// Apply without asking.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Show every property of what changes, not only the changed ones.
        #[arg(long)]
        diff: bool,
        /// Newline-delimited JSON events instead of text (needs --yes).
        #[arg(long)]
        json: bool,
        /// At most this many operations at once (0: no limit).
        #[arg(long, default_value_t = DEFAULT_PARALLEL)]
        parallel: usize,
        /// Apply exactly the plan `preview --save-plan FILE` wrote (with its --target,
        /// --exclude and --replace), or refuse, changing nothing, if the state, the program
        /// or the configuration moved since.
        #[arg(
            long,
            value_name = "FILE",
            conflicts_with_all = ["replace", "targets", "excludes", "assignments", "refresh"]
        )]
        plan: Option<PathBuf>,
        /// Read every resource back first, record what drifted (as `refresh --yes`), and plan
        /// against what the cloud holds now.
        #[arg(long)]
        refresh: bool,
        #[command(flatten)]
        config: ConfigArgs,
        #[command(flatten)]
        steer: SteerArgs,
    },
    /// Take existing resources under management: read each through its provider, record it
    /// as the program's NAME, and print its declaration to paste into the program.
    Import {
        /// The name it gets in the stack and the program.
        #[arg(required_unless_present = "file")]
        name: Option<String>,
        /// Its type token (`aws:ec2/Vpc`).
        #[arg(value_name = "TYPE", required_unless_present = "file")]
        ty: Option<String>,
        /// The cloud's id for it (`vpc-0abc…`).
        #[arg(required_unless_present = "file")]
        id: Option<String>,
        /// The provider instance to read it through (default: the type's package, `aws`).
        #[arg(long)]
        provider: Option<String>,
        /// Import every resource a JSON or TOML list names (`name`, `type`, `id`, `provider`),
        /// under one lock and one history entry.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["name", "ty", "id", "provider"])]
        file: Option<PathBuf>,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Delete every resource of the stack.
    Destroy {
        #[arg(long, short = 'y')]
        yes: bool,
        /// Newline-delimited JSON events instead of text (needs --yes).
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = DEFAULT_PARALLEL)]
        parallel: usize,
        #[command(flatten)]
        config: ConfigArgs,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Read every resource back from its provider, show drift, and record it.
    Refresh {
        #[arg(long, short = 'y')]
        yes: bool,
        /// Newline-delimited JSON events instead of text (records drift only with --yes).
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = DEFAULT_PARALLEL)]
        parallel: usize,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Show the stack's outputs.
    Outputs {
        #[arg(long)]
        json: bool,
        #[arg(long)]
        show_secrets: bool,
    },
    /// Show the commands that changed the stack.
    History {
        #[arg(long)]
        json: bool,
    },
    /// Print the resource graph as Graphviz DOT.
    Graph,
    /// Read and change the stack's configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Inspect and repair the state.
    #[command(subcommand)]
    State(StateCommand),
    /// The stacks in the state.
    #[command(subcommand)]
    Stack(StackCommand),
}

#[derive(Subcommand, Debug)]
enum StackCommand {
    /// List the stacks the state holds, with their resources and last change.
    Ls {
        #[arg(long)]
        json: bool,
    },
}

impl Command {
    /// Whether the command writes NDJSON events (`--json` on up, destroy, refresh), so that an
    /// error ends the stream as one too.
    fn writes_events(&self) -> bool {
        matches!(
            self,
            Command::Up { json: true, .. }
                | Command::Destroy { json: true, .. }
                | Command::Refresh { json: true, .. }
        )
    }
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Set a value.
    Set {
        key: String,
        /// The value; for a secret, leave it out to type it (not echoed) or pipe it in, so it
        /// stays out of the shell's history.
        #[arg(required_unless_present = "secret")]
        value: Option<String>,
        /// Store and treat the value as a secret.
        #[arg(long, conflicts_with = "plaintext")]
        secret: bool,
        /// Replace a secret with a plain value, written in clear to the config file.
        #[arg(long)]
        plaintext: bool,
    },
    /// Print one value (a secret only with --show-secrets).
    Get {
        key: String,
        #[arg(long)]
        show_secrets: bool,
    },
    /// Remove a value.
    Rm { key: String },
    /// List every value (secrets masked).
    List {
        #[arg(long)]
        show_secrets: bool,
    },
    /// Seal every secret again with the current key derivation costs, under the passphrase in
    /// CAIRN_NEW_PASSPHRASE if set (else the same one).
    Rekey,
}

#[derive(Subcommand, Debug)]
enum StateCommand {
    /// Release a lock left by a process that no longer exists (in S3: whose lease expired).
    Unlock {
        /// Release even a lock whose holder looks alive (or is on another host).
        #[arg(long)]
        force: bool,
    },
    /// Seal every secret in the state again with the current key derivation costs, under the
    /// passphrase in CAIRN_NEW_PASSPHRASE if set (else the same one).
    Rekey,
    /// Write the stack, whole (history and interrupted operations included, secrets still
    /// sealed), to a new file, to import elsewhere.
    Export { file: PathBuf },
    /// Add a stack exported with `state export` to this state; refused if it has the stack.
    Import { file: PathBuf },
    /// Copy the stack, whole, to another state (a file, or `s3://BUCKET/PREFIX`); refused
    /// if that state has the stack already.
    Migrate {
        /// The state to copy the stack to.
        #[arg(long, value_name = "STATE")]
        to: String,
    },
    /// List operations that were in flight when a previous command stopped.
    Pending,
    /// Settle an interrupted operation that `up` could not settle by itself.
    #[command(group(clap::ArgGroup::new("answer").required(true)))]
    Resolve {
        /// The operation's number, as `state pending` shows it.
        seq: i64,
        /// The interrupted create made this resource: adopt it.
        #[arg(long, group = "answer")]
        id: Option<String>,
        /// The resource does not exist (the create made nothing, or the delete finished).
        #[arg(long, group = "answer")]
        absent: bool,
        /// The resource still exists as recorded (the delete or update did not happen).
        #[arg(long, group = "answer")]
        exists: bool,
    },
}

/// Exit codes: 0 success, 1 failure, 2 usage error.
pub(crate) fn main(program: &dyn Fn(&mut Stack)) -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    if let Err(e) = check_stack_name(&cli.stack) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    // Before any thread exists: the environment is only safe to change now.
    passphrases();
    init_logging();
    match cli.color {
        ColorChoice::Auto => {}
        ColorChoice::Always | ColorChoice::Never => {
            let on = matches!(cli.color, ColorChoice::Always);
            console::set_colors_enabled(on);
            console::set_colors_enabled_stderr(on);
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let json = cli.command.writes_events();
    match runtime.block_on(dispatch(cli, program)) {
        Ok(code) => code,
        Err(e) => {
            if json {
                events::emit(events::diagnostic("error", &format!("{e:#}")));
            }
            eprintln!("error: {}", crate::redact::redact(&format!("{e:#}")));
            ExitCode::from(e.downcast_ref::<Usage>().map_or(1, |_| 2))
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default: warnings), every record redacted.
fn init_logging() {
    use tracing_subscriber::prelude::*;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // Other crates log whole requests and responses at trace level (the SDK's HTTP and
    // signing layers among them), and those carry input values, secrets included: every
    // target but Cairn's own is capped at debug, whatever RUST_LOG says.
    let capped = tracing_subscriber::filter::filter_fn(|meta| {
        *meta.level() != tracing::Level::TRACE || meta.target().starts_with("cairn")
    });
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(crate::redact::RedactingStderr)
                .with_filter(filter)
                .with_filter(capped),
        )
        .try_init();
}

/// An error that is the user's invocation, not the run: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Usage(String);

/// A stack name goes into a file name (`Cairn.<stack>.toml`) and into the state: letters,
/// digits, `-`, `_` and `.`, starting with a letter or digit, at most 64.
fn check_stack_name(name: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{name}' is not a stack name: use letters, digits, '-', '_' and '.', starting with \
             a letter or digit, at most 64 characters"
        ))
    }
}

fn config_path(cli: &Cli) -> PathBuf {
    cli.config_dir.join(format!("Cairn.{}.toml", cli.stack))
}

/// The passphrase that opens the stack's secrets, if the user gave one.
fn passphrase() -> Option<String> {
    passphrases().current.clone()
}

/// The passphrase a rekey seals under, if a new one is given.
fn new_passphrase() -> Option<String> {
    passphrases().new.clone()
}

/// The passphrases from the environment, read once before the runtime starts and removed
/// from it, so that no child process (the SDK's `credential_process`) inherits them.
struct Passphrases {
    current: Option<String>,
    new: Option<String>,
}

static PASSPHRASES: std::sync::OnceLock<Passphrases> = std::sync::OnceLock::new();

fn passphrases() -> &'static Passphrases {
    PASSPHRASES.get_or_init(|| {
        let take = |var: &str| {
            let value = std::env::var(var).ok().filter(|p| !p.is_empty());
            // SAFETY: called once, from `main` before the runtime (or any thread) starts.
            unsafe { std::env::remove_var(var) };
            value
        };
        Passphrases {
            current: take(PASSPHRASE_VAR),
            new: take(NEW_PASSPHRASE_VAR),
        }
    })
}

fn load_config(cli: &Cli, assignments: &ConfigArgs) -> Result<Config> {
    let mut config = Config::load_with(config_path(cli), passphrase())?;
    if !assignments.assignments.is_empty() {
        for a in &assignments.assignments {
            config.set_assignment(a).map_err(|e| Usage(e.to_string()))?;
        }
        config.save()?;
    }
    Ok(config)
}

fn declare(cli: &Cli, config: Config, program: &dyn Fn(&mut Stack)) -> Result<Program> {
    Ok(Program::declare(Stack::new(&cli.stack, config), program)?)
}

/// What every command that plans needs: the configuration (with `-c` applied and saved),
/// the declared program, and the state.
async fn setup(
    cli: &Cli,
    assignments: &ConfigArgs,
    program: &dyn Fn(&mut Stack),
) -> Result<(Program, Engine)> {
    let config = load_config(cli, assignments)?;
    let program = declare(cli, config, program)?;
    let engine = open(cli)?;
    engine.preflight(&program).await?;
    // Before any plan: where the calls really go, if not to the cloud.
    for note in engine.notices(&program) {
        eprintln!("note: {note}");
    }
    Ok((program, engine))
}

fn open(cli: &Cli) -> Result<Engine> {
    open_state(cli, &cli.state)
}

/// The state at `url` for the stack: a file, or a working copy of what S3 holds.
fn open_state(cli: &Cli, url: &str) -> Result<Engine> {
    let store = Store::open_url(url, &cli.stack)?;
    store.set_lock_options(LockOptions {
        wait: cli.lock_timeout,
        lease: cli.lock_lease,
    });
    store.use_passphrase(passphrase())?;
    Ok(Engine::new(store, &cli.stack))
}

/// A secret's value typed at a terminal (not echoed) or read from standard input, so that it
/// never appears in a command line or the shell's history.
fn read_secret(key: &str) -> Result<zeroize::Zeroizing<String>> {
    let value = if std::io::stdin().is_terminal() {
        eprint!("Value of secret '{key}': ");
        console::Term::stderr()
            .read_secure_line()
            .context("reading the secret")?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the secret from standard input")?;
        line.trim_end_matches(['\n', '\r']).to_string()
    };
    if value.is_empty() {
        bail!("no value given for secret '{key}'");
    }
    Ok(zeroize::Zeroizing::new(value))
}

/// What the person at the terminal answered.
enum Answer {
    Yes,
    No,
    /// Ctrl-C (or SIGTERM) at the question: nothing was done; exit with this code.
    Interrupted(u8),
}

/// Asks on a terminal; refuses without one unless `--yes` was given. A signal while it waits is
/// an answer too, so the command can release its lock and say nothing was done.
async fn confirm(yes: bool, question: &str) -> Result<Answer> {
    if yes {
        return Ok(Answer::Yes);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Usage(format!(
            "{question} needs confirmation and there is no terminal to ask on: pass --yes"
        ))
        .into());
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    // A thread of its own, not the runtime's blocking pool: the runtime would wait for a read
    // that an interrupt leaves pending.
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = std::io::stdin().lock().read_line(&mut line).map(|_| line);
        let _ = tx.send(read);
    });
    tokio::select! {
        line = rx => {
            let line = line.context("reading the answer")??;
            Ok(if matches!(line.trim(), "y" | "Y" | "yes") { Answer::Yes } else { Answer::No })
        }
        Some(signal) = crate::interrupt::next_signal() => {
            eprintln!();
            Ok(Answer::Interrupted(128 + signal as u8))
        }
    }
}

/// What a command does after asking: go on (`None`), or stop with this exit code.
fn unless_declined(answer: Answer) -> Option<ExitCode> {
    match answer {
        Answer::Yes => None,
        Answer::No => {
            println!("Cancelled.");
            Some(ExitCode::FAILURE)
        }
        Answer::Interrupted(code) => {
            println!("Cancelled: nothing was changed.");
            Some(ExitCode::from(code))
        }
    }
}

/// How a mutating command tells its story: text for a person, or NDJSON events for a machine
/// (`--json`, see `events.rs`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Voice {
    Text,
    Json,
}

impl Voice {
    /// `--json` needs `--yes`: with it there is no one to ask.
    fn of(json: bool, yes: bool) -> Result<Voice> {
        match (json, yes) {
            (false, _) => Ok(Voice::Text),
            (true, true) => Ok(Voice::Json),
            (true, false) => Err(Usage(
                "--json needs --yes: a run that writes JSON events has no one to ask".into(),
            )
            .into()),
        }
    }

    /// A remark beside the operations: on stderr as it is for a person, a diagnostic event
    /// (`level`: info, warning, error) for a machine.
    fn say(self, level: &str, text: &str) {
        match self {
            Voice::Text => eprintln!("{}", crate::redact::redact(text)),
            Voice::Json => events::emit(events::diagnostic(level, text)),
        }
    }

    fn warn(self, text: &str) {
        match self {
            Voice::Text => eprintln!("warning: {text}"),
            Voice::Json => events::emit(events::diagnostic("warning", text)),
        }
    }
}

/// Shows a run as it goes (`progress.rs` says what): on a terminal, finished operations above a
/// live frame redrawn four times a second; off one, the plain log, checked every second for
/// operations to mention again.
struct Progress {
    voice: Voice,
    bar: Option<indicatif::ProgressBar>,
    log: Arc<Mutex<PlainLog>>,
    started: Instant,
    ticker: tokio::task::JoinHandle<()>,
}

/// How many events of completion a plan's run has: a replacement's two halves each end.
fn operations(plan: &crate::Plan) -> usize {
    plan.steps
        .iter()
        .map(|s| match s.kind() {
            StepKind::Same | StepKind::Untargeted => 0,
            StepKind::Read if !s.reads_during_apply() => 0,
            StepKind::Replace => 2,
            _ => 1,
        })
        .sum()
}

impl Progress {
    fn new(plan: &crate::Plan, voice: Voice) -> Progress {
        let live = voice == Voice::Text && std::io::stderr().is_terminal();
        let bar = live.then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{msg}").expect("valid template"),
            );
            bar
        });
        // The live view draws on stderr, the plain log prints on stdout.
        let color = if live {
            console::colors_enabled_stderr()
        } else {
            console::colors_enabled()
        };
        let log = Arc::new(Mutex::new(PlainLog::new(operations(plan), color)));
        let started = Instant::now();
        let ticker = {
            let (log, bar) = (log.clone(), bar.clone());
            tokio::spawn(async move {
                let period = if bar.is_some() { 250 } else { 1000 };
                let mut every = tokio::time::interval(Duration::from_millis(period));
                loop {
                    every.tick().await;
                    let mut log = log.lock().unwrap();
                    match &bar {
                        Some(bar) => bar.set_message(log.frame(started.elapsed())),
                        // Events carry their own elapsed times: nothing to repeat.
                        None if voice == Voice::Json => {}
                        None => {
                            for line in log.tick(started.elapsed()) {
                                println!("{line}");
                            }
                        }
                    }
                }
            })
        };
        Progress {
            voice,
            bar,
            log,
            started,
            ticker,
        }
    }

    fn event(&self, e: &Event) {
        if self.voice == Voice::Json {
            events::emit(events::operation(e));
            return;
        }
        // One lock for the state and the printing, so lines never interleave.
        let mut log = self.log.lock().unwrap();
        let lines = log.event(e, self.started.elapsed());
        match &self.bar {
            Some(bar) => {
                // Starts show in the frame; what finished is printed above it.
                if !e.action.is_start() {
                    for line in lines {
                        bar.println(line);
                    }
                }
                bar.set_message(log.frame(self.started.elapsed()));
            }
            None => {
                for line in lines {
                    println!("{line}");
                }
            }
        }
    }

    /// Says something without disturbing the live view: printed above it on a terminal.
    fn notices(&self) -> impl Fn(&str) + Send + 'static {
        let (bar, voice) = (self.bar.clone(), self.voice);
        move |text| match (&bar, voice) {
            (_, Voice::Json) => voice.say("warning", text),
            (Some(bar), _) => bar.println(format!("\n{text}")),
            (None, _) => eprintln!("\n{text}"),
        }
    }

    fn finish(&self) {
        self.ticker.abort();
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn report(exec: &Execution, verb: &str) -> ExitCode {
    let mut counts: Vec<_> = exec.counts.iter().collect();
    counts.sort();
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    println!(
        "{verb}: {}",
        if summary.is_empty() {
            "no changes".to_string()
        } else {
            summary.join(", ")
        }
    );
    if exec.errors.is_empty() {
        return ExitCode::SUCCESS;
    }
    eprintln!("error: {} operation(s) failed:", exec.errors.len());
    for e in &exec.errors {
        eprintln!("  {}", crate::redact::redact(&e.to_string()));
    }
    if !exec.skipped.is_empty() {
        eprintln!(
            "skipped because a dependency failed: {}",
            exec.skipped.join(", ")
        );
    }
    if !exec.missing.is_empty() {
        eprintln!(
            "declared but not in the cloud now (the next up creates them): {}",
            exec.missing.join(", ")
        );
    }
    ExitCode::FAILURE
}

/// Says how a run ended and returns its exit code: the summary and errors, what an interrupt
/// left undone, and the outputs of a finished `up`.
fn finish(voice: Voice, command: &str, exec: &Execution, interrupts: &Interrupts) -> ExitCode {
    if voice == Voice::Json {
        let code = match interrupts.code() {
            Some(code) => code,
            None if exec.errors.is_empty() => 0,
            None => 1,
        };
        events::emit(events::summary(command, exec, code));
        return ExitCode::from(code);
    }
    let code = report(exec, if command == "up" { "Update" } else { "Destroy" });
    if let Some(code) = interrupted(interrupts, exec, command) {
        return code;
    }
    if !exec.outputs.is_empty() {
        println!("Outputs:");
        for (name, value, secret) in &exec.outputs {
            println!(
                "    {name}: {}",
                display::output_value(value, *secret, false)
            );
        }
    }
    code
}

async fn dispatch(cli: Cli, program: &dyn Fn(&mut Stack)) -> Result<ExitCode> {
    match &cli.command {
        Command::Preview {
            json,
            diff,
            save_plan,
            expect_no_changes,
            refresh,
            config,
            steer,
        } => {
            let (mut program, engine) = setup(&cli, config, program).await?;
            program.replace(&steer.replace)?;
            steer.target.apply(&mut program, Voice::Text);
            if save_plan.is_some() {
                refuse_pending(&engine)?;
            } else {
                warn_pending(&engine)?;
            }
            let (drifts, plan) = if *refresh {
                engine.preview_refreshed(&program, DEFAULT_PARALLEL).await?
            } else {
                (Vec::new(), engine.preview(&program).await?)
            };
            if *refresh && !*json {
                print!(
                    "Read back from the cloud:\n{}\n",
                    display::drift_text(&drifts)
                );
            }
            if let Some(path) = save_plan {
                let steering = Steering {
                    targets: steer.target.targets.clone(),
                    excludes: steer.target.excludes.clone(),
                    replace: steer.replace.clone(),
                };
                let saved = SavedPlan::new(
                    &engine.store,
                    &cli.stack,
                    &plan,
                    steering,
                    config_digest(&config_path(&cli)),
                )?;
                std::fs::write(path, serde_json::to_string_pretty(&saved)? + "\n")
                    .with_context(|| format!("writing the plan to {}", path.display()))?;
            }
            if *json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&display::plan_json(&plan))?
                );
            } else {
                let view = PlanView {
                    all_properties: *diff,
                    ..PlanView::default()
                };
                print!(
                    "Previewing stack '{}':\n{}",
                    cli.stack,
                    display::plan_text_with(&plan, view)
                );
                if let Some(path) = save_plan {
                    println!(
                        "Plan saved to {}: apply exactly this with `up --plan {}`",
                        path.display(),
                        path.display()
                    );
                }
            }
            if *expect_no_changes && !is_noop(&plan) {
                eprintln!("error: changes are pending (--expect-no-changes)");
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Up {
            yes,
            diff,
            json,
            parallel,
            plan: plan_file,
            refresh,
            config,
            steer,
        } => {
            let voice = Voice::of(*json, *yes)?;
            let saved = plan_file.as_deref().map(SavedPlan::read).transpose()?;
            let (mut program, engine) = setup(&cli, config, program).await?;
            match &saved {
                // The saved plan's steering, and the names it picked.
                Some(saved) => {
                    program.replace(&saved.steering.replace)?;
                    let target = TargetArgs {
                        targets: saved.steering.targets.clone(),
                        excludes: saved.steering.excludes.clone(),
                    };
                    target.apply(&mut program, voice);
                    saved.reuse_names(&engine.store, &mut program)?;
                }
                None => {
                    program.replace(&steer.replace)?;
                    steer.target.apply(&mut program, voice);
                }
            }
            let session = lock(&engine, "up", voice)?;
            if saved.is_some() {
                refuse_pending(&engine)?;
            } else {
                recover(&session, &program, voice).await?;
            }
            if *refresh {
                let (drifts, errors) = session.refresh(&program, *parallel, true).await?;
                if !errors.is_empty() {
                    return Err(EngineError::Plan(errors).into());
                }
                if voice == Voice::Text {
                    print!(
                        "Read back from the cloud:\n{}\n",
                        display::drift_text(&drifts)
                    );
                }
            }
            let plan = session.plan(&program).await?;
            if let Some(saved) = &saved {
                saved.check(
                    &engine.store,
                    &cli.stack,
                    &plan,
                    &config_digest(&config_path(&cli)),
                )?;
            }
            match voice {
                Voice::Json => events::emit(events::plan("up", &cli.stack, &plan)),
                Voice::Text => {
                    let view = PlanView {
                        outputs: false,
                        all_properties: *diff,
                        ..PlanView::default()
                    };
                    print!(
                        "Updating stack '{}':\n{}",
                        cli.stack,
                        display::plan_text_with(&plan, view)
                    );
                    if !is_noop(&plan)
                        && let Some(code) =
                            unless_declined(confirm(*yes, "Perform this update?").await?)
                    {
                        return Ok(code);
                    }
                }
            }
            let progress = Progress::new(&plan, voice);
            let interrupts = Interrupts::watch(session.stop(), progress.notices());
            let exec = session
                .apply(&program, &plan, *parallel, &|e| progress.event(e))
                .await?;
            progress.finish();
            Ok(finish(voice, "up", &exec, &interrupts))
        }
        Command::Import {
            name,
            ty,
            id,
            provider,
            file,
            config,
        } => {
            let specs = match (file, name, ty, id) {
                (Some(path), ..) => import_file(path)?,
                (None, Some(name), Some(ty), Some(id)) => vec![ImportSpec {
                    name: name.clone(),
                    ty: ty.clone(),
                    id: id.clone(),
                    provider: provider.clone(),
                }],
                _ => return Err(Usage("import needs NAME TYPE ID, or --file FILE".into()).into()),
            };
            let (program, engine) = setup(&cli, config, program).await?;
            let session = lock(&engine, "import", Voice::Text)?;
            recover(&session, &program, Voice::Text).await?;
            let imported = session.import(&program, &specs).await?;
            eprintln!(
                "Imported {} resource(s) into stack '{}'. Declare them in the program as \
                 below; `preview` then shows no change:\n",
                imported.len(),
                cli.stack
            );
            for r in &imported {
                println!("{}\n", r.declaration);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Destroy {
            yes,
            json,
            parallel,
            config,
            target,
        } => {
            let voice = Voice::of(*json, *yes)?;
            let (mut program, engine) = setup(&cli, config, program).await?;
            target.apply(&mut program, voice);
            let session = lock(&engine, "destroy", voice)?;
            recover(&session, &program, voice).await?;
            let plan = session.plan_destroy(&program)?;
            match voice {
                Voice::Json => events::emit(events::plan("destroy", &cli.stack, &plan)),
                Voice::Text => {
                    let view = PlanView {
                        outputs: false,
                        ..PlanView::default()
                    };
                    print!(
                        "Destroying stack '{}' (in this order):\n{}",
                        cli.stack,
                        display::plan_text_with(&plan, view)
                    );
                    if plan.steps.is_empty() {
                        println!("Nothing to destroy.");
                        return Ok(ExitCode::SUCCESS);
                    }
                    let question = if program.targeting.is_everything() {
                        "Delete every resource of this stack?"
                    } else {
                        "Delete these resources?"
                    };
                    if let Some(code) = unless_declined(confirm(*yes, question).await?) {
                        return Ok(code);
                    }
                }
            }
            let progress = Progress::new(&plan, voice);
            let interrupts = Interrupts::watch(session.stop(), progress.notices());
            let exec = session
                .destroy(&program, &plan, *parallel, &|e| progress.event(e))
                .await?;
            progress.finish();
            Ok(finish(voice, "destroy", &exec, &interrupts))
        }
        Command::Refresh {
            yes,
            json,
            parallel,
            target,
        } => {
            // Without --yes, --json only reports: there is no one to ask whether to record.
            let voice = if *json { Voice::Json } else { Voice::Text };
            let (mut program, engine) = setup(&cli, &ConfigArgs::default(), program).await?;
            target.apply(&mut program, voice);
            let session = lock(&engine, "refresh", voice)?;
            recover(&session, &program, voice).await?;
            if voice == Voice::Text {
                println!("Refreshing stack '{}':", cli.stack);
            }
            let interactive = voice == Voice::Text && !*yes && std::io::stdin().is_terminal();
            let interrupts =
                Interrupts::watch(session.stop(), move |text| voice.say("warning", text));
            let (drifts, errors) = session.refresh(&program, *parallel, *yes).await?;
            if voice == Voice::Json {
                for d in &drifts {
                    events::emit(events::drift(d));
                }
                let code = match interrupts.code() {
                    Some(code) => code,
                    None if errors.is_empty() => 0,
                    None => 1,
                };
                for e in &errors {
                    events::emit(events::diagnostic("error", e));
                }
                events::emit(events::refresh_summary(drifts.len(), *yes, &errors, code));
                return Ok(ExitCode::from(code));
            }
            print!("{}", display::drift_text(&drifts));
            if let Some(code) = interrupts.exit_code() {
                // What was read is shown (and, with --yes, recorded); the rest was not read.
                eprintln!("Interrupted: not every resource was read; run `refresh` again.");
                return Ok(code);
            }
            if !errors.is_empty() {
                bail!("refresh failed:\n  {}", errors.join("\n  "));
            }
            if !*yes && !drifts.is_empty() {
                // The question hears its own interrupt.
                drop(interrupts);
                let answer = if interactive {
                    confirm(false, "Record this drift in the state?").await?
                } else {
                    Answer::No
                };
                match answer {
                    Answer::Yes => {
                        let (_, errors) = session.refresh(&program, *parallel, true).await?;
                        if !errors.is_empty() {
                            bail!("refresh failed:\n  {}", errors.join("\n  "));
                        }
                        println!("Recorded.");
                    }
                    Answer::No => println!("Not recorded: run `refresh --yes` to record it."),
                    Answer::Interrupted(code) => {
                        println!("Not recorded.");
                        return Ok(ExitCode::from(code));
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Outputs { json, show_secrets } => {
            let engine = open(&cli)?;
            let outputs = engine.outputs()?;
            if *json {
                let map: serde_json::Map<String, Value> = outputs
                    .iter()
                    .map(|(n, v, s)| (n.clone(), display::output_value(v, *s, *show_secrets)))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&map)?);
            } else {
                for (n, v, s) in &outputs {
                    let v = display::output_value(v, *s, *show_secrets);
                    match v {
                        Value::String(s) => println!("{n}: {s}"),
                        v => println!("{n}: {v}"),
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::History { json } => {
            let engine = open(&cli)?;
            let history = engine.store.history(&cli.stack)?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&history)?);
            } else {
                for h in history {
                    println!(
                        "#{:<4} {:<8} {:<10} {}  {}",
                        h.id,
                        h.kind,
                        h.result.as_deref().unwrap_or("unfinished"),
                        h.started_at,
                        h.summary
                            .get("counts")
                            .map(|c| c.to_string())
                            .unwrap_or_default()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Stack(StackCommand::Ls { json }) => {
            let store = open(&cli)?.store;
            let stacks = store.stacks()?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&stacks)?);
            } else if stacks.is_empty() {
                println!("No stacks in {}.", store.describe());
            } else {
                println!("{:<24} {:>9}  last change", "stack", "resources");
                for s in stacks {
                    let last = match (&s.last_kind, &s.last_at) {
                        (Some(kind), Some(at)) => format!("{kind} at {at}"),
                        _ => "never".to_string(),
                    };
                    let current = if s.name == cli.stack {
                        " (current)"
                    } else {
                        ""
                    };
                    println!("{:<24} {:>9}  {last}{current}", s.name, s.resources);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Graph => {
            let config = load_config(&cli, &ConfigArgs::default())?;
            let program = declare(&cli, config, program)?;
            print!("{}", program.graph.to_dot(&program.stack));
            Ok(ExitCode::SUCCESS)
        }
        Command::Config(cmd) => {
            let mut config = Config::load_with(config_path(&cli), passphrase())?;
            let locked =
                || anyhow::anyhow!("config values are secret: set {PASSPHRASE_VAR} to show them");
            match cmd {
                ConfigCommand::Set {
                    key,
                    value,
                    secret,
                    plaintext,
                } => {
                    if !*secret && !*plaintext {
                        config.refuse_exposing(key)?;
                    }
                    let value = match value {
                        Some(v) => zeroize::Zeroizing::new(v.clone()),
                        None => read_secret(key)?,
                    };
                    config.set(key, &value, *secret);
                    config.save()?;
                }
                ConfigCommand::Rm { key } => {
                    if !config.remove(key) {
                        bail!("config key '{key}' is not set for stack '{}'", cli.stack);
                    }
                    config.save()?;
                }
                ConfigCommand::Get { key, show_secrets } => match config.raw(key) {
                    Some(ConfigValue::Plain(v)) => println!("{v}"),
                    Some(ConfigValue::Secret(v)) if *show_secrets => println!("{v}"),
                    Some(ConfigValue::Locked) if *show_secrets => return Err(locked()),
                    Some(ConfigValue::Secret(_) | ConfigValue::Locked) => println!("[secret]"),
                    None => bail!("config key '{key}' is not set for stack '{}'", cli.stack),
                },
                ConfigCommand::Rekey => {
                    let n = config.rekey(new_passphrase())?;
                    let costs = config.kdf().map(|k| k.encode()).unwrap_or_default();
                    println!("Sealed {n} secret(s) again ({costs}).");
                }
                ConfigCommand::List { show_secrets } => {
                    for (k, v) in config.entries() {
                        match v {
                            ConfigValue::Plain(v) => println!("{k} = {v}"),
                            ConfigValue::Secret(secret) if *show_secrets => {
                                println!("{k} = {secret}  (secret)")
                            }
                            ConfigValue::Locked if *show_secrets => return Err(locked()),
                            ConfigValue::Secret(_) | ConfigValue::Locked => {
                                println!("{k} = [secret]")
                            }
                        }
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::State(StateCommand::Resolve {
            seq,
            id,
            absent,
            exists,
        }) => {
            let (program, engine) = setup(&cli, &ConfigArgs::default(), program).await?;
            let session = lock(&engine, "state resolve", Voice::Text)?;
            let answer = match (id, absent, exists) {
                (Some(id), _, _) => Resolution::Id(id.clone()),
                (None, true, _) => Resolution::Absent,
                _ => Resolution::Exists,
            };
            println!("{}", session.resolve(&program, *seq, answer).await?);
            Ok(ExitCode::SUCCESS)
        }
        Command::State(cmd) => {
            let engine = open(&cli)?;
            match cmd {
                StateCommand::Unlock { force } => {
                    let holder = engine
                        .store
                        .unlock(&cli.stack, *force)
                        .context("cannot release the lock")?;
                    println!("Released the lock held by {holder}.");
                }
                StateCommand::Pending => {
                    let pending = engine.store.pending_operations(&cli.stack)?;
                    if pending.is_empty() {
                        println!("No pending operations.");
                    }
                    for p in pending {
                        println!(
                            "#{} {} {} ({}) started {} [token {}]",
                            p.seq,
                            p.kind.as_str(),
                            p.name,
                            p.ty,
                            p.started_at,
                            p.client_token
                        );
                    }
                }
                StateCommand::Rekey => {
                    let _session = lock(&engine, "state rekey", Voice::Text)?;
                    let n = engine.store.rekey(new_passphrase())?;
                    let costs = engine.store.kdf()?.map(|k| k.encode()).unwrap_or_default();
                    println!("Sealed {n} value(s) again ({costs}).");
                }
                StateCommand::Export { file } => {
                    if file.exists() {
                        bail!("{} exists: state export never overwrites", file.display());
                    }
                    let snapshot = engine.store.export_stack(&cli.stack)?.ok_or_else(|| {
                        anyhow::anyhow!("this state has no stack '{}'", cli.stack)
                    })?;
                    let text = serde_json::to_string_pretty(&snapshot)?;
                    // Private: it holds every input and output, and the sealed secrets.
                    cairn_state::files::write_atomic(file, text.as_bytes(), true)
                        .with_context(|| format!("writing {}", file.display()))?;
                    println!("Exported stack '{}' to {}.", cli.stack, file.display());
                }
                StateCommand::Import { file } => {
                    let text = std::fs::read_to_string(file)
                        .with_context(|| format!("reading {}", file.display()))?;
                    let snapshot: cairn_state::StackSnapshot = serde_json::from_str(&text)
                        .with_context(|| format!("{} is not a stack export", file.display()))?;
                    if snapshot.stack != cli.stack {
                        return Err(Usage(format!(
                            "{} holds stack '{}': pass --stack {}",
                            file.display(),
                            snapshot.stack,
                            snapshot.stack
                        ))
                        .into());
                    }
                    let _session = lock(&engine, "state import", Voice::Text)?;
                    let rows = engine.store.import_stack(&snapshot)?;
                    println!("Imported stack '{}' ({rows} rows).", cli.stack);
                }
                StateCommand::Migrate { to } => {
                    // Under the lock: nothing changes the stack while it is copied.
                    let _session = lock(&engine, "state migrate", Voice::Text)?;
                    let snapshot = engine.store.export_stack(&cli.stack)?.ok_or_else(|| {
                        anyhow::anyhow!("this state has no stack '{}'", cli.stack)
                    })?;
                    let target = open_state(&cli, to)?;
                    let _target_session = lock(&target, "state migrate", Voice::Text)?;
                    let rows = target.store.import_stack(&snapshot)?;
                    println!(
                        "Copied stack '{}' ({rows} rows, its history included) from {} to {}.\n\
                         It is still in {}: use the new state from now on (--state or \
                         CAIRN_STATE), and `destroy` nothing through the old one.",
                        cli.stack,
                        engine.store.describe(),
                        target.store.describe(),
                        engine.store.describe(),
                    );
                }
                StateCommand::Resolve { .. } => unreachable!("handled above"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Settles what an earlier, interrupted run left in flight, before anything is planned.
/// After a run a signal stopped: what was not done, and the exit code (the lock is released
/// as the session ends).
fn interrupted(interrupts: &Interrupts, exec: &Execution, command: &str) -> Option<ExitCode> {
    let code = interrupts.exit_code()?;
    let not_started = exec.not_started.clone().unwrap_or_default();
    if not_started.is_empty() {
        eprintln!("Interrupted after the last operation had started; nothing was left undone.");
    } else {
        eprintln!(
            "Interrupted: not done: {} (the next `{command}` does them).",
            not_started.join(", ")
        );
    }
    Some(code)
}

/// Takes the stack's lock, saying so when it takes over a dead process's.
fn lock<'e>(engine: &'e Engine, command: &str, voice: Voice) -> Result<Session<'e>, EngineError> {
    let session = engine.lock(command)?;
    if let Some(old) = session.taken_over() {
        voice.say(
            "warning",
            &format!("Took over the lock of {old}: {}.", old.why_free()),
        );
    }
    Ok(session)
}

async fn recover(
    session: &Session<'_>,
    program: &Program,
    voice: Voice,
) -> Result<(), EngineError> {
    let recovered = session.recover(program).await?;
    if voice == Voice::Json {
        for r in recovered {
            voice.say(
                "info",
                &format!("recovered an operation interrupted by an earlier run: {r}"),
            );
        }
        return Ok(());
    }
    if !recovered.is_empty() {
        println!(
            "Recovered {} operation(s) interrupted by an earlier run:",
            recovered.len()
        );
        for r in recovered {
            println!("    {r}");
        }
    }
    Ok(())
}

/// Operations left pending by a process that stopped mid-call.
/// What `import --file` names: a JSON list, or a TOML file of `[[resource]]` tables.
fn import_file(path: &std::path::Path) -> Result<Vec<ImportSpec>> {
    #[derive(serde::Deserialize)]
    struct Spec {
        name: String,
        #[serde(rename = "type")]
        ty: String,
        id: String,
        provider: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct TomlFile {
        resource: Vec<Spec>,
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let specs: Vec<Spec> = if path.extension().is_some_and(|e| e == "toml") {
        toml::from_str::<TomlFile>(&text)
            .with_context(|| format!("{}: expected [[resource]] tables", path.display()))?
            .resource
    } else {
        serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: expected a JSON list of {{\"name\", \"type\", \"id\"}}",
                path.display()
            )
        })?
    };
    Ok(specs
        .into_iter()
        .map(|s| ImportSpec {
            name: s.name,
            ty: s.ty,
            id: s.id,
            provider: s.provider,
        })
        .collect())
}

/// A saved plan cannot hold what interrupted operations will change: they are settled (by
/// `up`, `destroy`, `refresh` or `state resolve`) first.
fn refuse_pending(engine: &Engine) -> Result<(), EngineError> {
    let pending = engine.store.pending_operations(&engine.stack)?;
    if pending.is_empty() {
        return Ok(());
    }
    Err(EngineError::StalePlan(vec![format!(
        "{} operation(s) of an earlier run are unsettled ({}); a plan cannot say what they \
         will change: run `up` (or `state resolve`) to settle them, then preview again",
        pending.len(),
        pending
            .iter()
            .map(|p| format!("{} {}", p.kind.as_str(), p.name))
            .collect::<Vec<_>>()
            .join(", ")
    )]))
}

fn warn_pending(engine: &Engine) -> Result<(), EngineError> {
    let pending = engine.store.pending_operations(&engine.stack)?;
    if pending.is_empty() {
        return Ok(());
    }
    let listed = pending
        .iter()
        .map(|p| format!("{} {}", p.kind.as_str(), p.name))
        .collect::<Vec<_>>()
        .join(", ");
    match engine.store.lock_holder(&engine.stack)? {
        // Another command is running them now (another machine's, with the state in S3).
        Some(holder) if holder.is_live() => eprintln!(
            "warning: {} operation(s) are in flight in a command running now ({holder}); this \
             preview does not show what they will change: {listed}",
            pending.len(),
        ),
        _ => eprintln!(
            "warning: {} operation(s) were interrupted by an earlier run (up, destroy or refresh \
             will settle them first): {listed}",
            pending.len(),
        ),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_list_is_read_from_json_or_toml_and_a_wrong_shape_says_what_it_wants() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("list.json");
        std::fs::write(
            &json,
            r#"[{"name": "a", "type": "aws:ec2/Vpc", "id": "vpc-1", "provider": "east"}]"#,
        )
        .unwrap();
        let toml = dir.path().join("list.toml");
        std::fs::write(
            &toml,
            "[[resource]]\nname = \"a\"\ntype = \"aws:ec2/Vpc\"\nid = \"vpc-1\"\nprovider = \"east\"\n",
        )
        .unwrap();
        let want = vec![ImportSpec {
            name: "a".into(),
            ty: "aws:ec2/Vpc".into(),
            id: "vpc-1".into(),
            provider: Some("east".into()),
        }];
        assert_eq!(import_file(&json).unwrap(), want);
        assert_eq!(import_file(&toml).unwrap(), want);
        std::fs::write(&json, r#"{"name": "a"}"#).unwrap();
        let e = format!("{:#}", import_file(&json).unwrap_err());
        assert!(e.contains("expected a JSON list"), "{e}");
    }
}
