//! Shared support for Cairn's integration tests (the tests themselves are in `integration/`):
//! a moto server per test, started on a free loopback port and stopped on drop.

pub mod faults;
pub mod programs;
pub mod terminal;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The second demo image (another page): pointing `imageDir` at it rolls the service.
pub const IMAGE_V2: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../programs/ecr-privatelink-fargate/image-v2"
);

/// A running moto server.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The venv's python: `CAIRN_MOTO_PYTHON`, or installed now by the project's script.
fn moto_python() -> String {
    if let Ok(p) = std::env::var("CAIRN_MOTO_PYTHON") {
        return p;
    }
    let out = Command::new(repo_root().join("scripts/install-moto.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/install-moto.sh");
    assert!(out.status.success(), "installing moto failed");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

impl Moto {
    /// Starts moto on a port of 127.0.0.1 that moto itself picks (port 0), and returns once it
    /// says where it listens: no port is chosen here and freed for moto to take, which another
    /// test could take first.
    pub fn start() -> Moto {
        let mut child = Command::new(moto_python())
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", "0"])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            // ACM issues a DNS-validated certificate at once rather than after a minute.
            .env("MOTO_ACM_VALIDATION_WAIT", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start moto");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads what moto says until it names its port, then drains the rest so that moto
        // never blocks on a full pipe.
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut tx = Some(tx);
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(tx) = tx.take_if(|_| line.contains("Running on http://127.0.0.1:")) {
                    // `... Running on http://127.0.0.1:PORT` (the digits after the last colon).
                    let after = line.rsplit(':').next().unwrap_or_default();
                    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
                    let port = digits.parse().ok();
                    let _ = tx.send(port);
                }
            }
        });
        let port: u16 = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Some(port)) => port,
            other => {
                let _ = child.kill();
                panic!("moto did not say which port it listens on: {other:?}");
            }
        };
        Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one command printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The default program's command line, run as a user would: its own state and config folder,
/// pointed at one moto, with no terminal.
pub struct Cli {
    bin: PathBuf,
    pub dir: tempfile::TempDir,
    endpoint: String,
    env: Vec<(String, String)>,
}

impl Cli {
    /// `bin` is `env!("CARGO_BIN_EXE_cairn-program")` of the calling test.
    pub fn new(bin: &str, moto: &Moto) -> Cli {
        Cli::with_endpoint(bin, &moto.endpoint)
    }

    /// Pointed at another endpoint (a fault proxy in front of moto).
    pub fn with_endpoint(bin: &str, endpoint: &str) -> Cli {
        Cli {
            bin: PathBuf::from(bin),
            dir: tempfile::tempdir().unwrap(),
            endpoint: endpoint.to_string(),
            env: Vec::new(),
        }
    }

    /// Runs one of the tests' own programs (`cairn_tests::programs`) instead of the default.
    pub fn program(mut self, name: &str) -> Cli {
        self.env
            .push(("CAIRN_TEST_PROGRAM".to_string(), name.to_string()));
        self
    }

    /// Sets an environment variable for every command (after the defaults: `CAIRN_STATE` too).
    pub fn env(mut self, key: &str, value: &str) -> Cli {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// The command for `args`, with the test's state, config, endpoint and credentials.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("CAIRN_STATE", self.state_path())
            .env("CAIRN_CONFIG_DIR", self.dir.path())
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("AWS_PROFILE")
            .env_remove("CAIRN_PASSPHRASE")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        cmd
    }

    pub fn state_path(&self) -> PathBuf {
        self.dir.path().join("state.db")
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    /// Runs with extra environment variables.
    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.run_env(args, env, &[])
    }

    /// Runs with extra environment variables, and without some.
    pub fn run_env(&self, args: &[&str], set: &[(&str, &str)], remove: &[&str]) -> Run {
        let mut cmd = self.command(args);
        cmd.envs(set.iter().copied());
        for k in remove {
            cmd.env_remove(k);
        }
        let out = cmd.output().expect("run the program");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs and insists on exit code 0.
    pub fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, 0, "{args:?} failed:\n{}\n{}", r.stdout, r.stderr);
        r
    }
}
