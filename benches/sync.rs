//! Reconciliation at scale: the requests a no-change sync of 10,000 people sends (counted by the
//! sandboxes), and the process's peak memory while planning 100,000 people.
//!
//! ```sh
//! cargo bench --bench sync
//! ```
//!
//! Without `--bench` (as `cargo test --benches` runs it) it does a small smoke run of the same
//! steps, so CI checks that it works without spending minutes. The figures:
//!
//! - requests: a sandbox holds N users equal to the desired people (for Freshservice, every fifth
//!   an agent, the rest requesters); `plan` then `apply` must send at most
//!   1.05 × ceil(N / page size) requests plus discovery (Freshservice's department list), counted
//!   from the sandbox's request log and checked against its request counter;
//! - memory: a connector that makes up its listing pages on the fly (so no server holds 100,000
//!   users in this process) is planned against 100,000 people read lazily, 1 % of them changed;
//!   the peak is measured by a counting global allocator (live heap bytes, including reserved
//!   but untouched capacity) and, on Linux, by the process's peak resident set (`VmHWM`), which
//!   must stay within 60 MB in the optimised build.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use async_trait::async_trait;
use identity_connectors::sandbox::{FreshserviceSandbox, RequestRecord, ScimSandbox};
use identity_connectors::sync::{ApplyOptions, ManagedScope};
use identity_connectors::{
    AgentRole, Authorization, Client, Connector, FreshserviceAttributes, FreshserviceUserKind, Http, Lookup,
    PageRequest, PageToken, RemoteUser, Result, UpdateOutcome, User, UserId, UserPage,
};
use serde_json::json;
use url::Url;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout is passed on as is.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            grew(layout.size());
        }
        pointer
    }
    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` was allocated by `System` with `layout`.
        unsafe { System.dealloc(pointer, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc` and `alloc`.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MIB: f64 = 1024.0 * 1024.0;

fn email(i: usize) -> String {
    format!("person{i:06}@corp.example")
}

fn person(i: usize, title: &str) -> User {
    User::builder(email(i))
        .external_id(format!("E{i:06}"))
        .given_name("Given")
        .family_name(format!("Family {i}"))
        .email(email(i))
        .title(title)
        .build()
}

/// A directory whose listing pages are made up on demand: `total` users, the same people as
/// [`person`], a page at a time.
#[derive(Debug)]
struct Synthetic {
    base_url: Url,
    authorization: Authorization,
    total: usize,
}

#[async_trait]
impl Connector for Synthetic {
    fn kind(&self) -> &'static str {
        "synthetic"
    }
    fn display_name(&self) -> &str {
        "Synthetic"
    }
    fn base_url(&self) -> &Url {
        &self.base_url
    }
    fn authorization(&self) -> &Authorization {
        &self.authorization
    }
    fn max_page_size(&self) -> u32 {
        1000
    }
    fn match_key(&self, user: &User) -> Result<Lookup> {
        Ok(Lookup::UserName(user.user_name.clone().unwrap_or_default()))
    }
    async fn test_connection(&self, _: &Http) -> Result<()> {
        Ok(())
    }
    async fn create_user(&self, _: &Http, _: &User) -> Result<RemoteUser> {
        unimplemented!("planning only")
    }
    async fn get_user(&self, _: &Http, _: &UserId) -> Result<RemoteUser> {
        unimplemented!("planning only")
    }
    async fn find_user(&self, _: &Http, _: &Lookup) -> Result<Option<RemoteUser>> {
        unimplemented!("planning only")
    }
    async fn update_user(&self, _: &Http, _: &UserId, _: &User, _: Option<&RemoteUser>) -> Result<UpdateOutcome> {
        unimplemented!("planning only")
    }
    async fn set_active(&self, _: &Http, _: &UserId, _: bool) -> Result<()> {
        unimplemented!("planning only")
    }
    async fn delete_user(&self, _: &Http, _: &UserId) -> Result<()> {
        unimplemented!("planning only")
    }
    async fn list_users(&self, _: &Http, page: &PageRequest) -> Result<UserPage> {
        let start: usize = page.token.as_ref().and_then(|t| t.as_str().parse().ok()).unwrap_or(0);
        let end = (start + page.size as usize).min(self.total);
        let users =
            (start..end).map(|i| RemoteUser::new(UserId::new(format!("{i:032x}")), person(i, "Analyst"))).collect();
        let next = (end < self.total).then(|| PageToken::new(end.to_string()));
        Ok(UserPage::new(users, next, Some(self.total as u64)))
    }
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Plans `people` people against as many accounts; with `goal`, fails over 60 MB peak RSS.
async fn memory(people: usize, goal: bool) {
    let connector = Synthetic {
        base_url: Url::parse("http://127.0.0.1:9/").expect("a URL"),
        authorization: Authorization::bearer(&"unused".into()).expect("a header"),
        total: people,
    };
    let client = Client::new(connector).expect("a client");
    let started = Instant::now();
    let before = peak_rss_mib();
    let desired = (0..people).map(|i| person(i, if i % 100 == 0 { "Lead" } else { "Analyst" }));
    let plan = client.reconciler().plan(desired).await.expect("a plan");
    assert_eq!((plan.counts.update, plan.counts.unchanged), (people.div_ceil(100), people - people.div_ceil(100)));
    let heap = PEAK.load(Ordering::Relaxed) as f64 / MIB;
    let peak = peak_rss_mib();
    if let (true, Some(peak)) = (goal, peak) {
        assert!(peak * MIB <= 60e6, "peak RSS {peak:.1} MiB is over 60 MB");
    }
    let rss = match (peak, before) {
        (Some(peak), Some(before)) => {
            format!("{peak:.1} MiB = {:.1} MB (the process before planning: {before:.1} MiB)", peak * MIB / 1e6)
        }
        _ => "n/a".to_string(),
    };
    println!(
        "plan of {people} people against {people} accounts: {:.2} s, peak heap {heap:.1} MiB, peak RSS {rss} (goal: 60 MB)",
        started.elapsed().as_secs_f64()
    );
    drop(plan);
}

/// How the requests a sync sent split: listing pages, discovery (read once per client), and
/// anything else (which a no-change sync must not send).
struct Tally {
    listing: u64,
    discovery: u64,
    other: Vec<String>,
}

fn tally(records: &[RequestRecord], listing: &str, discovery: &[&str]) -> Tally {
    let mut tally = Tally { listing: 0, discovery: 0, other: Vec::new() };
    for record in records {
        let path = record.path.split('?').next().unwrap_or_default();
        if record.method == "GET" && path.ends_with(listing) && !record.path.contains("filter=") {
            tally.listing += 1;
        } else if record.method == "GET" && discovery.iter().any(|d| path.ends_with(d)) {
            tally.discovery += 1;
        } else {
            tally.other.push(format!("{} {}", record.method, record.path));
        }
    }
    tally
}

/// Prints the figure and checks it: at most 1.05 × ceil(people / page size) + discovery.
/// `counted` is the sandbox's own request counter over the same run.
fn report(app: &str, people: usize, page: u32, sent: &Tally, counted: u64) {
    let pages = (people as u64).div_ceil(u64::from(page));
    let total = sent.listing + sent.discovery + sent.other.len() as u64;
    assert_eq!(total, counted, "{app}: every request is in the log");
    let bound = pages as f64 * 1.05 + sent.discovery as f64;
    println!(
        "{app}: a no-change sync of {people} people sent {total} requests ({} listing pages of {page}, {} discovery); bound 1.05 × {pages} + {} = {bound:.1}",
        sent.listing, sent.discovery, sent.discovery
    );
    assert!(sent.other.is_empty(), "{app}: a no-change sync sent {:?}", sent.other);
    assert!(sent.discovery <= 3, "{app}: discovery is a few reads, not {}", sent.discovery);
    assert!(total as f64 <= bound, "{app}: {total} requests, over {bound:.1}");
}

async fn requests_scim(people: usize) {
    let sandbox = ScimSandbox::start().await.expect("a sandbox");
    for i in 0..people {
        let body = json!({
            "userName": email(i), "externalId": format!("E{i:06}"), "title": "Analyst", "active": true,
            "name": {"givenName": "Given", "familyName": format!("Family {i}")},
            "emails": [{"value": email(i), "type": "work", "primary": true}],
        });
        sandbox.insert_user(body).expect("stored");
    }
    let client = Client::new(sandbox.scim_connector().expect("a connector")).expect("a client");
    let sync = client.reconciler();
    let (from, before) = (sandbox.requests().len(), sandbox.stats().requests);
    let plan = sync.plan((0..people).map(|i| person(i, "Analyst"))).await.expect("a plan");
    assert!(plan.is_noop(), "{plan}");
    assert_eq!(plan.counts.unchanged, people);
    sync.apply(&plan, ApplyOptions::default(), |_| {}).await.expect("within the brake");
    let sent = tally(&sandbox.requests()[from..], "/Users", &["/ServiceProviderConfig", "/Schemas", "/ResourceTypes"]);
    let counted = sandbox.stats().requests - before;
    report("SCIM", people, client.connector().max_page_size(), &sent, counted);
}

/// Every fifth person is an agent (created through the connector, as agents are), the rest
/// requesters; all in the Finance department, so the department list is read (discovery).
async fn requests_freshservice(people: usize) {
    let sandbox = FreshserviceSandbox::builder()
        .rate_limit(1_000_000, std::time::Duration::from_secs(60))
        .start()
        .await
        .expect("a sandbox");
    let finance = sandbox.department_id("Finance").expect("a default department");
    let role = sandbox.role_id("SD Agent").expect("a default role");
    let agent = |i: usize| i.is_multiple_of(5);
    let fs_person = |i: usize| {
        let mut user = person(i, "Analyst");
        user.external_id = None;
        user.enterprise.get_or_insert_default().department = Some("Finance".into());
        let kind = if agent(i) {
            FreshserviceAttributes::agent(vec![AgentRole::new(role, "entire_helpdesk")])
        } else {
            FreshserviceAttributes::new(FreshserviceUserKind::Requester)
        };
        user.set_extension(kind);
        user
    };
    let client = Client::new(sandbox.connector().expect("a connector")).expect("a client");
    for i in 0..people {
        if agent(i) {
            client.provision(&fs_person(i)).await.expect("an agent");
        } else {
            let body = json!({"first_name": "Given", "last_name": format!("Family {i}"), "primary_email": email(i),
                "job_title": "Analyst", "department_ids": [finance]});
            sandbox.insert_requester(body).expect("stored");
        }
    }
    // A new client: the one that created the agents has read the department list already.
    let client = Client::new(sandbox.connector().expect("a connector")).expect("a client");
    let corp = ManagedScope::predicate(|a| a.user.primary_email().is_some_and(|e| e.ends_with("@corp.example")));
    let sync = client.reconciler().scope(corp);
    let (from, before) = (sandbox.requests().len(), sandbox.stats().requests);
    let plan = sync.plan((0..people).map(fs_person)).await.expect("a plan");
    assert!(plan.is_noop(), "{plan}");
    assert_eq!((plan.counts.unchanged, plan.counts.accounts), (people, people));
    sync.apply(&plan, ApplyOptions::default(), |_| {}).await.expect("within the brake");
    let agents = sandbox.users().iter().filter(|u| u.get("agent").is_some()).count();
    assert_eq!(agents, people.div_ceil(5), "requesters and agents both");
    let sent = tally(&sandbox.requests()[from..], "/requesters", &["/departments", "/locations"]);
    let counted = sandbox.stats().requests - before;
    report(&format!("Freshservice ({agents} agents)"), people, client.connector().max_page_size(), &sent, counted);
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then a quick smoke run.
    let full = std::env::args().any(|a| a == "--bench");
    let (requests, planned) = if full { (10_000, 100_000) } else { (300, 3_000) };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    // Memory first, before the sandboxes' stores raise the process's peak.
    // The 60 MB goal is for the optimised build `cargo bench` makes.
    runtime.block_on(memory(planned, full && !cfg!(debug_assertions)));
    runtime.block_on(requests_scim(requests));
    runtime.block_on(requests_freshservice(requests));
}
