//! What the crate adds to a hand-written reqwest exchange, side by side in one run.
//!
//! A canned HTTP/1.1 server (keep-alive, fixed answers, its own thread) serves both sides, so the
//! figures differ only by client-side work: building the request, the auth header, the request
//! path, reading and decoding the body. Each operation runs as `crate` and as `reqwest` in the same
//! criterion group; compare the two.
//!
//! The figure criterion reports is the client's CPU time per operation, not wall time: on a
//! current-thread runtime every bit of client work (the connection task included) runs on the
//! bench thread, so that thread's CPU clock counts exactly the client's work, and other processes
//! on a shared machine do not inflate it. Read ratios within one run, not absolute times.
//!
//! The headline ratios are printed twice: with the canned server on the client's core (it runs
//! between every request and its response and evicts the client's code from the CPU's caches, as
//! other work on a busy host does while a real server answers) and, where there are two cores, on
//! another core. On a virtual machine the second adds to every exchange, on both sides alike, the
//! cost of waking the other core (about twice the client's own work on the machine these figures
//! come from), and the client's caches go cold while it waits, so its rounds spread widely (over
//! 44 runs of two builds on one machine, a run's look-up or provisioning ratio fell anywhere in
//! 0.98–1.09×, against 1.00–1.05× with the server on the client's core). The first is the one
//! the crate is held to; the criterion groups use it.
//!
//! `runtime_get_by_id` runs the crate's GET by id on a current-thread and on a multi-thread tokio
//! runtime; there the figure is the whole process's CPU time per request (the canned server's
//! share, the same for both, included), since a multi-thread runtime works on several threads.
//!
//! Run with `cargo bench --bench overhead`; CI builds it only.

use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;
#[cfg(not(target_os = "linux"))]
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use identity_connectors::{Client, PageRequest, RetryPolicy, ScimBearer, User, UserId};
use serde::Deserialize;
use tokio::runtime::Runtime;

const TOKEN: &str = "bench-token-0123456789";
const ID: &str = "2819c223-7f76-453a-919d-413861904646";

fn user_json(i: usize) -> String {
    format!(
        r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"{ID}-{i}","userName":"person{i}@example.com","externalId":"E{i:05}","active":true,"name":{{"givenName":"Jane","familyName":"Doe","formatted":"Jane Doe"}},"emails":[{{"value":"person{i}@example.com","type":"work","primary":true}}],"title":"Analyst","meta":{{"resourceType":"User","created":"2026-01-05T00:00:00Z","lastModified":"2026-01-05T00:00:00Z","location":"https://example.com/Users/{ID}","version":"W/\"3\""}}}}"#
    )
}

fn list_json(users: usize) -> String {
    let resources: Vec<String> = (0..users).map(user_json).collect();
    format!(
        r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":{users},"startIndex":1,"itemsPerPage":{users},"Resources":[{}]}}"#,
        resources.join(",")
    )
}

/// The canned answers, chosen by method and path only: the server does the same work for both
/// clients.
struct Canned {
    user: Vec<u8>,
    one_match: Vec<u8>,
    page: Vec<u8>,
    not_found: Vec<u8>,
}

fn response(status: &str, body: &str) -> Vec<u8> {
    format!("HTTP/1.1 {status}\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n{body}", body.len())
        .into_bytes()
}

impl Canned {
    fn new() -> Self {
        Canned {
            user: response("200 OK", &user_json(1)),
            one_match: response("200 OK", &list_json(1)),
            page: response("200 OK", &list_json(100)),
            not_found: response(
                "404 Not Found",
                r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404"}"#,
            ),
        }
    }

    fn answer(&self, method: &str, target: &str) -> &[u8] {
        let path = target.split('?').next().unwrap_or(target);
        match (method, path) {
            ("GET", "/scim/v2/Users") if target.contains("filter=") => &self.one_match,
            ("GET", "/scim/v2/Users") => &self.page,
            ("POST", "/scim/v2/Users") => &self.user,
            ("GET", p) if p.starts_with("/scim/v2/Users/") => &self.user,
            _ => &self.not_found,
        }
    }
}

fn serve(listener: TcpListener, cpus: Cpus) {
    let canned = std::sync::Arc::new(Canned::new());
    for stream in listener.incoming().flatten() {
        let canned = canned.clone();
        std::thread::spawn(move || {
            pin(cpus);
            connection(stream, &canned)
        });
    }
}

/// Where a thread may run: on the first core, the second, or anywhere.
///
/// The measured client runs on the first core; the canned server either shares it or has the
/// second. Each thread's CPU clock counts only its own work either way, but the placements differ
/// in what the client's caches hold: a server on the same core runs between every request and
/// response and evicts the client's code and data (as other work on a busy host would while a real
/// server answers); on its own core it leaves them alone, but the client's core idles while it
/// waits, and on a virtual machine its caches go cold then too. The shared core gives the steadier
/// figure; the criterion groups use it.
#[derive(Clone, Copy)]
enum Cpus {
    First,
    Second,
    Any,
}

/// Pins the calling thread (Linux; elsewhere nothing).
fn pin(cpus: Cpus) {
    #[cfg(target_os = "linux")]
    {
        let count = std::thread::available_parallelism().map_or(1, usize::from).min(libc::CPU_SETSIZE as usize);
        let chosen = match cpus {
            Cpus::First => 0..1,
            Cpus::Second => 1..2,
            Cpus::Any => 0..count,
        };
        // SAFETY: a zeroed cpu_set_t is the empty set; CPU_SET stays within CPU_SETSIZE (checked
        // above); sched_setaffinity(0, …) applies to the calling thread and only reads the set.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            for cpu in chosen {
                libc::CPU_SET(cpu, &mut set);
            }
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cpus;
}

fn connection(stream: TcpStream, canned: &Canned) {
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header == "\r\n" {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() || writer.write_all(canned.answer(&method, &target)).is_err() {
            return;
        }
    }
}

/// The typed user the hand-written side decodes: the fields of the canned user the crate's
/// `RemoteUser` holds.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // Decoded to do the same work as the crate; never read.
struct BareUser {
    id: String,
    user_name: String,
    external_id: Option<String>,
    active: Option<bool>,
    name: Option<BareName>,
    emails: Option<Vec<BareEmail>>,
    title: Option<String>,
    /// The crate keeps `meta.version` (for `If-Match`), so this side reads it too.
    meta: Option<BareMeta>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct BareName {
    formatted: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct BareMeta {
    version: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct BareEmail {
    value: String,
    r#type: Option<String>,
    primary: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BareList {
    resources: Vec<BareUser>,
}

struct Bare {
    http: reqwest::Client,
    base: String,
}

impl Bare {
    async fn get(&self, id: &str) -> BareUser {
        let response = self
            .http
            .get(format!("{}/Users/{id}", self.base))
            .bearer_auth(TOKEN)
            .header("Accept", "application/scim+json")
            .send()
            .await
            .expect("canned server answers");
        serde_json::from_slice(&response.bytes().await.expect("body")).expect("canned JSON")
    }

    async fn create(&self, body: &serde_json::Value) -> BareUser {
        let response = self
            .http
            .post(format!("{}/Users", self.base))
            .bearer_auth(TOKEN)
            .header("Accept", "application/scim+json")
            .header("Content-Type", "application/scim+json")
            .body(serde_json::to_vec(body).expect("encodable"))
            .send()
            .await
            .expect("canned server answers");
        serde_json::from_slice(&response.bytes().await.expect("body")).expect("canned JSON")
    }

    async fn list(&self, query: &[(&str, &str)]) -> Vec<BareUser> {
        let mut url = url::Url::parse(&format!("{}/Users", self.base)).expect("canned base URL");
        url.query_pairs_mut().extend_pairs(query);
        let response = self
            .http
            .get(url)
            .bearer_auth(TOKEN)
            .header("Accept", "application/scim+json")
            .send()
            .await
            .expect("canned server answers");
        serde_json::from_slice::<BareList>(&response.bytes().await.expect("body")).expect("canned JSON").resources
    }
}

fn person() -> User {
    User::builder("person0@example.com")
        .external_id("E00000")
        .given_name("Jane")
        .family_name("Doe")
        .email("person0@example.com")
        .title("Analyst")
        .build()
}

/// Starts a canned server whose connections run on `cpus`; its SCIM base URL.
fn canned_server(cpus: Cpus) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("loopback");
    let base = format!("http://{}/scim/v2", listener.local_addr().expect("bound"));
    std::thread::spawn(move || serve(listener, cpus));
    base
}

fn crate_client(base: &str) -> Client {
    let connector = ScimBearer::for_loopback(base, TOKEN).expect("loopback URL");
    Client::builder(connector).retry_policy(RetryPolicy::none()).build().expect("client")
}

/// The reqwest client the hand-written side uses, configured as the crate configures its own
/// (timeouts, User-Agent, no redirects), so both send the same bytes and arm the same timer per
/// request.
fn bare_client(base: &str) -> Bare {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("identity-connectors/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest client");
    Bare { http, base: base.to_string() }
}

/// Both clients against one canned server whose connections run on `server`, and what each
/// operation sends: discovery and connection set-up are done, before anything is measured.
struct Sides {
    client: Client,
    bare: Bare,
    id: UserId,
    /// Created (the canned server answers every create alike); `body` is its JSON for reqwest.
    user: User,
    body: serde_json::Value,
    /// Provisioned: the canned look-up finds this person as they are.
    existing: User,
    filter: [(&'static str, &'static str); 1],
    page: PageRequest,
    query: [(&'static str, &'static str); 2],
}

impl Sides {
    fn new(server: Cpus, runtime: &Runtime) -> Self {
        let base = canned_server(server);
        let (client, bare) = (crate_client(&base), bare_client(&base));
        let id = UserId::new(format!("{ID}-1"));
        let user = person();
        let body = serde_json::to_value(&user).expect("encodable");
        let existing = person();
        runtime.block_on(async {
            client.get(&id).await.expect("crate get");
            client.provision(&existing).await.expect("crate provision");
            bare.get(&format!("{ID}-1")).await;
        });
        Sides {
            client,
            bare,
            id,
            user,
            body,
            existing,
            filter: [("filter", "userName eq \"person0@example.com\"")],
            page: PageRequest::first(100),
            query: [("startIndex", "1"), ("count", "100")],
        }
    }
}

/// The headline figures: crate ÷ reqwest per operation, from interleaved rounds, against a server
/// placed on `server` (the client is on the first core).
fn headline(placement: &str, server: Cpus, runtime: &Runtime) {
    let Sides { client, bare, id, user, body, existing, filter, page, query } = Sides::new(server, runtime);
    let label = |operation: &str| format!("{operation} ({placement})");
    ratio(
        &label("get_by_id"),
        runtime,
        200,
        async || client.get(&id).await.expect("get"),
        async || bare.get(&format!("{ID}-1")).await,
    );
    let create = async || client.connector().create_user(client.http(), &user).await.expect("create");
    ratio(&label("create"), runtime, 200, create, async || bare.create(&body).await);
    // The look-up alone, the same exchange as `provision_existing`: what provisioning adds on top
    // (the per-person lock, the answer's verification, the change check) is the difference.
    let find = async || client.find_by_user_name("person0@example.com").await.expect("find");
    ratio(&label("find_existing"), runtime, 200, find, async || bare.list(&filter).await);
    let provision = async || client.provision(&existing).await.expect("provision");
    ratio(&label("provision_existing"), runtime, 200, provision, async || bare.list(&filter).await);
    ratio(
        &label("list_page_100"),
        runtime,
        30,
        async || client.list_page(&page).await.expect("page"),
        async || bare.list(&query).await,
    );
}

fn overhead(c: &mut Criterion) {
    // Counted before this thread is pinned to one core (which the count would then report).
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    pin(Cpus::First);
    // Current-thread: a batch job's runtime, and the same for both sides.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");

    // Skipped under `--profile-time`, so a profiler sees only the benchmark it is pointed at.
    if !std::env::args().any(|arg| arg == "--profile-time") {
        headline("server on the same core", Cpus::First, &runtime);
        // Not in the smoke run (`cargo test --benches`, no `--bench`): one placement shows the
        // code paths work.
        let measuring = std::env::args().any(|arg| arg == "--bench");
        if cores > 1 && measuring {
            headline("server on another core", Cpus::Second, &runtime);
        }
    }

    let Sides { client, bare, id, user, body, existing, filter, page, query } = Sides::new(Cpus::First, &runtime);
    // Everything the client does runs on this thread (see the module documentation).
    let cpu = Clock::Thread;

    let mut group = c.benchmark_group("get_by_id");
    group.bench_function("crate", |b| {
        b.iter_custom(|n| cpu.measure(n, &runtime, &mut async || client.get(black_box(&id)).await.expect("get")))
    });
    group.bench_function("reqwest", |b| {
        b.iter_custom(|n| cpu.measure(n, &runtime, &mut async || bare.get(black_box(&format!("{ID}-1"))).await))
    });
    group.finish();

    let mut group = c.benchmark_group("create");
    group.bench_function("crate", |b| {
        b.iter_custom(|n| {
            cpu.measure(n, &runtime, &mut async || {
                client.connector().create_user(client.http(), black_box(&user)).await.expect("create")
            })
        })
    });
    group.bench_function("reqwest", |b| {
        b.iter_custom(|n| cpu.measure(n, &runtime, &mut async || bare.create(black_box(&body)).await))
    });
    group.finish();

    // Provision of an existing person against the raw look-up it costs: the answer matches, so the
    // crate sends no write.
    let mut group = c.benchmark_group("provision_existing");
    group.bench_function("crate", |b| {
        b.iter_custom(|n| {
            cpu.measure(n, &runtime, &mut async || client.provision(black_box(&existing)).await.expect("provision"))
        })
    });
    group.bench_function("reqwest", |b| {
        b.iter_custom(|n| cpu.measure(n, &runtime, &mut async || bare.list(black_box(&filter)).await))
    });
    group.finish();

    let mut group = c.benchmark_group("list_page_100");
    group.bench_function("crate", |b| {
        b.iter_custom(|n| {
            cpu.measure(n, &runtime, &mut async || client.list_page(black_box(&page)).await.expect("page"))
        })
    });
    group.bench_function("reqwest", |b| {
        b.iter_custom(|n| cpu.measure(n, &runtime, &mut async || bare.list(black_box(&query)).await))
    });
    group.finish();
}

/// A CPU clock: this thread's (`CLOCK_THREAD_CPUTIME_ID`) or the whole process's
/// (`CLOCK_PROCESS_CPUTIME_ID`). Linux only; elsewhere it falls back to wall time.
#[derive(Clone, Copy)]
enum Clock {
    Thread,
    Process,
}

impl Clock {
    #[cfg(target_os = "linux")]
    fn now(self) -> Duration {
        let id = match self {
            Clock::Thread => libc::CLOCK_THREAD_CPUTIME_ID,
            Clock::Process => libc::CLOCK_PROCESS_CPUTIME_ID,
        };
        let mut time = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `time` is a valid, writable timespec; both clock ids exist on every Linux.
        let status = unsafe { libc::clock_gettime(id, &mut time) };
        assert_eq!(status, 0, "clock_gettime");
        Duration::new(time.tv_sec as u64, time.tv_nsec as u32)
    }

    #[cfg(not(target_os = "linux"))]
    fn now(self) -> Duration {
        static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        START.get_or_init(Instant::now).elapsed()
    }

    /// The time on this clock that `iters` runs of `work` on `runtime` take.
    fn measure<T>(self, iters: u64, runtime: &Runtime, work: &mut impl AsyncFnMut() -> T) -> Duration {
        let start = self.now();
        for _ in 0..iters {
            black_box(runtime.block_on(work()));
        }
        self.now().saturating_sub(start)
    }
}

/// Rounds of the headline comparison; each runs `per_round` operations of each side, the side
/// that goes first alternating.
const ROUNDS: usize = 41;

/// Prints the median over [`ROUNDS`] interleaved rounds of the crate's thread CPU time ÷ the
/// hand-written client's for one operation: interleaving puts both sides under the same machine
/// load, which consecutive criterion runs on a shared machine do not.
fn ratio<A, B, T, U>(label: &str, runtime: &Runtime, per_round: u64, mut krate: A, mut bare: B)
where
    A: AsyncFnMut() -> T,
    B: AsyncFnMut() -> U,
{
    let mut rounds: Vec<(f64, Duration, Duration)> = (0..ROUNDS)
        .map(|round| {
            let (k, b) = if round % 2 == 0 {
                let k = Clock::Thread.measure(per_round, runtime, &mut krate);
                (k, Clock::Thread.measure(per_round, runtime, &mut bare))
            } else {
                let b = Clock::Thread.measure(per_round, runtime, &mut bare);
                (Clock::Thread.measure(per_round, runtime, &mut krate), b)
            };
            let per_op = |d: Duration| d / per_round as u32;
            (k.as_secs_f64() / b.as_secs_f64().max(1e-9), per_op(k), per_op(b))
        })
        .collect();
    // Noise from other work on the machine only adds time: each side's quietest round is a
    // second estimate, next to the median of the per-round ratios.
    let quietest = |side: fn(&(f64, Duration, Duration)) -> Duration| rounds.iter().map(side).min().unwrap_or_default();
    let (best_k, best_b) = (quietest(|r| r.1), quietest(|r| r.2));
    let best = best_k.as_secs_f64() / best_b.as_secs_f64().max(1e-9);
    rounds.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (median, k, b) = rounds[ROUNDS / 2];
    let (low, high) = (rounds[ROUNDS / 10].0, rounds[ROUNDS - 1 - ROUNDS / 10].0);
    println!(
        "ratio {label}: crate ÷ reqwest = {median:.3}× (median of {ROUNDS} interleaved rounds of {per_round}; \
         middle 80% {low:.2}–{high:.2}×; CPU per operation {k:.1?} vs {b:.1?}; quietest rounds {best:.3}×, \
         {best_k:.1?} vs {best_b:.1?})"
    );
}

/// The crate's GET by id on a current-thread runtime and on a multi-thread one (two workers, the
/// default on this machine): the process CPU per request (the README's advice for batch jobs).
fn runtimes(c: &mut Criterion) {
    let base = canned_server(Cpus::First);
    // Unpinned (its workers would inherit a pin): a multi-thread runtime may use every core, as in
    // a service.
    pin(Cpus::Any);
    let id = UserId::new(format!("{ID}-1"));
    let current = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let multi = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let mut group = c.benchmark_group("runtime_get_by_id");
    for (label, runtime) in [("current_thread", &current), ("multi_thread", &multi)] {
        // One client per runtime: a pooled connection is driven by the runtime that opened it.
        let client = crate_client(&base);
        runtime.block_on(client.get(&id)).expect("crate get");
        group.bench_function(label, |b| {
            b.iter_custom(|n| {
                Clock::Process.measure(n, runtime, &mut async || client.get(black_box(&id)).await.expect("get"))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, overhead, runtimes);
criterion_main!(benches);
