//! Captures everything `tracing` emits on the current thread, at every level, so a test can assert
//! what reached the logs (and what did not).

use std::sync::{Arc, Mutex};

/// What was captured, and the guard that keeps the capture installed.
pub struct Captured {
    buffer: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl Captured {
    /// The captured output so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buffer.lock().unwrap()).into_owned()
    }
}

/// Starts capturing. Use a current-thread runtime (`#[tokio::test]`'s default) so every task logs
/// on this thread.
pub fn capture() -> Captured {
    #[derive(Clone)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let writer = Buffer(buffer.clone());
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    Captured { buffer, _guard: tracing::subscriber::set_default(subscriber) }
}
