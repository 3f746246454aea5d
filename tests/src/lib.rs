//! Shared support for Cairn's integration tests (the tests themselves are in `integration/`):
//! a moto server per test, started on a free loopback port and stopped on drop.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    /// Starts moto on a free port of 127.0.0.1 and waits until it accepts connections.
    pub fn start() -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(moto_python())
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto");
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        // Readiness, polled against a deadline (not a sleep standing in for synchronisation).
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        moto
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
