//! Look-ups that hold on servers that do not filter, ignore the filter, or compare `userName`
//! case-sensitively.
//!
//! The rules, in order:
//!
//! 1. When discovery says `filter.supported: false`, every page of `GET /Users` is read (pages of
//!    [`SCAN_PAGE_SIZE`](super::core::SCAN_PAGE_SIZE)) and matched locally, exactly as a filter
//!    would (user names and e-mail addresses ignoring ASCII case, `externalId` exactly).
//! 2. Otherwise the server filters (`userName eq "…"`). If its answer holds any user that does not
//!    match, the server ignored the filter, and every page is read as in 1.
//! 3. Reading every page stops at the connector's page limit
//!    ([`ScimBearer::with_scan_limit`](crate::ScimBearer::with_scan_limit)); a look-up that stops
//!    there is [`Error::LookupIncomplete`], never "not found". "Not found" means every page was seen.
//! 4. Case: SCIM compares `userName` case-insensitively, but some servers do not. When a
//!    `userName` look-up finds nobody and the name has upper-case letters, it is asked again in
//!    lower case (the form directories store most often), and the answer is verified locally,
//!    ignoring case. So deprovisioning `CASEY-X` finds `casey-x`. When that finds nobody either
//!    and discovery says `userName` is `caseExact: true`, every page is read as in 1, so a name
//!    stored in another mixed case (`Casey-X`) is found too. On a case-sensitive server that does
//!    not say so (no discovery), a name stored in mixed case is found only under its own case.
//! 5. Before a create that a sync plan decided on (it listed every account, and this person was
//!    not among them), only the filter of 2 is asked, its answer matched locally: no page is read
//!    again and no lower-case variant asked; on a server that cannot filter nothing is sent. A
//!    conflict on the create still runs the full look-up.

use crate::error::{Error, Result};
use crate::http::Http;
use crate::resource::{Lookup, PageRequest, RemoteUser};
use crate::scim::core::{SCAN_PAGE_SIZE, ScimCore};
use crate::scim::discovery::ServerCapabilities;
use crate::scim::ops::{self, lookup_filter, lookup_matches, pick, pick_index};

impl ScimCore {
    /// The one user `lookup` identifies (see the module documentation).
    pub(crate) async fn find(&self, http: &Http, lookup: &Lookup) -> Result<Option<RemoteUser>> {
        let filter = lookup_filter(lookup)?;
        let capabilities = self.capabilities(http).await;
        if capabilities.filter == Some(false) {
            return self.scan(http, lookup).await;
        }
        let mut answer = ops::search_users(http, &filter).await?;
        if answer.iter().any(|user| !lookup_matches(lookup, &user.user)) {
            tracing::info!("the server answered a filter with users that do not match it; reading every page");
            return self.scan(http, lookup).await;
        }
        if let Some(index) = pick_index(lookup, &answer)? {
            return Ok(Some(self.take_lifted(&mut answer, index)));
        }
        match lookup {
            // Boxed: taken only when nobody has the name as given; its second filter's state
            // would otherwise be part of this future, which every look-up allocates.
            Lookup::UserName(name) => Box::pin(self.find_other_case(http, lookup, name, &capabilities)).await,
            _ => Ok(None),
        }
    }

    /// Rule 4 of the module documentation: `name` (of `lookup`), found by nobody as given, asked
    /// again in lower case, then read from every page on a server that compares it case-exactly.
    async fn find_other_case(
        &self,
        http: &Http,
        lookup: &Lookup,
        name: &str,
        capabilities: &ServerCapabilities,
    ) -> Result<Option<RemoteUser>> {
        let lower = name.to_lowercase();
        if lower != *name {
            let variant = Lookup::UserName(lower.clone());
            let mut answer = ops::search_users(http, &lookup_filter(&variant)?).await?;
            if answer.iter().any(|user| !lookup_matches(lookup, &user.user)) {
                return self.scan(http, lookup).await;
            }
            if let Some(index) = pick_index(lookup, &answer)? {
                return Ok(Some(self.take_lifted(&mut answer, index)));
            }
        }
        if capabilities.user_name_case_exact == Some(true) && lower != name.to_uppercase() {
            // A case-sensitive server may hold the name in any other case (`Casey-X`): only
            // every page, matched ignoring case, can say nobody has it.
            tracing::info!("no exact match on a server whose userName is caseExact; reading every page");
            return self.scan(http, lookup).await;
        }
        Ok(None)
    }

    /// The look-up before a create a sync plan decided on from its listing of every account: one
    /// filter, whose answer is matched locally, and nothing that only reads every page again
    /// (the plan's listing did). On a server that cannot filter nothing is sent: the create goes
    /// out, and a conflict is resolved by the full [`find`](Self::find) that provisioning runs.
    pub(crate) async fn find_planned(&self, http: &Http, lookup: &Lookup) -> Result<Option<RemoteUser>> {
        let filter = lookup_filter(lookup)?;
        if self.capabilities(http).await.filter == Some(false) {
            return Ok(None);
        }
        // `pick` matches the answer locally: from a server that ignored the filter, the one asked
        // for is among the others or was not there when the plan listed everyone.
        let answer = ops::search_users(http, &filter).await?;
        Ok(pick(lookup, answer)?.map(|user| self.lift(user)))
    }

    /// Reads every page, at most [`scan_limit`](ScimCore::scan_limit) of them, and matches locally.
    async fn scan(&self, http: &Http, lookup: &Lookup) -> Result<Option<RemoteUser>> {
        // Boxed: taken only on servers that do not filter, its state would otherwise make every
        // look-up's future as large as its own.
        Box::pin(self.scan_pages(http, lookup)).await
    }

    async fn scan_pages(&self, http: &Http, lookup: &Lookup) -> Result<Option<RemoteUser>> {
        let mut hits = Vec::new();
        let mut request = PageRequest::first(SCAN_PAGE_SIZE);
        let mut pages = 0u32;
        let mut previous_first = None;
        loop {
            if pages >= self.scan_limit {
                return Err(Error::LookupIncomplete { attribute: lookup.attribute(), pages });
            }
            let page = ops::list_users(http, &request).await?;
            pages += 1;
            let first = page.users.first().map(|u| u.id.clone());
            if first.is_some() && first == previous_first {
                // The server ignores paging and answered the same page again: it has no more to
                // show unless it said it has more than one page's worth.
                if page.total.is_none_or(|total| total > page.users.len() as u64) {
                    return Err(Error::LookupIncomplete { attribute: lookup.attribute(), pages });
                }
                break;
            }
            previous_first = first;
            hits.extend(page.users.into_iter().filter(|user| lookup_matches(lookup, &user.user)));
            match page.next {
                Some(token) => request = PageRequest::next(token, SCAN_PAGE_SIZE),
                None => break,
            }
        }
        Ok(pick(lookup, hits)?.map(|user| self.lift(user)))
    }
}
