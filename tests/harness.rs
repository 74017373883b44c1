//! The black-box harness: starts the real `agentgate` binary on a free port with its own
//! SQLite file, runs its subcommands against the same store, and stops it on drop.
//!
//! The binary is found at `$AGENTGATE_BIN`, else `$CARGO_TARGET_DIR/debug/agentgate`, else
//! `target/debug/agentgate` in the workspace; build it first (`cargo build --workspace`).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Cheap Argon2 parameters so the suite runs in seconds; one test uses the defaults.
pub const FAST_HASH: [&str; 4] = ["--argon2-memory-kib", "1024", "--argon2-iterations", "1"];

/// The endpoint's path as the published page writes it.
pub const ENDPOINT: &str = "/api/v1/Agents/User/ChangeOwnPassword";

/// The path of the built binary.
pub fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("AGENTGATE_BIN") {
        return PathBuf::from(bin);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let bin = target.join("debug").join("agentgate");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build --workspace` before the black-box tests",
        bin.display()
    );
    bin
}

/// A scratch directory under the target dir, removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    /// A new empty directory, unique within this process and across processes.
    pub fn new(name: &str) -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "agentgate-test-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    /// The directory.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `agentgate serve`.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The `--database` URL it serves from.
    pub database: String,
    stderr_lines: StderrLines,
    _scratch: Option<Scratch>,
}

impl Server {
    /// Starts a server on its own SQLite file with fast hashing and `extra` flags.
    pub fn start(extra: &[&str]) -> Server {
        let scratch = Scratch::new("srv");
        let database = format!("sqlite://{}", scratch.path().join("agentgate.db").display());
        let mut args: Vec<&str> = FAST_HASH.to_vec();
        args.extend_from_slice(extra);
        Server::start_on(&database, &args, Some(scratch))
    }

    /// Starts a server on a given store with exactly these `serve` flags.
    pub fn start_on(database: &str, args: &[&str], scratch: Option<Scratch>) -> Server {
        let mut child = Command::new(binary())
            .arg("serve")
            .args(["--bind", "127.0.0.1:0", "--database", database])
            .args(args)
            .env_remove("AGENTGATE_CONFIG")
            .env("AGENTGATE_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start agentgate");
        let (lines, rx) = collect_stderr(&mut child);
        let base = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(base) => base,
            Err(_) => {
                let _ = child.kill();
                panic!("agentgate did not start: {:?}", lines.lock().unwrap());
            }
        };
        Server {
            child,
            base,
            database: database.to_owned(),
            stderr_lines: lines,
            _scratch: scratch,
        }
    }

    /// The full URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Runs an `agentgate` subcommand against this server's store.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> Output {
        cli(&self.database, args, stdin)
    }

    /// Adds a user through `agentgate user add --password-stdin`.
    pub fn add_user(&self, username: &str, password: &str) {
        let out = self.cli(
            &["user", "add", username, "--password-stdin"],
            Some(password),
        );
        assert!(
            out.status.success(),
            "user add failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Issues a ticket through `agentgate ticket issue`.
    pub fn ticket(&self, username: &str) -> String {
        let out = self.cli(&["ticket", "issue", username], None);
        assert!(
            out.status.success(),
            "ticket issue failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// Issues a token through `agentgate token issue`.
    pub fn token(&self, username: &str) -> String {
        let out = self.cli(&["token", "issue", username], None);
        assert!(
            out.status.success(),
            "token issue failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// Everything the server wrote to stderr so far (its log).
    pub fn log(&self) -> String {
        self.stderr_lines.lock().unwrap().join("\n")
    }

    /// Sends SIGTERM and waits for the exit, up to `timeout`. Returns whether it exited.
    pub fn terminate(&mut self, timeout: Duration) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs an `agentgate` subcommand against a store.
pub fn cli(database: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(binary())
        .args(args)
        .args(["--database", database])
        .env_remove("AGENTGATE_CONFIG")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run agentgate");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        writeln!(pipe, "{input}").unwrap();
    }
    child.wait_with_output().expect("agentgate output")
}

/// The lines a started `agentgate` writes to stderr, collected as they come, and a channel
/// that receives its base URL (`http://127.0.0.1:PORT`) once it says it is listening.
pub fn collect_stderr(child: &mut Child) -> (StderrLines, std::sync::mpsc::Receiver<String>) {
    let stderr = child.stderr.take().expect("stderr is piped");
    let lines = StderrLines::default();
    let (tx, rx) = std::sync::mpsc::channel();
    let collected = lines.clone();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("agentgate listening on ")
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(addr.trim().to_owned());
            }
            collected.lock().unwrap().push(line);
        }
    });
    (lines, rx)
}

/// Lines of a child's stderr, shared with the thread that reads them.
pub type StderrLines = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// An error document's `Content-Language` and `Message`.
pub fn language_and_message(r: reqwest::blocking::Response) -> (Option<String>, String) {
    let lang = r
        .headers()
        .get("content-language")
        .map(|v| v.to_str().unwrap().to_owned());
    let doc: serde_json::Value = serde_json::from_str(&r.text().unwrap()).unwrap();
    (lang, doc["Message"].as_str().unwrap().to_owned())
}

/// A blocking HTTP client that follows no redirects and keeps no cookies unless asked.
pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// `Basic` credentials.
pub fn basic(username: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
    )
}

/// Whether this run is CI's (`CI=true`): there a test never skips, it fails.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A test that cannot run here: under CI that is a failure (panics with `reason` and the
/// fix); elsewhere the test says on stderr that it skipped and why, and the caller returns.
pub fn skip(reason: &str) {
    assert!(
        !in_ci(),
        "cannot run: {reason} (under CI=true nothing is skipped; scripts/test sets this up)"
    );
    eprintln!("skipped: {reason}");
}

/// `$AGENTGATE_TEST_POSTGRES`, the database the PostgreSQL tests use (scripts/test starts a
/// throwaway one and sets it). `None` after [`skip`] when it is unset.
pub fn postgres_url() -> Option<String> {
    match std::env::var("AGENTGATE_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            skip(
                "AGENTGATE_TEST_POSTGRES is not set: run scripts/test, which starts a PostgreSQL, or set it (e.g. postgres://postgres@127.0.0.1:5432/test)",
            );
            None
        }
    }
}

/// Polls `done` every 20 ms until it holds or `limit` passes; returns whether it held.
/// For what a test waits on (a log line written, a slot given back), instead of a sleep.
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
