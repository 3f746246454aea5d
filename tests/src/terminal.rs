//! A program run in a real terminal: a detached tmux session on a server of its own, driven
//! with `send-keys` and read with `capture-pane`, as a person at a terminal would.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::Cli;

/// A command running in a tmux pane; the server is killed on drop.
pub struct Terminal {
    socket: String,
    /// tmux's configuration: the pane stays (and can be read) after the program exits.
    config: PathBuf,
    exit_file: PathBuf,
    _dir: tempfile::TempDir,
}

/// `text` quoted for a POSIX shell.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

impl Terminal {
    /// Starts `cli`'s program with `args` (and `env` on top of the CLI's) in a 160×48 terminal.
    pub fn start(cli: &Cli, args: &[&str], env: &[(&str, &str)]) -> Terminal {
        let dir = tempfile::tempdir().unwrap();
        let exit_file = dir.path().join("exit");
        let cmd = cli.command(args);
        // The shell must outlive a Ctrl-C to write the exit code: it catches SIGINT (a caught
        // signal is reset to the default in the program it starts, unlike an ignored one).
        let mut line = String::from("trap : INT; cd ");
        line += &quote(&cmd.get_current_dir().unwrap().to_string_lossy());
        line += " && env";
        // `env` takes its options (`-u NAME`) before the assignments.
        let mut sets = String::new();
        for (k, v) in cmd.get_envs() {
            let k = k.to_string_lossy();
            match v {
                Some(v) => sets += &format!(" {k}={}", quote(&v.to_string_lossy())),
                None => line += &format!(" -u {k}"),
            }
        }
        line += &sets;
        for (k, v) in env {
            line += &format!(" {k}={}", quote(v));
        }
        line += &format!(" {}", quote(&cmd.get_program().to_string_lossy()));
        for a in cmd.get_args() {
            line += &format!(" {}", quote(&a.to_string_lossy()));
        }
        line += &format!("; echo $? > {}", quote(&exit_file.to_string_lossy()));
        let socket = format!(
            "cairn-test-{}",
            dir.path().file_name().unwrap().to_string_lossy()
        );
        let config = dir.path().join("tmux.conf");
        std::fs::write(&config, "set -g remain-on-exit on\n").unwrap();
        let t = Terminal {
            socket,
            config,
            exit_file,
            _dir: dir,
        };
        let ok = t
            .tmux(&[
                "new-session",
                "-d",
                "-x",
                "160",
                "-y",
                "48",
                "sh",
                "-c",
                &line,
            ])
            .status
            .success();
        assert!(ok, "tmux could not start the program");
        t
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f"])
            .arg(&self.config)
            .args(args)
            .output()
            .expect("tmux is installed")
    }

    /// Types keys (`C-c` is Ctrl-C).
    pub fn send_keys(&self, keys: &str) {
        self.tmux(&["send-keys", keys]);
    }

    /// What the terminal shows now, with its scrollback.
    pub fn screen(&self) -> String {
        let out = self.tmux(&["capture-pane", "-p", "-S", "-1000"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen shows `text`, or panics with the screen after `timeout`.
    pub fn wait_for(&self, text: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "{text:?} never showed:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the program to exit and returns its exit code.
    pub fn exit_code(&self, timeout: Duration) -> i32 {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(text) = std::fs::read_to_string(&self.exit_file)
                && let Ok(code) = text.trim().parse()
            {
                return code;
            }
            assert!(
                Instant::now() < deadline,
                "still running:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}
