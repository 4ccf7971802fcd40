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

    /// The id of the one entry called `name`: the exact matches, else the case-insensitive ones.
    /// `Ok(None)` when there is none; [`Error::Ambiguous`] (naming `what`) when several match.
    pub(crate) fn resolve_unique(&self, what: &'static str, name: &str) -> Result<Option<u64>> {
        let name = name.trim();
        let mut found: Vec<u64> = self.entries.iter().filter(|e| e.name == name).map(|e| e.id).collect();
        if found.is_empty() {
            let lower = name.to_lowercase();
            found = self.entries.iter().filter(|e| e.name.to_lowercase() == lower).map(|e| e.id).collect();
        }
        match found.as_slice() {
            [] => Ok(None),
            [id] => Ok(Some(*id)),
            _ => Err(Error::Ambiguous { attribute: what, matches: found.len() }),
        }
    }

    /// Every entry, in the order the API listed them.
    pub(crate) fn entries(&self) -> &[NamedEntry] {
        &self.entries
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
        let found = self.resolve_with(http, ttl, |d| Ok(d.resolve(what, name).ok())).await?;
        match found {
            Some(id) => Ok(id),
            None => self.get(http).await?.resolve(what, name),
        }
    }

    /// What `look` finds in the list; when it finds nothing (`Ok(None)`) and the list is older
    /// than `ttl`, the list is read again once and `look` asked again.
    async fn resolve_with<T>(
        &self,
        http: &Http,
        ttl: Duration,
        look: impl Fn(&Directory) -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        let seen = self.get(http).await?;
        if let Some(found) = look(&seen)? {
            return Ok(Some(found));
        }
        let _gate = self.refreshing.lock().await;
        // Another task may have refreshed while this one waited: look in that list first.
        if let Some((latest, read_at)) = self.current() {
            if !Arc::ptr_eq(&latest, &seen) {
                return look(&latest);
            }
            if read_at.elapsed() < ttl {
                return Ok(None);
            }
        }
        let fresh = self.fetch_now(http).await?;
        look(&fresh)
    }
}

/// The cached lists: departments and locations for user fields; requester groups, agent groups
/// and roles for memberships.
#[derive(Debug)]
pub(crate) struct NameCache {
    departments: CachedList,
    locations: CachedList,
    requester_groups: CachedList,
    agent_groups: CachedList,
    roles: CachedList,
    ttl: Duration,
}

impl Default for NameCache {
    fn default() -> Self {
        NameCache {
            departments: CachedList::new("departments", "/departments"),
            locations: CachedList::new("locations", "/locations"),
            requester_groups: CachedList::new("requester_groups", "/requester_groups"),
            agent_groups: CachedList::new("groups", "/groups"),
            roles: CachedList::new("roles", "/roles"),
            ttl: DEFAULT_NAME_CACHE_TTL,
        }
    }
}

/// Which group-like list a look-up reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupList {
    /// `/requester_groups`.
    RequesterGroups,
    /// `/groups`.
    AgentGroups,
    /// `/roles`.
    Roles,
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

    fn group_list(&self, list: GroupList) -> &CachedList {
        match list {
            GroupList::RequesterGroups => &self.requester_groups,
            GroupList::AgentGroups => &self.agent_groups,
            GroupList::Roles => &self.roles,
        }
    }

    /// The whole list, read on first use.
    pub(crate) async fn groups(&self, http: &Http, list: GroupList) -> Result<Arc<Directory>> {
        self.group_list(list).get(http).await
    }

    /// The id of the one entry called `name` (`what` names the attribute in an ambiguity error);
    /// `Ok(None)` when none is, even after re-reading a list older than the cache's time to live.
    pub(crate) async fn group_id(
        &self,
        http: &Http,
        list: GroupList,
        what: &'static str,
        name: &str,
    ) -> Result<Option<u64>> {
        self.group_list(list).resolve_with(http, self.ttl, |d| d.resolve_unique(what, name)).await
    }

    /// The name of entry `id`, re-reading a list older than the time to live when it is unknown
    /// (`Ok(None)`: no such entry).
    pub(crate) async fn group_name(&self, http: &Http, list: GroupList, id: u64) -> Result<Option<String>> {
        self.group_list(list).resolve_with(http, self.ttl, |d| Ok(d.name_of(id).map(str::to_string))).await
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
            "Validation failed before sending (nothing was sent): the location `Atlantis` does not exist in \
             Freshservice; create it there or correct the name; location: unknown location `Atlantis`"
        );
    }
}
