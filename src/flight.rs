//! Single-flight per match key: within one [`Client`](crate::Client) and its clones, provisioning
//! and deprovisioning of the same person run one at a time, so a look-up always sees the result of
//! the create before it (a server without a uniqueness rule never gets the same person twice from
//! one process).

use std::collections::HashMap;
use std::collections::hash_map::{Entry, RandomState, VacantEntry};
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

use crate::resource::Lookup;

/// The per-client set of held keys. A key is the hash of the normalised match key (the attribute,
/// and the value as the server compares it), so holding one allocates nothing: two people whose
/// keys collide only wait for each other, never run twice at once.
///
/// The map's (synchronous) mutex is held only to take or give back a key, never across an await,
/// so unrelated keys never wait for each other.
#[derive(Default)]
pub(crate) struct Flights {
    seed: Seed,
    held: Mutex<HashMap<u64, Held, BuildHasherDefault<AlreadyHashed>>>,
}

/// Where a client's key hashes start: random per client, so which names share a key differs
/// between clients and runs.
struct Seed(u64);

impl Default for Seed {
    fn default() -> Self {
        Seed(RandomState::new().hash_one(0u8))
    }
}

/// A held key; `waiters` is made by the first caller that has to wait for it.
#[derive(Default)]
struct Held {
    waiters: Option<Arc<Notify>>,
}

impl Flights {
    /// Waits until no other caller of this client holds `lookup`'s key, and holds it until the
    /// returned guard is dropped. Cancelling the wait leaves nothing behind.
    pub(crate) async fn acquire(self: &Arc<Self>, lookup: &Lookup) -> FlightGuard {
        let key = self.key(lookup);
        match self.try_hold(key) {
            Some(guard) => guard,
            // Boxed: the waiting loop's state and code stay out of every caller's future.
            None => Box::pin(self.wait_for(key)).await,
        }
    }

    /// Holds `key` if nobody does.
    #[inline(never)]
    fn try_hold(self: &Arc<Self>, key: u64) -> Option<FlightGuard> {
        match self.held().entry(key) {
            Entry::Vacant(free) => Some(self.hold(free)),
            Entry::Occupied(_) => None,
        }
    }

    /// Holds the free key of `free` (an entry of the locked map).
    fn hold(self: &Arc<Self>, free: VacantEntry<'_, u64, Held>) -> FlightGuard {
        let key = *free.key();
        free.insert(Held::default());
        FlightGuard { flights: Arc::clone(self), key }
    }

    /// [`acquire`](Self::acquire) of a key another caller holds.
    async fn wait_for(self: &Arc<Self>, key: u64) -> FlightGuard {
        loop {
            let woken = match self.held().entry(key) {
                Entry::Vacant(free) => return self.hold(free),
                Entry::Occupied(mut held) => {
                    // Registered while the map is locked, so the holder's `notify_waiters` (made
                    // once it has left the map) cannot come before it. Boxed: only on contention.
                    let waiters = Arc::clone(held.get_mut().waiters.get_or_insert_default());
                    let mut woken = Box::pin(waiters.notified_owned());
                    woken.as_mut().enable();
                    woken
                }
            };
            woken.await;
            // Every waiter tries again; one gets the key, the others wait for that one.
        }
    }

    /// `lookup` as a map key. SCIM `userName` is case-insensitive (RFC 7643 §4.1.1) and e-mail
    /// addresses are matched case-insensitively by every connector here, so those are folded to
    /// lower case; `externalId` is case-exact. Two values that differ only in case share a key: at
    /// worst two distinct people wait for each other, never one person runs twice at once.
    fn key(&self, lookup: &Lookup) -> u64 {
        let mut hasher = KeyHasher::new(self.seed.0);
        lookup.attribute().hash(&mut hasher);
        match lookup {
            Lookup::UserName(value) | Lookup::Email(value) => write_lower_case(&mut hasher, value.trim()),
            _ => hasher.write(lookup.value().as_bytes()),
        }
        hasher.finish()
    }

    /// How many keys are held: for tests of the map's growth.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.held().len()
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Held, BuildHasherDefault<AlreadyHashed>>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Hashes `value` in lower case as one byte stream, without building the lower-case string.
fn write_lower_case(hasher: &mut impl Hasher, value: &str) {
    let mut buffer = [0u8; 64];
    if value.is_ascii() {
        // Most names and addresses: byte by byte, the same stream as the general case below
        // (an ASCII character's lower case is one ASCII byte), at a fraction of its cost.
        for chunk in value.as_bytes().chunks(buffer.len()) {
            let folded = &mut buffer[..chunk.len()];
            folded.copy_from_slice(chunk);
            folded.make_ascii_lowercase();
            hasher.write(folded);
        }
        return;
    }
    let mut filled = 0;
    for c in value.chars().flat_map(char::to_lowercase) {
        if filled + c.len_utf8() > buffer.len() {
            hasher.write(&buffer[..filled]);
            filled = 0;
        }
        filled += c.encode_utf8(&mut buffer[filled..]).len();
    }
    hasher.write(&buffer[..filled]);
}

impl std::fmt::Debug for Flights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only their number: keys come from user names and e-mail addresses.
        f.debug_struct("Flights").field("keys", &self.held().len()).finish()
    }
}

/// The hash of a match key: 64-bit FNV-1a over its bytes, from a per-client seed. A keyed
/// cryptographic hash (SipHash, `RandomState`'s) would cost several times as much on every
/// provisioning call and buy nothing here: a collision, even a crafted one, only makes two people
/// wait for each other. Byte by byte, so the key does not depend on how the bytes are split into
/// writes.
struct KeyHasher(u64);

impl KeyHasher {
    fn new(seed: u64) -> Self {
        KeyHasher(0xcbf2_9ce4_8422_2325 ^ seed)
    }
}

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// The map's keys are hashes already: used as they are.
#[derive(Default)]
struct AlreadyHashed(u64);

impl Hasher for AlreadyHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used (the key is a u64); a fold of other bytes keeps it a hasher.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// Holds a key until dropped; then every caller waiting for it tries again.
pub(crate) struct FlightGuard {
    flights: Arc<Flights>,
    key: u64,
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        let held = self.flights.held().remove(&self.key);
        if let Some(waiters) = held.and_then(|held| held.waiters) {
            waiters.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::DefaultHasher;
    use std::time::Duration;

    fn name(v: &str) -> Lookup {
        Lookup::UserName(v.to_string())
    }

    #[test]
    fn keys_fold_case_for_names_and_addresses_only() {
        let flights = Flights::default();
        let key = |lookup: Lookup| flights.key(&lookup);
        assert_eq!(key(name("Jane.Doe@X.com")), key(name(" jane.doe@x.com")));
        assert_eq!(key(Lookup::Email("A@B.C".into())), key(Lookup::Email("a@b.c".into())));
        // Beyond ASCII and past the 64-byte buffer, the same folding as `str::to_lowercase`.
        let long = format!("{}ÅSA-ÖBERG", "Ä".repeat(40));
        assert_eq!(key(name(&long)), key(name(&long.to_lowercase())));
        assert_eq!(key(name("\u{212A}elvin")), key(name("kelvin")), "the Kelvin sign folds to k");
        // ASCII (folded byte by byte) and the general case give one key for one lower-case text,
        // past the buffer too.
        let ascii = format!("{}@Example.COM", "Jane.Doe".repeat(12));
        let mut general = ascii.clone();
        general.push('\u{C5}');
        assert_eq!(key(name(&ascii)), key(name(&ascii.to_lowercase())));
        let mut plain = DefaultHasher::new();
        write_lower_case(&mut plain, &ascii);
        plain.write(&[0xC3, 0xA5]);
        let mut folded = DefaultHasher::new();
        write_lower_case(&mut folded, &general);
        assert_eq!(plain.finish(), folded.finish(), "the ASCII path feeds the hasher what the general one does");
        assert_ne!(key(name("a@b.c")), key(Lookup::Email("a@b.c".into())));
        assert_ne!(key(Lookup::ExternalId("E1".into())), key(Lookup::ExternalId("e1".into())));
        assert_ne!(key(name("jane")), key(name("jane2")));
    }

    #[test]
    fn the_key_hash_is_one_stream_and_seeded() {
        let text = "jane.doe@example.com".as_bytes();
        let mut whole = KeyHasher::new(7);
        whole.write(text);
        let mut split = KeyHasher::new(7);
        split.write(&text[..3]);
        split.write(&text[3..]);
        assert_eq!(whole.finish(), split.finish());
        let mut other = KeyHasher::new(8);
        other.write(text);
        assert_ne!(whole.finish(), other.finish(), "another seed, another key");
        // Two clients fold one name to one key each, and usually to different ones.
        let (a, b) = (Flights::default(), Flights::default());
        assert_eq!(a.key(&name("Jane")), a.key(&name("jane")));
        assert_ne!(a.seed.0, b.seed.0);
    }

    #[tokio::test]
    async fn the_same_key_waits_and_another_key_does_not() {
        let flights = Arc::new(Flights::default());
        let held = flights.acquire(&name("Jane")).await;
        // Same key, other case: must wait.
        let waiting = tokio::time::timeout(Duration::from_millis(50), flights.acquire(&name("JANE"))).await;
        assert!(waiting.is_err(), "a second holder of the same key got in");
        // Another key: immediate, while the first is held.
        let other = tokio::time::timeout(Duration::from_millis(50), flights.acquire(&name("john"))).await;
        assert!(other.is_ok(), "an unrelated key waited");
        drop(other);
        drop(held);
        let again = tokio::time::timeout(Duration::from_millis(50), flights.acquire(&name("jane"))).await;
        assert!(again.is_ok(), "the key was not released");
        drop(again);
        assert_eq!(flights.len(), 0);
    }

    #[tokio::test]
    async fn entries_are_removed_when_unused_even_after_cancelled_waits() {
        let flights = Arc::new(Flights::default());
        for i in 0..1000 {
            let guard = flights.acquire(&name(&format!("person{i}"))).await;
            assert_eq!(flights.len(), 1);
            drop(guard);
        }
        assert_eq!(flights.len(), 0, "one entry per key ever used");

        let held = flights.acquire(&name("jane")).await;
        for _ in 0..10 {
            // Waits that give up (a caller's timeout) must leave nothing behind.
            let cancelled = tokio::time::timeout(Duration::from_millis(5), flights.acquire(&name("jane"))).await;
            assert!(cancelled.is_err());
        }
        assert_eq!(flights.len(), 1);
        drop(held);
        assert_eq!(flights.len(), 0);
    }

    #[tokio::test]
    async fn holders_of_one_key_run_one_at_a_time() {
        let flights = Arc::new(Flights::default());
        let inside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (flights, inside, most) = (Arc::clone(&flights), Arc::clone(&inside), Arc::clone(&most));
                tokio::spawn(async move {
                    let _guard = flights.acquire(&name("jane")).await;
                    let now = inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    most.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(flights.len(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_wake_up_is_lost_between_threads() {
        // Many short holds of one key from several threads: a waiter that registered too late
        // would sleep forever, and the timeout below would fail the test.
        let flights = Arc::new(Flights::default());
        let inside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (flights, inside) = (Arc::clone(&flights), Arc::clone(&inside));
                tokio::spawn(async move {
                    for _ in 0..200 {
                        let _guard = flights.acquire(&name("jane")).await;
                        assert_eq!(inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst), 0, "two holders at once");
                        tokio::task::yield_now().await;
                        inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    }
                })
            })
            .collect();
        let all = async {
            for task in tasks {
                task.await.unwrap();
            }
        };
        tokio::time::timeout(Duration::from_secs(30), all).await.expect("a waiter was never woken");
        assert_eq!(flights.len(), 0);
    }
}
