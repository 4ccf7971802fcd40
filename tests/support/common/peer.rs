//! A real SCIM 2.0 server to test against: python-scim's `scim2-server`, pinned to 0.8.3.
//!
//! The first test that asks for a peer:
//! 1. finds or creates a virtualenv at `<crate>/.peer/venv` (git-ignored) and installs
//!    [`PACKAGES`] into it (`python3` must be on `PATH`; the first run needs PyPI): the server,
//!    and the `scim2-tester` conformance checker with its `scim2` command line, which
//!    `tests/scim_conformance.rs` runs against the sandbox. A lock directory keeps concurrent test
//!    binaries from racing;
//! 2. starts the server on a free loopback port with `--bearer-token` and `--dynamic-tenants`,
//!    through a small Python wrapper that exits when its standard input closes. The test binary
//!    keeps the write end of that pipe until it exits, so the server never outlives the tests,
//!    even though Rust tests have no global teardown;
//! 3. waits until `GET /<tenant>/v2/ServiceProviderConfig` answers `200`.
//!
//! Each test then uses its own tenant (`/<tenant>/v2`), so tests run in parallel without seeing
//! each other's users. If the peer cannot be started the test fails with the reason, unless
//! `IDENTITY_CONNECTORS_SKIP_PEER=1` is set: then each peer test says it was skipped and passes.

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

/// Set to `1` to skip the peer tests (each prints that it was skipped).
pub const SKIP_ENV: &str = "IDENTITY_CONNECTORS_SKIP_PEER";
/// The bearer token the peer accepts.
pub const TOKEN: &str = "peer-s3cr3t-token";
/// What is installed into the virtualenv: every version pinned, the checker's dependencies
/// included, so a new release on PyPI cannot change what the tests measure.
pub const PACKAGES: [&str; 5] =
    ["scim2-server==0.8.3", "scim2-models==0.12.3", "scim2-cli==0.6.0", "scim2-tester==0.5.2", "scim2-client==0.13.2"];
/// Written into the virtualenv once the packages are installed; renamed whenever [`PACKAGES`]
/// changes, so an existing virtualenv gets the new set.
const READY_MARKER: &str = ".identity-connectors-peer-2-scim2-server-0.8.3-scim2-cli-0.6.0";

/// Which schemas the server serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schemas {
    /// RFC 7643's: core and enterprise user, group. Unknown attributes are rejected.
    Rfc,
    /// RFC 7643's plus Interact's user extension
    /// (`tests/fixtures/scim/interact-schemas.json` and `interact-resource-types.json`).
    Interact,
}

impl Schemas {
    fn label(self) -> &'static str {
        match self {
            Schemas::Rfc => "rfc",
            Schemas::Interact => "interact",
        }
    }
}

/// A running scim2-server.
pub struct Peer {
    origin: String,
    // Never read: holding it keeps the server's stdin open until this process exits.
    _process: Mutex<Child>,
}

impl Peer {
    /// The SCIM base URL of tenant `tenant` (created on first use).
    pub fn tenant_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/v2", self.origin)
    }
}

static RFC_PEER: OnceLock<Result<Peer, String>> = OnceLock::new();
static INTERACT_PEER: OnceLock<Result<Peer, String>> = OnceLock::new();

/// The peer serving `schemas`, started on first use. `None` (after saying so, naming `test`) when
/// `IDENTITY_CONNECTORS_SKIP_PEER=1`; panics with the reason when it cannot be started.
pub fn peer(schemas: Schemas, test: &str) -> Option<&'static Peer> {
    if std::env::var(SKIP_ENV).is_ok_and(|v| v.trim() == "1") {
        // Written straight to stderr: libtest captures only the print macros, and a skip must be
        // visible in the test output.
        let _ = std::io::stderr().write_all(format!("skipped: {SKIP_ENV}=1 ({test})\n").as_bytes());
        return None;
    }
    let cell = match schemas {
        Schemas::Rfc => &RFC_PEER,
        Schemas::Interact => &INTERACT_PEER,
    };
    match cell.get_or_init(|| start(schemas)) {
        Ok(peer) => Some(peer),
        Err(reason) => panic!(
            "the SCIM peer (scim2-server 0.8.3) could not be started: {reason}\n\
             Set {SKIP_ENV}=1 to skip the peer tests."
        ),
    }
}

/// The virtualenv's python with [`PACKAGES`] installed (for the conformance checker). `None`
/// (after saying so, naming `test`) when `IDENTITY_CONNECTORS_SKIP_PEER=1`; panics with the
/// reason when the virtualenv cannot be made, as [`peer`] does.
pub fn python(test: &str) -> Option<PathBuf> {
    if std::env::var(SKIP_ENV).is_ok_and(|v| v.trim() == "1") {
        let _ = std::io::stderr().write_all(format!("skipped: {SKIP_ENV}=1 ({test})\n").as_bytes());
        return None;
    }
    match ensure_venv(&crate_root().join(".peer")) {
        Ok(python) => Some(python),
        Err(reason) => panic!(
            "the Python SCIM tools ({}) could not be installed: {reason}\n\
             Set {SKIP_ENV}=1 to skip the peer and conformance tests.",
            PACKAGES.join(", ")
        ),
    }
}

/// The directory of the virtualenv's executables (`scim2`, `scim2-server`).
pub fn venv_bin(python: &Path) -> PathBuf {
    python.parent().map(Path::to_path_buf).unwrap_or_default()
}

fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn start(schemas: Schemas) -> Result<Peer, String> {
    let python = ensure_venv(&crate_root().join(".peer"))?;
    let mut last_error = String::new();
    // A port found free can be taken before the server binds it: try a few.
    for _ in 0..3 {
        match launch(&python, schemas) {
            Ok(peer) => return Ok(peer),
            Err(error) => last_error = error,
        }
    }
    Err(last_error)
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) { venv.join("Scripts").join("python.exe") } else { venv.join("bin").join("python") }
}

/// The virtualenv's python, after creating the virtualenv and installing the server if needed.
fn ensure_venv(dir: &Path) -> Result<PathBuf, String> {
    let venv = dir.join("venv");
    let python = venv_python(&venv);
    let marker = venv.join(READY_MARKER);
    if marker.exists() {
        return Ok(python);
    }
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let _lock = DirLock::acquire(&dir.join("venv.lock"), &marker)?;
    if marker.exists() {
        return Ok(python);
    }
    if !python.exists() {
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv), "python3 -m venv .peer/venv")?;
    }
    run(
        Command::new(&python).args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"]).args(PACKAGES),
        &format!("pip install {}", PACKAGES.join(" ")),
    )?;
    fs::write(&marker, b"").map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
    Ok(python)
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command.stdin(Stdio::null()).output().map_err(|e| format!("`{what}` could not run: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail = last_lines(&stderr, 15);
    Err(format!("`{what}` failed ({}):\n{tail}", output.status))
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A lock held by creating a directory (atomic on every platform); removed on drop.
struct DirLock(PathBuf);

impl DirLock {
    fn acquire(path: &Path, done_marker: &Path) -> Result<DirLock, String> {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            match fs::create_dir(path) {
                Ok(()) => return Ok(DirLock(path.to_path_buf())),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    if done_marker.exists() {
                        // Another binary finished the install; hand back a lock that removes nothing.
                        return Ok(DirLock(PathBuf::new()));
                    }
                    // A lock left by a killed run would block forever: older than 10 minutes is stale.
                    let stale = fs::metadata(path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| SystemTime::now().duration_since(t).ok())
                        .is_some_and(|age| age > Duration::from_secs(600));
                    if stale {
                        let _ = fs::remove_dir(path);
                        continue;
                    }
                    if Instant::now() > deadline {
                        return Err(format!("timed out waiting for the lock {}", path.display()));
                    }
                    std::thread::sleep(Duration::from_millis(250));
                }
                Err(e) => return Err(format!("cannot create the lock {}: {e}", path.display())),
            }
        }
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        if !self.0.as_os_str().is_empty() {
            let _ = fs::remove_dir(&self.0);
        }
    }
}

/// Runs the server in a thread of a Python process whose main thread waits for EOF on stdin, then
/// exits the whole process: the server dies as soon as the test binary does.
const WRAPPER: &str = r#"
import os, sys, threading
def wait_for_parent():
    sys.stdin.buffer.read()
    os._exit(0)
threading.Thread(target=wait_for_parent, daemon=True).start()
from scim2_server.testserver.cli import main
sys.argv = ["scim2-server"] + sys.argv[1:]
main()
"#;

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot bind a loopback port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| format!("cannot read the bound port: {e}"))
}

fn launch(python: &Path, schemas: Schemas) -> Result<Peer, String> {
    let port = free_port()?;
    let root = crate_root();
    let log_path = root.join(".peer").join(format!("scim2-server-{}.log", schemas.label()));
    let log = fs::File::create(&log_path).map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let log_err = log.try_clone().map_err(|e| format!("cannot share the log file: {e}"))?;
    let mut command = Command::new(python);
    command
        .arg("-c")
        .arg(WRAPPER)
        .args(["--hostname", "127.0.0.1", "--port", &port.to_string(), "--bearer-token", TOKEN, "--dynamic-tenants"])
        .stdin(Stdio::piped())
        .stdout(log)
        .stderr(log_err);
    if schemas == Schemas::Interact {
        let fixtures = root.join("tests").join("fixtures").join("scim");
        command
            .arg("--schema")
            .arg(fixtures.join("interact-schemas.json"))
            .arg("--resource-type")
            .arg(fixtures.join("interact-resource-types.json"));
    }
    let mut child = command.spawn().map_err(|e| format!("cannot start {}: {e}", python.display()))?;
    let origin = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            let tail = last_lines(&log, 20);
            return Err(format!("scim2-server exited ({status}) on port {port}:\n{tail}"));
        }
        if ready(port) {
            return Ok(Peer { origin, _process: Mutex::new(child) });
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(format!(
                "scim2-server did not answer on port {port} within 30 s (log: {})",
                log_path.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether `GET /ready/v2/ServiceProviderConfig` answers 200 (no token needed for it).
fn ready(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /ready/v2/ServiceProviderConfig HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let _ = stream.shutdown(Shutdown::Write);
    let mut head = [0u8; 16];
    let mut read = 0;
    while read < head.len() {
        match stream.read(&mut head[read..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
    let status_line = String::from_utf8_lossy(&head[..read]);
    status_line.starts_with("HTTP/1.") && status_line.get(9..12) == Some("200")
}
