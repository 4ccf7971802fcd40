//! The department and location lists, fetched on first use per connector and cached; an unknown
//! name re-reads a list once it is older than the cache's time to live.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::wire::{self, NameSource, NamedEntry};
use crate::error::{DecodeError, Error, FieldError, Result};
use crate::http::{Http, Request};

/// A bound on the pages one list may take, so a server that keeps linking to further pages cannot
/// keep the client busy forever (100 000 entries at 100 per page).
const MAX_PAGES: u32 = 1000;

/// Every department or location: ids and names.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    entries: Vec<NamedEntry>,
}

impl Directory {
    /// The id of the entry called `name`: an exact match, else a case-insensitive one. An unknown
    /// name is a validation error naming it (`what`: `department`, `location`).
    pub(crate) fn resolve(&self, what: &str, name: &str) -> Result<u64> {
        let name = name.trim();
        let exact = self.entries.iter().find(|e| e.name == name);
        let found = exact.or_else(|| self.entries.iter().find(|e| e.name.to_lowercase() == name.to_lowercase()));
        found.map(|e| e.id).ok_or_else(|| {
            Error::invalid_input(
                format!("the {what} `{name}` does not exist in Freshservice; create it there or correct the name"),
                vec![FieldError::new(what, format!("unknown {what} `{name}`"))],
            )
        })
    }

    /// The name of entry `id`.
    pub(crate) fn name_of(&self, id: u64) -> Option<&str> {
        self.entries.iter().find(|e| e.id == id).map(|e| e.name.as_str())
    }
}

/// How long a list is trusted before an unknown name makes the connector read it again.
pub(crate) const DEFAULT_NAME_CACHE_TTL: Duration = Duration::from_secs(60);

/// One cached list. Reads never wait for a refresh: they use the list in hand while one task (the
/// holder of `refreshing`) reads a new one. Only the very first use waits for a fetch.
#[derive(Debug)]
struct CachedList {
    segment: &'static str,
    template: &'static str,
    current: std::sync::Mutex<Option<(Arc<Directory>, Instant)>>,
    refreshing: Mutex<()>,
}

impl CachedList {
    fn new(segment: &'static str, template: &'static str) -> Self {
        CachedList { segment, template, current: std::sync::Mutex::new(None), refreshing: Mutex::new(()) }
    }

    fn current(&self) -> Option<(Arc<Directory>, Instant)> {
        // Plain data, valid after any panic elsewhere; never held across an await.
        self.current.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Reads the list and makes it current.
    async fn fetch_now(&self, http: &Http) -> Result<Arc<Directory>> {
        let directory = Arc::new(fetch(http, self.segment, self.template).await?);
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some((directory.clone(), Instant::now()));
        Ok(directory)
    }

    /// The list, read on first use.
    async fn get(&self, http: &Http) -> Result<Arc<Directory>> {
        if let Some((directory, _)) = self.current() {
            return Ok(directory);
        }
        let _gate = self.refreshing.lock().await;
        match self.current() {
            Some((directory, _)) => Ok(directory),
            None => self.fetch_now(http).await,
        }
    }

    /// The id of `name`; when it is unknown and the list is older than `ttl`, the list is read
    /// again once (someone may have just created the department).
    async fn resolve(&self, http: &Http, ttl: Duration, what: &str, name: &str) -> Result<u64> {
        let seen = self.get(http).await?;
        let unknown = match seen.resolve(what, name) {
            Ok(id) => return Ok(id),
            Err(error) => error,
        };
        let _gate = self.refreshing.lock().await;
        // Another task may have refreshed while this one waited: look in that list first.
        if let Some((latest, read_at)) = self.current() {
            if !Arc::ptr_eq(&latest, &seen) {
                return latest.resolve(what, name);
            }
            if read_at.elapsed() < ttl {
                return Err(unknown);
            }
        }
        self.fetch_now(http).await?.resolve(what, name)
    }
}

/// The two lists.
#[derive(Debug)]
pub(crate) struct NameCache {
    departments: CachedList,
    locations: CachedList,
    ttl: Duration,
}

impl Default for NameCache {
    fn default() -> Self {
        NameCache {
            departments: CachedList::new("departments", "/departments"),
            locations: CachedList::new("locations", "/locations"),
            ttl: DEFAULT_NAME_CACHE_TTL,
        }
    }
}

impl NameCache {
    pub(crate) fn with_ttl(ttl: Duration) -> Self {
        NameCache { ttl, ..NameCache::default() }
    }

    pub(crate) async fn departments(&self, http: &Http) -> Result<Arc<Directory>> {
        self.departments.get(http).await
    }

    pub(crate) async fn locations(&self, http: &Http) -> Result<Arc<Directory>> {
        self.locations.get(http).await
    }

    pub(crate) async fn department_id(&self, http: &Http, name: &str) -> Result<u64> {
        self.departments.resolve(http, self.ttl, "department", name).await
    }

    pub(crate) async fn location_id(&self, http: &Http, name: &str) -> Result<u64> {
        self.locations.resolve(http, self.ttl, "location", name).await
    }
}

/// Reads every page of `/departments` or `/locations`, following the `Link` header.
async fn fetch(http: &Http, segment: &'static str, template: &'static str) -> Result<Directory> {
    let mut entries = Vec::new();
    let mut page = 1;
    loop {
        let mut url = http.endpoint(&[segment])?;
        url.query_pairs_mut().append_pair("per_page", "100").append_pair("page", &page.to_string());
        let response = http.send(Request::get(url.clone(), template)).await?;
        let singular = segment.trim_end_matches('s');
        entries.extend(wire::named_entries(wire::many(&response, segment, singular)?));
        match wire::next_page(&response, &url, page)? {
            Some(next) if next <= MAX_PAGES => page = next,
            Some(_) => {
                let message = format!("the {segment} list links to more than {MAX_PAGES} pages");
                return Err(DecodeError::new(Some(response.status()), message, &[]).into());
            }
            None => return Ok(Directory { entries }),
        }
    }
}

/// The lists a record's ids were resolved against (`None`: not needed, not loaded).
pub(crate) struct Loaded<'a> {
    pub(crate) departments: Option<&'a Directory>,
    pub(crate) locations: Option<&'a Directory>,
}

impl NameSource for Loaded<'_> {
    fn department(&self, id: u64) -> Option<&str> {
        self.departments?.name_of(id)
    }

    fn location(&self, id: u64) -> Option<&str> {
        self.locations?.name_of(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> Directory {
        let entry = |id, name: &str| NamedEntry { id, name: name.to_string() };
        Directory { entries: vec![entry(1, "IT"), entry(2, "it"), entry(3, "Human Resources")] }
    }

    #[test]
    fn resolves_exact_names_first_then_case_insensitively() {
        let d = directory();
        assert_eq!(d.resolve("department", "it").unwrap(), 2);
        assert_eq!(d.resolve("department", "IT").unwrap(), 1);
        assert_eq!(d.resolve("department", " human resources ").unwrap(), 3);
        assert_eq!(d.name_of(3), Some("Human Resources"));
        assert_eq!(d.name_of(4), None);
    }

    #[test]
    fn an_unknown_name_is_a_local_validation_error_naming_it() {
        let error = directory().resolve("location", "Atlantis").unwrap_err();
        assert_eq!(
            error.to_string(),
            "validation failed before sending (nothing was sent): the location `Atlantis` does not exist in \
             Freshservice; create it there or correct the name; location: unknown location `Atlantis`"
        );
    }
}
