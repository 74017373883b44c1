//! What a newcomer runs first works as written (issue 18): the curl lines `agentgate demo`
//! prints answer as printed when run in order, and so do the README's examples, run in order
//! with a real curl against the server the README starts.
//!
//! In README.md, a fenced `sh` block after the line `<!-- readme-test: run -->` is run; a
//! fenced `http` or `text` block right after it is what it must print: each of its lines, in
//! order, somewhere in the output. A line that starts `target/release/agentgate serve` is
//! started here in the background instead, on a free port; `127.0.0.1:8080` in the blocks
//! becomes that address, and nothing else changes. Needs `curl` (scripts/test installs it).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use agentgate_blackbox::{Scratch, StderrLines, binary, collect_stderr, wait_until};

/// A command whose `AGENTGATE_*` variables are not this process's.
fn clean(mut command: Command) -> Command {
    for (key, _) in std::env::vars() {
        if key.starts_with("AGENTGATE_") {
            command.env_remove(key);
        }
    }
    command
}

/// A started `agentgate` with its stderr collected; killed on drop.
struct Running {
    child: Child,
    base: String,
    lines: StderrLines,
}

impl Running {
    fn start(mut command: Command) -> Running {
        let mut child = command
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start agentgate");
        let (lines, rx) = collect_stderr(&mut child);
        let Ok(base) = rx.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            panic!("agentgate did not start: {:?}", lines.lock().unwrap());
        };
        Running { child, base, lines }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `script` with bash in `dir`; stdout and stderr together.
fn sh(dir: &Path, script: &str) -> String {
    let out = clean(Command::new("bash"))
        .args(["-c", script])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run bash");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every line of `expected`, in order, somewhere in `output`; the first missing one, if any.
/// A header line (`name: value`) is looked for after the status line before it, in any
/// order among its neighbours: servers do not promise an order of headers.
fn missing_line<'a>(output: &str, expected: &'a str) -> Option<&'a str> {
    let is_header = |line: &str| {
        line.split_once(": ").is_some_and(|(name, _)| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
    };
    let mut at = 0;
    let mut head = 0;
    for line in expected.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if is_header(line) {
            let found = output[head..]
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .any(|l| l.trim_end().eq_ignore_ascii_case(line));
            if !found {
                return Some(line);
            }
            continue;
        }
        match output[at..].find(line) {
            Some(i) => {
                if line.starts_with("HTTP/") {
                    head = at + i;
                }
                at += i + line.len();
            }
            None => return Some(line),
        }
    }
    None
}

/// The lines a child writes to stdout, collected by a thread as they come.
fn collect_stdout(child: &mut Child) -> StderrLines {
    let stdout = child.stdout.take().expect("stdout is piped");
    let lines = StderrLines::default();
    let collected = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            collected.lock().unwrap().push(line);
        }
    });
    lines
}

/// The demo's examples: `(comment, command)`, the comment ending `→ STATUS BODY[, HEADER]`.
fn demo_examples(text: &str) -> Vec<(String, String)> {
    let mut examples = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if !line.starts_with("# ") {
            continue;
        }
        let mut command = String::new();
        while let Some(next) = lines.next_if(|l| !l.trim().is_empty()) {
            command.push_str(next);
            command.push('\n');
        }
        examples.push((line.to_owned(), command));
    }
    examples
}

#[test]
fn the_demo_lines_answer_as_printed_when_run_in_order() {
    let dir = Scratch::new("demo");
    let mut command = clean(Command::new(binary()));
    command
        .args(["demo", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped());
    let mut demo = Running::start(command);
    let stdout = collect_stdout(&mut demo.child);
    let printed = || stdout.lock().unwrap().join("\n");
    assert!(
        wait_until(Duration::from_secs(10), || printed().contains("\nOr open ")),
        "{}",
        printed()
    );
    let text = printed();
    assert!(
        text.contains(&format!(
            "{}/api/v1/Agents/User/ChangeOwnPassword",
            demo.base
        )),
        "the lines name the bound address {}: {text}",
        demo.base
    );
    let examples = demo_examples(&text);
    assert_eq!(examples.len(), 7, "{text}");
    for (comment, command) in &examples {
        assert!(command.starts_with("curl "), "{command}");
        let (_, expected) = comment
            .rsplit_once(" → ")
            .expect("an answer in the comment");
        let (answer, header) = match expected.split_once(", ") {
            Some((answer, header)) => (answer, Some(header)),
            None => (expected, None),
        };
        let (status, body) = answer.split_once(' ').unwrap();
        let output = sh(dir.path(), command);
        let status_line = output.lines().next().unwrap_or("");
        assert!(
            status_line.starts_with(&format!("HTTP/1.1 {status} ")),
            "{comment}\n{command}\n{output}\n{}",
            demo.lines.lock().unwrap().join("\n")
        );
        let answered = output
            .rsplit("\r\n\r\n")
            .next()
            .unwrap_or("")
            .trim()
            .to_owned();
        assert!(
            answered == body || answered.contains(&format!(">{body}<")),
            "{comment}: the body is {answered}"
        );
        if let Some(header) = header {
            let header = header.to_ascii_lowercase();
            assert!(
                output
                    .lines()
                    .any(|l| l.trim_end().to_ascii_lowercase() == header),
                "{comment}: {output}"
            );
        }
    }
}

/// A `sh` block to run and what it must print.
struct Example {
    script: String,
    expected: Option<String>,
}

/// The README's runnable blocks, in order.
fn readme_examples(readme: &str) -> Vec<Example> {
    const MARK: &str = "<!-- readme-test: run -->";
    let mut examples = Vec::new();
    let mut rest = readme;
    while let Some(at) = rest.find(MARK) {
        rest = &rest[at + MARK.len()..];
        let (script, after) = fenced(rest, &["sh"]).expect("a ```sh block after the mark");
        rest = after;
        let expected = match fenced(rest, &["http", "text"]) {
            Some((expected, after)) => {
                rest = after;
                Some(expected)
            }
            None => None,
        };
        examples.push(Example { script, expected });
    }
    examples
}

/// The fenced block that `text` opens with (after blank lines), if its language is one of
/// `languages`: its content and the text after it.
fn fenced<'a>(text: &'a str, languages: &[&str]) -> Option<(String, &'a str)> {
    let text = text.trim_start_matches(['\n', ' ']);
    let first = text.lines().next()?;
    let language = first.strip_prefix("```")?;
    if !languages.contains(&language.trim()) {
        return None;
    }
    let body = &text[first.len() + 1..];
    let end = body.find("\n```")?;
    let after = &body[end + 4..];
    Some((body[..end + 1].to_owned(), after))
}

/// A bash that keeps its variables from one block to the next.
struct Shell {
    child: Child,
    stdin: ChildStdin,
    output: Receiver<String>,
}

const END: &str = "__readme_block_done__";

impl Shell {
    fn start(dir: &Path) -> Shell {
        let mut child = clean(Command::new("bash"))
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start bash");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, output) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Shell {
            child,
            stdin,
            output,
        }
    }

    /// Runs `script` (from a file, so that no command in it reads the next ones as its
    /// input) and returns what it printed.
    fn run(&mut self, file: &Path, script: &str) -> String {
        std::fs::write(file, script).unwrap();
        writeln!(
            self.stdin,
            "source '{}' </dev/null; echo; echo {END}",
            file.display()
        )
        .unwrap();
        let mut printed = String::new();
        loop {
            match self.output.recv_timeout(Duration::from_secs(60)) {
                Ok(line) if line == END => return printed,
                Ok(line) => {
                    printed.push_str(&line);
                    printed.push('\n');
                }
                Err(_) => panic!("the block did not finish:\n{script}\nprinted:\n{printed}"),
            }
        }
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_readme_examples_answer_as_shown_when_run_in_order() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let examples = readme_examples(&readme);
    assert!(examples.len() >= 6, "the README marks its examples");
    // The checkout, as far as the README's commands see it.
    let dir = Scratch::new("readme");
    let release = dir.path().join("target/release");
    std::fs::create_dir_all(&release).unwrap();
    std::os::unix::fs::symlink(binary(), release.join("agentgate")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let mut shell = Shell::start(dir.path());
    let mut servers: Vec<Running> = Vec::new();
    for (n, example) in examples.iter().enumerate() {
        let script = example.script.replace("127.0.0.1:8080", &address);
        let mut rest = String::new();
        for line in script.lines() {
            if let Some(args) = line.strip_prefix("target/release/agentgate serve") {
                let args = args.split('#').next().unwrap_or("");
                let mut command = clean(Command::new(binary()));
                command
                    .arg("serve")
                    .args(args.split_whitespace())
                    .env("AGENTGATE_BIND", &address)
                    .current_dir(dir.path())
                    .stdout(Stdio::null());
                servers.push(Running::start(command));
            } else {
                rest.push_str(line);
                rest.push('\n');
            }
        }
        let printed = shell.run(&dir.path().join(format!("block-{n}.sh")), &rest);
        if let Some(expected) = &example.expected
            && let Some(line) = missing_line(&printed, expected)
        {
            let log = servers
                .iter()
                .map(|s| s.lines.lock().unwrap().join("\n"))
                .collect::<Vec<_>>()
                .join("\n");
            panic!(
                "README example {}:\n{}\ndid not print\n{line}\nbut\n{printed}\nserver log:\n{log}",
                n + 1,
                example.script
            );
        }
    }
    assert!(!servers.is_empty(), "the README starts a server");
}

#[test]
fn expected_lines_are_found_in_order() {
    assert_eq!(missing_line("a\nb\nc\n", "a\n\nc"), None);
    assert_eq!(missing_line("truetrue", "true\ntrue"), None);
    assert_eq!(missing_line("true", "true\ntrue"), Some("true"));
    assert_eq!(missing_line("b\na\n", "a\nb"), Some("b"));
    let response = "HTTP/1.1 200 OK\r\nvary: x\r\ncontent-type: y\r\n\r\ntrue";
    assert_eq!(
        missing_line(
            response,
            "HTTP/1.1 200 OK\ncontent-type: y\nvary: x\n\ntrue"
        ),
        None
    );
    assert_eq!(
        missing_line(response, "HTTP/1.1 200 OK\nx-reason: z\n\ntrue"),
        Some("x-reason: z")
    );
}
