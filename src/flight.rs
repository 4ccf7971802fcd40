//! Single-flight per match key: within one [`Client`](crate::Client) and its clones, provisioning
//! and deprovisioning of the same person run one at a time, so a look-up always sees the result of
//! the create before it (a server without a uniqueness rule never gets the same person twice from
//! one process).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::resource::Lookup;

/// The normalised match key: the attribute and the value as the server compares it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct FlightKey {
    attribute: &'static str,
    value: String,
}

impl FlightKey {
    /// SCIM `userName` is case-insensitive (RFC 7643 §4.1.1) and e-mail addresses are matched
    /// case-insensitively by every connector here, so those are lower-cased; `externalId` is
    /// case-exact. Two values that differ only in case share one lock: at worst two distinct
    /// people wait for each other, never one person runs twice at once.
    pub(crate) fn new(lookup: &Lookup) -> Self {
        let value = match lookup {
            Lookup::UserName(v) | Lookup::Email(v) => v.trim().to_lowercase(),
            _ => lookup.value().to_string(),
        };
        FlightKey { attribute: lookup.attribute(), value }
    }
}

/// One lock and the number of callers holding or waiting for it.
struct Slot {
    lock: Arc<AsyncMutex<()>>,
    users: usize,
}

/// The per-client map of key locks. The outer (synchronous) mutex is held only to find or drop an
/// entry, never across an await, so unrelated keys never wait for each other.
#[derive(Default)]
pub(crate) struct Flights {
    slots: Mutex<HashMap<FlightKey, Slot>>,
}

impl Flights {
    /// Waits until no other caller of this client holds `lookup`'s key, and holds it until the
    /// returned guard is dropped. Cancelling the wait gives the key back too.
    pub(crate) async fn acquire(self: &Arc<Self>, lookup: &Lookup) -> FlightGuard {
        let key = FlightKey::new(lookup);
        let lock = {
            let mut slots = self.slots();
            let slot =
                slots.entry(key.clone()).or_insert_with(|| Slot { lock: Arc::new(AsyncMutex::new(())), users: 0 });
            slot.users += 1;
            Arc::clone(&slot.lock)
        };
        // Registered before the wait, so a cancelled wait still gives its place back on drop.
        let registration = Registration { flights: Arc::clone(self), key };
        let held = lock.lock_owned().await;
        FlightGuard { _held: held, _registration: registration }
    }

    /// How many keys have an entry (held or awaited): for tests of the map's growth.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots().len()
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<FlightKey, Slot>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for Flights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys hold user names and e-mail addresses: only their number is shown.
        f.debug_struct("Flights").field("keys", &self.slots().len()).finish()
    }
}

/// A caller's claim on a key's entry; the last one to go removes the entry.
struct Registration {
    flights: Arc<Flights>,
    key: FlightKey,
}

impl Drop for Registration {
    fn drop(&mut self) {
        // The key is taken, not cloned: the entry is found by one hash, and removed through it.
        let key = std::mem::take(&mut self.key);
        let mut slots = self.flights.slots();
        if let Entry::Occupied(mut slot) = slots.entry(key) {
            slot.get_mut().users -= 1;
            if slot.get().users == 0 {
                slot.remove();
            }
        }
    }
}

/// Holds a key until dropped.
pub(crate) struct FlightGuard {
    // Field order matters: the lock is released before the entry is given back.
    _held: OwnedMutexGuard<()>,
    _registration: Registration,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn name(v: &str) -> Lookup {
        Lookup::UserName(v.to_string())
    }

    #[test]
    fn keys_fold_case_for_names_and_addresses_only() {
        assert_eq!(FlightKey::new(&name("Jane.Doe@X.com")), FlightKey::new(&name("jane.doe@x.com")));
        assert_eq!(FlightKey::new(&Lookup::Email("A@B.C".into())), FlightKey::new(&Lookup::Email("a@b.c".into())));
        assert_ne!(FlightKey::new(&name("a@b.c")), FlightKey::new(&Lookup::Email("a@b.c".into())));
        assert_ne!(FlightKey::new(&Lookup::ExternalId("E1".into())), FlightKey::new(&Lookup::ExternalId("e1".into())));
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
            // Waits that give up (a caller's timeout) must not leave their claim behind.
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
}
