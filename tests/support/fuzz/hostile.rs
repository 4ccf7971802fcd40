//! A canned hostile HTTP server on raw TCP: it answers each request with the next answer of a
//! script (cycling), written byte by byte as given, so it can send what no well-behaved server
//! (and no mocking library) would: lying `Content-Length`s, truncated and oversized bodies, any
//! status, wrong content types, garbage headers, raw garbage, silence and dropped connections.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

use super::inputs::{self, Family};
use super::raw_recorder::read_request;

/// How a canned body is framed on the wire.
#[derive(Debug, Clone, Copy)]
pub enum Framing {
    /// `Content-Length` matching the body; the connection stays open.
    Length,
    /// `Transfer-Encoding: chunked`; the connection stays open.
    Chunked,
    /// A `Content-Length` larger than the body, then the connection closes: a truncated body.
    Truncated(u16),
    /// No length: the body runs until the connection closes.
    UntilClose,
}

/// One answer of the script.
#[derive(Clone)]
pub enum Canned {
    Http {
        status: u16,
        content_type: Option<String>,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        framing: Framing,
    },
    /// Any bytes where a response should be.
    Raw(Vec<u8>),
    /// Closes the connection without answering.
    Close,
    /// Reads the request and never answers (the client's timeout must end the wait).
    Stall,
}

impl std::fmt::Debug for Canned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Canned::Http { status, content_type, headers, body, framing } => {
                let head = String::from_utf8_lossy(&body[..body.len().min(300)]);
                write!(f, "Http({status}, {content_type:?}, {headers:?}, {framing:?}, {} bytes: {head:?})", body.len())
            }
            Canned::Raw(bytes) => write!(f, "Raw({:?})", String::from_utf8_lossy(bytes)),
            Canned::Close => write!(f, "Close"),
            Canned::Stall => write!(f, "Stall"),
        }
    }
}

/// The body cap the fuzzed clients are built with: large enough for 100,000 nested arrays to
/// reach the parser, small enough that oversized bodies are cheap to send.
pub const BODY_CAP: usize = 256 * 1024;

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        8 => proptest::sample::select(vec![200u16, 200, 200, 201, 204]),
        4 => proptest::sample::select(vec![400u16, 401, 403, 404, 409, 422, 429, 500, 502, 503]),
        1 => 100u16..1000,
    ]
}

fn body(family: Family) -> impl Strategy<Value = Vec<u8>> {
    let seed = match family {
        Family::Scim => inputs::scim_seed().boxed(),
        Family::Freshservice => inputs::freshservice_seed().boxed(),
    };
    prop_oneof![
        // Unharmed answers too, so a call gets past its first request to the later ones.
        8 => seed.clone().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        12 => inputs::mutated(seed),
        2 => inputs::raw().prop_map(|r| r.render()),
        1 => (BODY_CAP + 1..BODY_CAP * 4).prop_map(|n| {
            let mut body = b"{\"Resources\":[\"".to_vec();
            body.resize(n - 3, b'a');
            body.extend_from_slice(b"\"]}");
            body
        }),
        1 => proptest::collection::vec(any::<u8>(), 0..200),
        1 => Just(Vec::new()),
    ]
}

fn framing() -> impl Strategy<Value = Framing> {
    prop_oneof![
        8 => Just(Framing::Length),
        2 => Just(Framing::Chunked),
        1 => any::<u16>().prop_map(Framing::Truncated),
        1 => Just(Framing::UntilClose),
    ]
}

/// One hostile answer imitating `family`'s app.
pub fn canned(family: Family) -> impl Strategy<Value = Canned> {
    let http = (status(), inputs::content_type(), inputs::headers(), body(family), framing()).prop_map(
        |(status, content_type, headers, body, framing)| Canned::Http { status, content_type, headers, body, framing },
    );
    let raw_prefix =
        proptest::sample::select(vec!["", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"]);
    prop_oneof![
        36 => http,
        1 => (raw_prefix, proptest::collection::vec(any::<u8>(), 0..200)).prop_map(|(prefix, rest)| {
            let mut bytes = prefix.as_bytes().to_vec();
            bytes.extend(rest);
            Canned::Raw(bytes)
        }),
        1 => Just(Canned::Close),
        1 => Just(Canned::Stall),
    ]
}

/// A script of 1 to 6 answers.
pub fn script(family: Family) -> impl Strategy<Value = Vec<Canned>> {
    proptest::collection::vec(canned(family), 1..7)
}

#[derive(Default)]
struct Script {
    answers: Vec<Canned>,
    next: usize,
}

/// The server: one listener on loopback, answering from the current script.
#[derive(Clone)]
pub struct HostileServer {
    pub addr: SocketAddr,
    script: Arc<Mutex<Script>>,
    requests: Arc<AtomicUsize>,
}

impl HostileServer {
    /// Starts listening on `runtime`.
    pub fn start(runtime: &Runtime) -> HostileServer {
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let server = HostileServer {
            addr,
            script: Arc::new(Mutex::new(Script::default())),
            requests: Arc::new(AtomicUsize::new(0)),
        };
        let shared = server.clone();
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(shared.clone().serve(stream));
            }
        });
        server
    }

    /// Replaces the script (and restarts it from its first answer).
    pub fn set_script(&self, answers: Vec<Canned>) {
        *self.script.lock().unwrap() = Script { answers, next: 0 };
        self.requests.store(0, Ordering::SeqCst);
    }

    /// Requests read since the script was set.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn next_answer(&self) -> Canned {
        let mut script = self.script.lock().unwrap();
        if script.answers.is_empty() {
            return Canned::Close;
        }
        let answer = script.answers[script.next % script.answers.len()].clone();
        script.next += 1;
        answer
    }

    async fn serve(self, mut stream: TcpStream) {
        let mut buffer = Vec::new();
        loop {
            if read_request(&mut stream, &mut buffer).await.is_none() {
                return;
            }
            self.requests.fetch_add(1, Ordering::SeqCst);
            let keep_open = match self.next_answer() {
                Canned::Http { status, content_type, headers, body, framing } => {
                    let bytes = render(status, content_type.as_deref(), &headers, &body, framing);
                    if stream.write_all(&bytes).await.is_err() {
                        return;
                    }
                    matches!(framing, Framing::Length | Framing::Chunked)
                }
                Canned::Raw(bytes) => {
                    let _ = stream.write_all(&bytes).await;
                    false
                }
                Canned::Close => false,
                Canned::Stall => {
                    // Hold the connection until the client gives up (or long after it should have).
                    let mut sink = [0u8; 1024];
                    let until_closed = async { while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {} };
                    let _ = tokio::time::timeout(Duration::from_secs(30), until_closed).await;
                    false
                }
            };
            if !keep_open {
                let _ = stream.shutdown().await;
                return;
            }
        }
    }
}

/// The bytes of one response.
fn render(
    status: u16,
    content_type: Option<&str>,
    headers: &[(String, String)],
    body: &[u8],
    framing: Framing,
) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} Fuzz\r\n").into_bytes();
    let mut header = |name: &str, value: &str| {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    };
    if let Some(content_type) = content_type {
        header("Content-Type", content_type);
    }
    for (name, value) in headers {
        header(name, value);
    }
    match framing {
        Framing::Length => header("Content-Length", &body.len().to_string()),
        Framing::Truncated(extra) => header("Content-Length", &(body.len() + usize::from(extra) + 1).to_string()),
        Framing::Chunked => header("Transfer-Encoding", "chunked"),
        Framing::UntilClose => header("Connection", "close"),
    }
    out.extend_from_slice(b"\r\n");
    if let Framing::Chunked = framing {
        for piece in body.chunks(16 * 1024) {
            out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            out.extend_from_slice(piece);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
    } else {
        out.extend_from_slice(body);
    }
    out
}
