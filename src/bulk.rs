//! Bulk lifecycle runs: many people at a bounded concurrency, one result each, and a summary.

use std::fmt;

use futures_core::Stream;
use futures_util::StreamExt as _;

use crate::client::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::outcome::{DeprovisionOutcome, ProvisionOutcome, Provisioned};
use crate::user::User;

/// The result of one person in a bulk run.
#[derive(Debug)]
#[non_exhaustive]
pub struct BulkItem<T> {
    /// The person's position in the input, from 0.
    pub index: usize,
    /// The person, as given.
    pub user: User,
    /// What happened to them.
    pub result: Result<T>,
}

/// One person a bulk run could not process.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BulkFailure {
    /// The person's position in the input, from 0.
    pub index: usize,
    /// Their external id (the HR system's id), if they had one: a way to name them that is not an
    /// e-mail address, so a summary can be logged.
    pub external_id: Option<String>,
    /// How the error is classified.
    pub kind: ErrorKind,
    /// The error's message (its `Display`).
    pub message: String,
}

/// Counts of what a bulk run did, and the failures with their reasons.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BulkSummary {
    /// People processed.
    pub total: usize,
    /// Provisioning: created by this run, including those in
    /// [`created_confirmed`](Self::created_confirmed). With `linked`, `updated`, `reactivated` and
    /// the failures, it adds up to `total` for a provisioning run.
    pub created: usize,
    /// Provisioning: of [`created`](Self::created), those whose create answer was lost and whom a
    /// look-up then found ([`ProvisionOutcome::CreatedConfirmed`]).
    pub created_confirmed: usize,
    /// Provisioning: already existed, linked.
    pub linked: usize,
    /// Provisioning: already existed, updated.
    pub updated: usize,
    /// Provisioning: was inactive, reactivated.
    pub reactivated: usize,
    /// Deprovisioning: deactivated.
    pub deactivated: usize,
    /// Deprovisioning: already inactive.
    pub already_inactive: usize,
    /// Deprovisioning: already gone.
    pub already_gone: usize,
    /// Deleted.
    pub deleted: usize,
    /// Failures, in input order once the run is complete.
    pub failed: Vec<BulkFailure>,
}

impl BulkSummary {
    /// Counts one provisioning result.
    pub fn record_provisioned(&mut self, item: &BulkItem<Provisioned>) {
        self.total += 1;
        match &item.result {
            Ok(p) => match p.outcome {
                ProvisionOutcome::Created => self.created += 1,
                ProvisionOutcome::CreatedConfirmed => {
                    self.created += 1;
                    self.created_confirmed += 1;
                }
                ProvisionOutcome::Linked => self.linked += 1,
                ProvisionOutcome::Updated => self.updated += 1,
                ProvisionOutcome::Reactivated => self.reactivated += 1,
            },
            Err(e) => self.record_failure(item.index, &item.user, e),
        }
    }

    /// Counts one deprovisioning result.
    pub fn record_deprovisioned(&mut self, item: &BulkItem<DeprovisionOutcome>) {
        self.total += 1;
        match &item.result {
            Ok(DeprovisionOutcome::Deactivated) => self.deactivated += 1,
            Ok(DeprovisionOutcome::AlreadyInactive) => self.already_inactive += 1,
            Ok(DeprovisionOutcome::AlreadyGone) => self.already_gone += 1,
            Ok(DeprovisionOutcome::Deleted) => self.deleted += 1,
            Err(e) => self.record_failure(item.index, &item.user, e),
        }
    }

    fn record_failure(&mut self, index: usize, user: &User, error: &Error) {
        let failure = BulkFailure {
            index,
            external_id: user.external_id.clone(),
            kind: error.kind(),
            message: error.to_string(),
        };
        let at = self.failed.partition_point(|f| f.index < index);
        self.failed.insert(at, failure);
    }

    /// Whether every person succeeded.
    pub fn all_succeeded(&self) -> bool {
        self.failed.is_empty()
    }
}

impl fmt::Display for BulkSummary {
    /// A small table, for a terminal. The indented "by look-up" row is the part of "created"
    /// confirmed by a look-up, not an outcome of its own.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows = [
            ("created", self.created),
            ("  by look-up", self.created_confirmed),
            ("linked", self.linked),
            ("updated", self.updated),
            ("reactivated", self.reactivated),
            ("deactivated", self.deactivated),
            ("already inactive", self.already_inactive),
            ("already gone", self.already_gone),
            ("deleted", self.deleted),
            ("failed", self.failed.len()),
        ];
        writeln!(f, "{:<18}{:>8}", "outcome", "people")?;
        for (label, count) in rows.iter().filter(|(_, n)| *n > 0) {
            writeln!(f, "{label:<18}{count:>8}")?;
        }
        write!(f, "{:<18}{:>8}", "total", self.total)?;
        for failure in &self.failed {
            match &failure.external_id {
                Some(id) => write!(f, "\n  #{} ({id}): {}", failure.index, failure.message)?,
                None => write!(f, "\n  #{}: {}", failure.index, failure.message)?,
            }
        }
        Ok(())
    }
}

impl Client {
    /// Provisions every user of `users`, up to the client's in-flight cap at a time, yielding one
    /// [`BulkItem`] per user as each finishes (not in input order). One person's failure does not
    /// stop the others. Feed the items to [`BulkSummary::record_provisioned`] for a summary.
    ///
    /// ```no_run
    /// # use identity_connectors::{BulkSummary, Client, User};
    /// # use futures_util::StreamExt;
    /// # async fn run(client: Client, people: Vec<User>) {
    /// let mut summary = BulkSummary::default();
    /// let mut results = std::pin::pin!(client.provision_all(people));
    /// while let Some(item) = results.next().await {
    ///     summary.record_provisioned(&item);
    /// }
    /// println!("{summary}");
    /// # }
    /// ```
    pub fn provision_all<'a, I>(&'a self, users: I) -> impl Stream<Item = BulkItem<Provisioned>> + Send + 'a
    where
        I: IntoIterator<Item = User>,
        I::IntoIter: Send + 'a,
    {
        self.provision_stream(futures_util::stream::iter(users))
    }

    /// [`provision_all`](Self::provision_all) for users arriving as a stream (read lazily, so an
    /// input of any size needs memory only for the people in flight).
    pub fn provision_stream<'a, S>(&'a self, users: S) -> impl Stream<Item = BulkItem<Provisioned>> + Send + 'a
    where
        S: Stream<Item = User> + Send + 'a,
    {
        self.bounded(users, move |index, user| async move {
            let result = self.provision(&user).await;
            BulkItem { index, user, result }
        })
    }

    /// Deprovisions (deactivates) every user of `users` that exists and is active, like
    /// [`provision_all`](Self::provision_all).
    pub fn deprovision_all<'a, I>(&'a self, users: I) -> impl Stream<Item = BulkItem<DeprovisionOutcome>> + Send + 'a
    where
        I: IntoIterator<Item = User>,
        I::IntoIter: Send + 'a,
    {
        self.deprovision_stream(futures_util::stream::iter(users))
    }

    /// [`deprovision_all`](Self::deprovision_all) for users arriving as a stream.
    pub fn deprovision_stream<'a, S>(&'a self, users: S) -> impl Stream<Item = BulkItem<DeprovisionOutcome>> + Send + 'a
    where
        S: Stream<Item = User> + Send + 'a,
    {
        self.bounded(users, move |index, user| async move {
            let result = self.deprovision(&user).await;
            BulkItem { index, user, result }
        })
    }

    /// Runs `work(index, item)` for every item of `items`, at most the client's in-flight cap
    /// ([`ClientBuilder::max_in_flight`](crate::ClientBuilder::max_in_flight)) at a time, yielding
    /// each output as it finishes (not in input order). Items are read lazily, so memory holds
    /// only the work in flight. Every bulk and reconciliation run goes through here, so they all
    /// honour the same cap.
    pub(crate) fn bounded<'a, T, F, Fut>(
        &self,
        items: impl Stream<Item = T> + Send + 'a,
        mut work: F,
    ) -> impl Stream<Item = Fut::Output> + Send + 'a
    where
        T: Send + 'a,
        F: FnMut(usize, T) -> Fut + Send + 'a,
        Fut: Future + Send + 'a,
        Fut::Output: Send + 'a,
    {
        items.enumerate().map(move |(index, item)| work(index, item)).buffer_unordered(self.http().max_in_flight())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use crate::resource::{RemoteUser, UserId};

    #[test]
    fn summary_counts_and_orders_failures() {
        let ok = |index, outcome| BulkItem {
            index,
            user: User::builder(format!("u{index}")).build(),
            result: Ok(Provisioned::new(outcome, RemoteUser::new(UserId::new("1"), User::default()))),
        };
        let failed = |index| BulkItem::<Provisioned> {
            index,
            user: User::builder(format!("u{index}")).external_id(format!("E{index}")).build(),
            result: Err(Error::from_response(ApiError::new(400, "bad"), None)),
        };
        let mut summary = BulkSummary::default();
        for item in [ok(0, ProvisionOutcome::Created), failed(5), ok(1, ProvisionOutcome::Linked), failed(2)] {
            summary.record_provisioned(&item);
        }
        assert_eq!((summary.total, summary.created, summary.created_confirmed, summary.linked), (4, 1, 0, 1));
        assert_eq!(summary.failed.iter().map(|f| f.index).collect::<Vec<_>>(), [2, 5]);
        assert_eq!(
            summary.to_string(),
            "outcome             people\ncreated                  1\nlinked                   1\nfailed                   2\ntotal                    4\n  #2 (E2): Validation failed (HTTP 400): bad\n  #5 (E5): Validation failed (HTTP 400): bad"
        );
        assert!(!summary.all_succeeded());
    }

    #[tokio::test]
    async fn bounded_runs_every_item_once_with_its_index_and_never_more_than_the_cap_at_a_time() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let scim = crate::ScimBearer::for_loopback("http://127.0.0.1:9/scim/v2", "token").expect("a connector");
        let client = Client::builder(scim).max_in_flight(3).build().expect("a client");
        let (running, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let items = futures_util::stream::iter((0..20).map(|i| i * 10));
        let outputs = client.bounded(items, |index, item| {
            let (running, most) = (&running, &most);
            async move {
                most.fetch_max(running.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
                running.fetch_sub(1, Ordering::SeqCst);
                (index, item)
            }
        });
        let mut seen: Vec<(usize, usize)> = outputs.collect().await;
        seen.sort_unstable();
        assert_eq!(seen, (0..20).map(|i| (i, i * 10)).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), 3, "up to the cap, and no further");
    }

    #[test]
    fn a_create_confirmed_by_look_up_counts_as_created() {
        let ok = |index, outcome| BulkItem {
            index,
            user: User::builder(format!("u{index}")).build(),
            result: Ok(Provisioned::new(outcome, RemoteUser::new(UserId::new("1"), User::default()))),
        };
        let mut summary = BulkSummary::default();
        let outcomes = [ProvisionOutcome::Created, ProvisionOutcome::CreatedConfirmed, ProvisionOutcome::Linked];
        for (index, outcome) in outcomes.into_iter().enumerate() {
            summary.record_provisioned(&ok(index, outcome));
        }
        assert_eq!((summary.total, summary.created, summary.created_confirmed, summary.linked), (3, 2, 1, 1));
        assert_eq!(
            summary.to_string(),
            "outcome             people\ncreated                  2\n  by look-up             1\nlinked                   1\ntotal                    3"
        );
    }
}
