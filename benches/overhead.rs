//! What the crate adds to a hand-written reqwest exchange, side by side in one run.
//!
//! A canned HTTP/1.1 server (keep-alive, fixed answers, its own thread) serves both sides, so the
//! figures differ only by client-side work: building the request, the auth header, the request
//! path, reading and decoding the body. Each operation runs as `crate` and as `reqwest` in the same
//! criterion group; compare the two (the machines are shared and noisy: read ratios, not times).
//!
//! `runtime_get_by_id` runs the crate's GET by id on a current-thread and on a multi-thread tokio
//! runtime, and prints the process CPU per request of each.
//!
//! Run with `cargo bench --bench overhead`; CI builds it only.

use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use identity_connectors::{Client, PageRequest, RetryPolicy, ScimBearer, User, UserId};
use serde::Deserialize;

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

fn serve(listener: TcpListener) {
    let canned = std::sync::Arc::new(Canned::new());
    for stream in listener.incoming().flatten() {
        let canned = canned.clone();
        std::thread::spawn(move || connection(stream, &canned));
    }
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

/// The typed user the hand-written side decodes: the fields the crate's `User` reads.
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
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct BareName {
    given_name: Option<String>,
    family_name: Option<String>,
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

/// Starts a canned server on its own thread; its SCIM base URL.
fn canned_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("loopback");
    let base = format!("http://{}/scim/v2", listener.local_addr().expect("bound"));
    std::thread::spawn(move || serve(listener));
    base
}

fn crate_client(base: &str) -> Client {
    let connector = ScimBearer::for_loopback(base, TOKEN).expect("loopback URL");
    Client::builder(connector).retry_policy(RetryPolicy::none()).build().expect("client")
}

fn overhead(c: &mut Criterion) {
    let base = canned_server();
    // Current-thread: a batch job's runtime, and the same for both sides.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let client = crate_client(&base);
    let bare = Bare { http: reqwest::Client::new(), base };
    let id = UserId::new(format!("{ID}-1"));
    let user = person();
    let body = serde_json::to_value(&user).expect("encodable");
    // Discovery and connection set-up happen once, before measuring.
    runtime.block_on(async {
        client.get(&id).await.expect("crate get");
        bare.get(&format!("{ID}-1")).await;
    });

    let mut group = c.benchmark_group("get_by_id");
    group.bench_function("crate", |b| b.iter(|| runtime.block_on(client.get(black_box(&id))).expect("get")));
    group.bench_function("reqwest", |b| b.iter(|| runtime.block_on(bare.get(black_box(&format!("{ID}-1"))))));
    group.finish();

    let mut group = c.benchmark_group("create");
    group.bench_function("crate", |b| {
        b.iter(|| runtime.block_on(client.connector().create_user(client.http(), black_box(&user))).expect("create"))
    });
    group.bench_function("reqwest", |b| b.iter(|| runtime.block_on(bare.create(black_box(&body)))));
    group.finish();

    // Provision of an existing person against the raw look-up it costs: the answer matches, so the
    // crate sends no write.
    let existing = person();
    let mut group = c.benchmark_group("provision_existing");
    group.bench_function("crate", |b| {
        b.iter(|| runtime.block_on(client.provision(black_box(&existing))).expect("provision"))
    });
    let filter = [("filter", "userName eq \"person0@example.com\"")];
    group.bench_function("reqwest", |b| b.iter(|| runtime.block_on(bare.list(black_box(&filter)))));
    group.finish();

    let mut group = c.benchmark_group("list_page_100");
    let page = PageRequest::first(100);
    group.bench_function("crate", |b| b.iter(|| runtime.block_on(client.list_page(black_box(&page))).expect("page")));
    let query = [("startIndex", "1"), ("count", "100")];
    group.bench_function("reqwest", |b| b.iter(|| runtime.block_on(bare.list(black_box(&query)))));
    group.finish();
}

/// This process's CPU time (user + system, every thread: the canned server's included), from
/// `/proc/self/stat` (Linux; zero elsewhere), in clock ticks of 10 ms.
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command name (which may hold spaces): utime and stime are fields 14 and 15.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// The crate's GET by id on a current-thread runtime and on a multi-thread one (two workers, a
/// service's default on this machine): criterion's wall time per request, and the process CPU per
/// request over a fixed run, printed once (the README's advice for batch jobs).
fn runtimes(c: &mut Criterion) {
    const RUNS: u32 = 5_000;
    let base = canned_server();
    let id = UserId::new(format!("{ID}-1"));
    let current = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let multi = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let mut group = c.benchmark_group("runtime_get_by_id");
    for (label, runtime) in [("current_thread", &current), ("multi_thread", &multi)] {
        // One client per runtime: a pooled connection is driven by the runtime that opened it.
        let client = crate_client(&base);
        runtime.block_on(client.get(&id)).expect("crate get");
        let (started, cpu) = (Instant::now(), process_cpu());
        for _ in 0..RUNS {
            runtime.block_on(client.get(black_box(&id))).expect("get");
        }
        let (wall, cpu) = (started.elapsed() / RUNS, process_cpu().saturating_sub(cpu) / RUNS);
        println!("runtime {label}: {wall:?} wall, {cpu:?} process CPU per GET by id ({RUNS} requests)");
        group.bench_function(label, |b| b.iter(|| runtime.block_on(client.get(black_box(&id))).expect("get")));
    }
    group.finish();
}

criterion_group!(benches, overhead, runtimes);
criterion_main!(benches);
