//! A recording HTTP/1.1 proxy between the gateway and its origin (both real agentgate
//! processes): it writes down every request that crosses, exactly as it arrived, and on
//! demand delays it, cuts it (reads it, answers nothing), stops listening altogether, or
//! adds a `Set-Cookie` to the origin's answer. Plain threads and blocking sockets; it
//! understands just enough HTTP to find where a message ends (`Content-Length`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the proxy does with the requests it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Sends them on and relays the answer.
    Pass,
    /// Waits this long, then as `Pass`.
    Delay(Duration),
    /// Closes the connection without an answer.
    Cut,
}

/// One request as it crossed.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    /// The request line, `POST /path HTTP/1.1`.
    pub(crate) line: String,
    /// The header fields in order, names as sent.
    pub(crate) headers: Vec<(String, String)>,
    /// The body.
    pub(crate) body: Vec<u8>,
}

impl Seen {
    /// Every value of a header, by case-insensitive name.
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The one value of a header; panics when it is there twice.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        let all = self.all(name);
        assert!(all.len() <= 1, "{name} sent {} times: {all:?}", all.len());
        all.first().copied()
    }

    /// The header names, lower-cased.
    pub(crate) fn names(&self) -> Vec<String> {
        self.headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect()
    }

    /// The body as text.
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("a UTF-8 body")
    }
}

struct Shared {
    origin: SocketAddr,
    mode: Mutex<Mode>,
    set_cookie: AtomicBool,
    seen: Mutex<Vec<Seen>>,
    /// Bumped by `stop`: connections of an older generation close at their next request.
    generation: std::sync::atomic::AtomicU64,
}

/// The proxy: listening on a fixed port of 127.0.0.1 until dropped or stopped.
pub(crate) struct Proxy {
    shared: Arc<Shared>,
    port: u16,
    listener: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl Proxy {
    /// A proxy in front of `origin` (`http://127.0.0.1:PORT`), on a free port.
    pub(crate) fn start(origin: &str) -> Proxy {
        let origin: SocketAddr = origin
            .trim_start_matches("http://")
            .parse()
            .expect("origin address");
        let shared = Arc::new(Shared {
            origin,
            mode: Mutex::new(Mode::Pass),
            set_cookie: AtomicBool::new(false),
            seen: Mutex::new(Vec::new()),
            generation: std::sync::atomic::AtomicU64::new(0),
        });
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().unwrap().port();
        let mut proxy = Proxy {
            shared,
            port,
            listener: None,
        };
        proxy.serve(listener);
        proxy
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What happens to the next requests.
    pub(crate) fn set_mode(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = mode;
    }

    /// Adds `Set-Cookie: upstream=secret; Path=/` to every answer relayed from now on.
    pub(crate) fn add_set_cookie(&self) {
        self.shared.set_cookie.store(true, Ordering::SeqCst);
    }

    /// The requests that crossed so far.
    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// Forgets the requests seen so far.
    pub(crate) fn clear(&self) {
        self.shared.seen.lock().unwrap().clear();
    }

    /// Stops listening (connects are refused) and closes every open connection at its next
    /// request, answering nothing: the origin is down.
    pub(crate) fn stop(&mut self) {
        self.shared.generation.fetch_add(1, Ordering::SeqCst);
        if let Some((stop, thread)) = self.listener.take() {
            stop.store(true, Ordering::SeqCst);
            // Wake the accept loop, which then drops the listening socket.
            let _ = TcpStream::connect(("127.0.0.1", self.port));
            thread.join().unwrap();
        }
    }

    /// Listens again on the same port: the origin is back.
    pub(crate) fn restart(&mut self) {
        assert!(self.listener.is_none(), "the proxy is listening already");
        let listener = TcpListener::bind(("127.0.0.1", self.port)).expect("bind the same port");
        self.serve(listener);
    }

    fn serve(&mut self, listener: TcpListener) {
        let stop = Arc::new(AtomicBool::new(false));
        let shared = self.shared.clone();
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let _ = relay(&shared, stream);
                });
            }
        });
        self.listener = Some((stop, thread));
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One client connection: request after request, until either side closes.
fn relay(shared: &Shared, client: TcpStream) -> std::io::Result<()> {
    let generation = shared.generation.load(Ordering::SeqCst);
    client.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut from_client = BufReader::new(client.try_clone()?);
    let mut to_client = client;
    let mut origin: Option<(BufReader<TcpStream>, TcpStream)> = None;
    loop {
        let Some((head, body)) = read_message(&mut from_client)? else {
            return Ok(());
        };
        let mut lines = head.split("\r\n");
        let line = lines.next().unwrap_or_default().to_owned();
        let headers = lines
            .filter(|l| !l.is_empty())
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.to_owned(), v.trim().to_owned()))
            .collect();
        shared.seen.lock().unwrap().push(Seen {
            line,
            headers,
            body: body.clone(),
        });
        let mode = *shared.mode.lock().unwrap();
        match mode {
            Mode::Cut => return Ok(()),
            Mode::Delay(delay) => std::thread::sleep(delay),
            Mode::Pass => {}
        }
        if shared.generation.load(Ordering::SeqCst) != generation {
            return Ok(());
        }
        if origin.is_none() {
            let stream = TcpStream::connect(shared.origin)?;
            origin = Some((BufReader::new(stream.try_clone()?), stream));
        }
        let (from_origin, to_origin) = origin.as_mut().unwrap();
        to_origin.write_all(head.as_bytes())?;
        to_origin.write_all(&body)?;
        let Some((answer, answer_body)) = read_message(from_origin)? else {
            return Ok(());
        };
        let answer = if shared.set_cookie.load(Ordering::SeqCst) {
            answer.replacen("\r\n", "\r\nSet-Cookie: upstream=secret; Path=/\r\n", 1)
        } else {
            answer
        };
        to_client.write_all(answer.as_bytes())?;
        to_client.write_all(&answer_body)?;
    }
}

/// A message's head (through the empty line) and its body by `Content-Length`; `None` at a
/// clean end of the stream.
fn read_message(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let length = head
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| {
            v.trim().parse::<usize>().expect("Content-Length")
        });
    assert!(
        !head.to_ascii_lowercase().contains("transfer-encoding"),
        "the test proxy reads Content-Length bodies only: {head}"
    );
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Some((head, body)))
}
