//! A raw TCP HTTP/1.1 listener that records the exact request line of every request and answers a
//! canned response. Mock servers decode and normalise paths before a test sees them; this sees the
//! bytes the client put on the wire.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Answers a request line with a status and a JSON body.
pub type Responder = Arc<dyn Fn(&str) -> (u16, String) + Send + Sync>;

/// A running recorder. It stops with the test's runtime.
pub struct Recorder {
    addr: SocketAddr,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    /// Listens on an ephemeral loopback port; every request gets `respond(request_line)`.
    pub async fn start(respond: impl Fn(&str) -> (u16, String) + Send + Sync + 'static) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let respond: Responder = Arc::new(respond);
        let seen = Arc::clone(&lines);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&seen), Arc::clone(&respond)));
            }
        });
        Recorder { addr, lines }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request line received so far, byte for byte (lossily decoded), without `\r\n`.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

/// Serves one keep-alive connection: request after request until the client closes it.
async fn serve(mut stream: TcpStream, lines: Arc<Mutex<Vec<String>>>, respond: Responder) {
    let mut buffer: Vec<u8> = Vec::new();
    while let Some(head) = read_request(&mut stream, &mut buffer).await {
        let line = head.split("\r\n").next().unwrap_or_default().to_string();
        lines.lock().unwrap().push(line.clone());
        let (status, body) = respond(&line);
        let response = format!(
            "HTTP/1.1 {status} Canned\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Reads one request (head and `Content-Length` body) from `stream`, leaving any bytes after it in
/// `buffer`, and returns its head. `None` when the client closed the connection or sent something
/// unreadable (a head over 64 KiB). Also the reader of the fuzz tests' hostile server.
pub async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<String> {
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if buffer.len() > 64 * 1024 {
            return None;
        }
        match stream.read(&mut chunk).await {
            Ok(n) if n > 0 => buffer.extend_from_slice(&chunk[..n]),
            _ => return None,
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length: usize = head
        .split("\r\n")
        .filter_map(|h| h.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(n) if n > 0 => buffer.extend_from_slice(&chunk[..n]),
            _ => return None,
        }
    }
    buffer.drain(..head_end + length);
    Some(head)
}
