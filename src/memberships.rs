//! What a joiner is given and a leaver loses: [`Client`]'s idempotent group operations
//! ([`grant`](Client::grant), [`revoke`](Client::revoke),
//! [`set_memberships`](Client::set_memberships)), their bulk forms, group look-ups, and
//! deprovisioning that revokes memberships ([`DeprovisionPolicy`]).
//!
//! Each operation reads before it writes and sends only the difference, so re-running it is
//! safe and a second run sends no write. A person or group that does not exist is
//! [`Error::Missing`]; a name several groups share is [`Error::Ambiguous`]; a bad name never
//! reaches the wire ([`GroupRef`] checks it when it is built).

use std::collections::VecDeque;
use std::fmt;

use futures_core::Stream;

use crate::bulk::BulkItem;
use crate::client::Client;
use crate::error::{Error, FieldError, Result};
use crate::group::{Group, GroupConnector, GroupKey, GroupKind, GroupRef, NewGroup};
use crate::outcome::DeprovisionOutcome;
use crate::resource::{PageRequest, RemoteUser};
use crate::user::User;

/// What [`Client::grant`], [`Client::revoke`] or [`Client::set_memberships`] changed: exactly
/// the memberships added and removed (both empty when there was nothing to do and nothing was
/// sent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MembershipChange {
    /// Groups the person was added to, in the order they were added.
    pub added: Vec<Group>,
    /// Groups the person was removed from, in the order they were removed.
    pub removed: Vec<Group>,
}

impl MembershipChange {
    /// Whether nothing changed.
    pub fn is_unchanged(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

impl fmt::Display for MembershipChange {
    /// `added: requester group "Sales" (42); removed: none`, or `unchanged`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_unchanged() {
            return f.write_str("unchanged");
        }
        let list = |groups: &[Group]| {
            if groups.is_empty() {
                "none".to_string()
            } else {
                groups.iter().map(Group::to_string).collect::<Vec<_>>().join(", ")
            }
        };
        write!(f, "added: {}; removed: {}", list(&self.added), list(&self.removed))
    }
}

/// What [`Client::deprovision_with`] does beside deactivating.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeprovisionPolicy {
    /// Remove the person from every group they belong to before deactivating them (default
    /// `false`). Freshservice agent roles are kept: an agent needs one, and deactivation ends
    /// them. A connector without groups makes the call fail with
    /// [`Error::Unsupported`] before anything is changed.
    pub revoke_memberships: bool,
}

impl DeprovisionPolicy {
    /// Deactivate and remove every group membership.
    pub fn revoke_memberships() -> Self {
        DeprovisionPolicy { revoke_memberships: true }
    }
}

/// The result of [`Client::deprovision_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Deprovisioned {
    /// What happened to the account.
    pub outcome: DeprovisionOutcome,
    /// The memberships removed (empty unless the policy asked for it).
    pub revoked: Vec<Group>,
}

/// The result of [`Client::create_group`]: the group, and whether this call created it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreatedGroup {
    /// The group as the app holds it.
    pub group: Group,
    /// `false` when a group with the name already existed (then nothing was written).
    pub created: bool,
}

/// How a reference is named in an [`Error::Missing`]: `"Sales"` or `with id 42`.
fn reference(group: &GroupRef) -> String {
    match group.key() {
        GroupKey::Id(id) => format!("with id {id}"),
        GroupKey::Name(name) => format!("{name:?}"),
    }
}

/// Which way [`Client::grant`] and [`Client::revoke`] (and their bulk forms) change one
/// membership: they differ only in this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Add,
    Remove,
}

impl Direction {
    /// The operation's name, as its span records it.
    fn operation(self) -> &'static str {
        match self {
            Direction::Add => "grant",
            Direction::Remove => "revoke",
        }
    }

    /// Whether the person is a member once the change is made.
    fn is_add(self) -> bool {
        self == Direction::Add
    }
}

impl Client {
    /// The connector's groups, or [`Error::Unsupported`] naming it.
    fn group_connector(&self) -> Result<&dyn GroupConnector> {
        self.groups()
    }

    /// A primitive the connector's group implementation does not provide names itself by its
    /// type; name the connector instead, as [`Client::groups`] does.
    fn relabel(&self, error: Error) -> Error {
        match error {
            Error::Unsupported { capability, .. } => Error::unsupported(self.connector().display_name(), capability),
            other => other,
        }
    }

    /// Runs a group operation inside its `operation` span, naming the connector in unsupported
    /// errors.
    async fn group_call<T>(&self, operation: &'static str, work: impl Future<Output = Result<T>>) -> Result<T> {
        self.traced(operation, work).await.map_err(|e| self.relabel(e))
    }

    /// The person `user` identifies (by the connector's match key), or [`Error::Missing`].
    async fn member(&self, user: &User) -> Result<RemoteUser> {
        let key = self.connector().match_key(user)?;
        match self.connector().find_user(self.http(), &key).await? {
            Some(member) => Ok(member),
            None => Err(Error::missing("user", &format!("matching the {}", key.attribute()))),
        }
    }

    /// The group `group` names, of its kind or else the default kind for `member`.
    async fn resolve(
        &self,
        groups: &dyn GroupConnector,
        group: &GroupRef,
        member: Option<&RemoteUser>,
    ) -> Result<Group> {
        let kind = group.kind().unwrap_or_else(|| groups.default_kind(member));
        let scoped = group.clone().of_kind(kind);
        match groups.find_group(self.http(), &scoped).await? {
            Some(found) => Ok(found),
            None => Err(Error::missing(kind.as_str(), &reference(group))),
        }
    }

    /// Finds the group `group` names (for the connector's default user kind when it names no
    /// kind). [`Error::Missing`] when there is none, [`Error::Ambiguous`] when several groups
    /// have the name.
    pub async fn find_group(&self, group: &GroupRef) -> Result<Group> {
        self.group_call("find_group", async {
            let groups = self.group_connector()?;
            groups.check_group_ref(group)?;
            self.resolve(groups, group, None).await
        })
        .await
    }

    /// Every group of `kind` (`None`: the default kind), as a stream read one page of
    /// `page_size` at a time, so memory stays bounded by one page. Group members are never read.
    pub fn list_groups(
        &self,
        kind: Option<GroupKind>,
        page_size: u32,
    ) -> impl Stream<Item = Result<Group>> + Send + '_ {
        struct State {
            next: Option<PageRequest>,
            buffer: VecDeque<Group>,
        }
        let state = State { next: Some(PageRequest::first(page_size.max(1))), buffer: VecDeque::new() };
        futures_util::stream::unfold(state, move |mut state| async move {
            loop {
                if let Some(group) = state.buffer.pop_front() {
                    return Some((Ok(group), state));
                }
                let request = state.next.take()?;
                let page = self
                    .group_call("list_groups", async {
                        self.group_connector()?.list_groups(self.http(), kind, &request).await
                    })
                    .await;
                match page {
                    Ok(page) => {
                        // A repeated token would loop forever: stop after this page instead.
                        let repeated = page.next.is_some() && page.next == request.token;
                        if !page.groups.is_empty() && !repeated {
                            state.next = page.next.map(|token| PageRequest::next(token, request.size));
                        }
                        state.buffer.extend(page.groups);
                    }
                    Err(error) => return Some((Err(error), state)),
                }
            }
        })
    }

    /// Every group `person` belongs to (of every kind the connector reports for them).
    /// [`Error::Missing`] when the person does not exist.
    pub async fn memberships(&self, person: &User) -> Result<Vec<Group>> {
        self.group_call("memberships", async {
            let groups = self.group_connector()?;
            let member = self.member(person).await?;
            groups.memberships(self.http(), &member).await
        })
        .await
    }

    /// Makes `person` a member of `group`, unless they already are (then nothing is written and
    /// the change is empty). [`Error::Missing`] when the person or the group does not exist.
    ///
    /// Runs one at a time with other calls for the same person through this client and its
    /// clones. An add whose outcome is unknown (a timeout, a `5xx`) is checked by reading the
    /// membership before it is sent again, so it is never applied twice.
    pub async fn grant(&self, person: &User, group: &GroupRef) -> Result<MembershipChange> {
        self.change_one(Direction::Add, person, group).await
    }

    /// Removes `person` from `group`, if they are a member (else nothing is written and the
    /// change is empty). [`Error::Missing`] when the person or the group does not exist.
    pub async fn revoke(&self, person: &User, group: &GroupRef) -> Result<MembershipChange> {
        self.change_one(Direction::Remove, person, group).await
    }

    /// [`grant`](Self::grant) or [`revoke`](Self::revoke): one membership, read first, written
    /// only when it is not already as `direction` wants it.
    async fn change_one(&self, direction: Direction, person: &User, group: &GroupRef) -> Result<MembershipChange> {
        self.group_call(direction.operation(), async {
            let groups = self.group_connector()?;
            groups.check_group_ref(group)?;
            let key = self.connector().match_key(person)?;
            let _flight = self.flights().acquire(&key).await;
            let member = self.member(person).await?;
            let target = self.resolve(groups, group, Some(&member)).await?;
            let mut change = MembershipChange::default();
            if groups.is_member(self.http(), &target, &member).await? != direction.is_add() {
                self.confirmed(groups, &target, &member, direction).await?;
                match direction {
                    Direction::Add => change.added.push(target),
                    Direction::Remove => change.removed.push(target),
                }
            }
            Ok(change)
        })
        .await
    }

    /// Makes `person`'s memberships exactly `desired`, for the kinds of group `desired` names
    /// (for an empty `desired`, the person's default kind: Freshservice requester groups for a
    /// requester, agent groups for an agent). Memberships of other kinds are left alone: giving
    /// an agent their agent groups never touches their roles.
    ///
    /// Every group is resolved before anything is written, so an unknown or ambiguous one
    /// changes nothing. Adds run before removes (an agent swapping roles always keeps one). On an
    /// error part of the difference may have been applied; running the call again finishes it.
    pub async fn set_memberships(&self, person: &User, desired: &[GroupRef]) -> Result<MembershipChange> {
        self.group_call("set_memberships", async {
            let groups = self.group_connector()?;
            desired.iter().try_for_each(|group| groups.check_group_ref(group))?;
            let key = self.connector().match_key(person)?;
            let _flight = self.flights().acquire(&key).await;
            let member = self.member(person).await?;
            let holdable = groups.member_kinds(&member);
            let mut wanted: Vec<Group> = Vec::new();
            for group in desired {
                let found = self.resolve(groups, group, Some(&member)).await?;
                if !holdable.contains(&found.kind) {
                    return Err(Error::invalid_input(
                        format!("this user cannot belong to a {}", found.kind),
                        vec![FieldError::new("group", format!("{found} cannot hold this user"))],
                    ));
                }
                if !wanted.iter().any(|w| w.same_as(&found)) {
                    wanted.push(found);
                }
            }
            let mut managed: Vec<GroupKind> = wanted.iter().map(|g| g.kind).collect();
            if managed.is_empty() {
                managed.push(groups.default_kind(Some(&member)));
            }
            let current: Vec<Group> = groups
                .memberships(self.http(), &member)
                .await?
                .into_iter()
                .filter(|g| managed.contains(&g.kind))
                .collect();
            let mut change = MembershipChange::default();
            for group in wanted.iter().filter(|w| !current.iter().any(|c| c.same_as(w))) {
                self.confirmed(groups, group, &member, Direction::Add).await?;
                change.added.push(group.clone());
            }
            for group in current.iter().filter(|c| !wanted.iter().any(|w| w.same_as(c))) {
                self.confirmed(groups, group, &member, Direction::Remove).await?;
                change.removed.push(group.clone());
            }
            Ok(change)
        })
        .await
    }

    /// Creates `group`, unless a group of its kind already has its display name: then that group
    /// is returned with `created: false` and nothing is written (its other attributes are left
    /// as they are). A create whose outcome is unknown (a timeout, a `5xx`) or refused as a
    /// duplicate is settled by looking the name up again, so a retried call never makes two.
    pub async fn create_group(&self, group: &NewGroup) -> Result<CreatedGroup> {
        self.group_call("create_group", async {
            let groups = self.group_connector()?;
            let kind = group.kind().unwrap_or_else(|| groups.default_kind(None));
            let reference = GroupRef::name(group.display_name())?.of_kind(kind);
            groups.check_group_ref(&reference)?;
            let scoped = group.clone().of_kind(kind);
            if let Some(existing) = groups.find_group(self.http(), &reference).await? {
                return Ok(CreatedGroup { group: existing, created: false });
            }
            match groups.create_group(self.http(), &scoped).await {
                Ok(created) => Ok(CreatedGroup { group: created, created: true }),
                Err(error) if error.is_conflict() || error.outcome_unknown() => {
                    match groups.find_group(self.http(), &reference).await? {
                        Some(found) => Ok(CreatedGroup { group: found, created: !error.is_conflict() }),
                        None => Err(error),
                    }
                }
                Err(error) => Err(error),
            }
        })
        .await
    }

    /// Deletes the group `group` names, and returns it; `Ok(None)` (nothing sent) when there is
    /// no such group. Never called by any other operation: deleting a group is always explicit.
    pub async fn delete_group(&self, group: &GroupRef) -> Result<Option<Group>> {
        self.group_call("delete_group", async {
            let groups = self.group_connector()?;
            groups.check_group_ref(group)?;
            let kind = group.kind().unwrap_or_else(|| groups.default_kind(None));
            let Some(found) = groups.find_group(self.http(), &group.clone().of_kind(kind)).await? else {
                return Ok(None);
            };
            groups.delete_group(self.http(), &found).await?;
            Ok(Some(found))
        })
        .await
    }

    /// Makes the members of `group` exactly `people`, in one write that replaces the whole member
    /// list: everyone else is removed. Use it only to take a group over wholesale; to give or
    /// take one person's access use [`grant`](Self::grant), [`revoke`](Self::revoke) or
    /// [`set_memberships`](Self::set_memberships), which never touch other members.
    ///
    /// Every person and the group are looked up first: one that does not exist is
    /// [`Error::Missing`] and nothing is written.
    pub async fn replace_members(&self, group: &GroupRef, people: &[User]) -> Result<Group> {
        self.group_call("replace_members", async {
            let groups = self.group_connector()?;
            groups.check_group_ref(group)?;
            let mut members: Vec<RemoteUser> = Vec::with_capacity(people.len());
            for person in people {
                let member = self.member(person).await?;
                if !members.iter().any(|m| m.id == member.id) {
                    members.push(member);
                }
            }
            let target = self.resolve(groups, group, None).await?;
            groups.replace_members(self.http(), &target, &members).await?;
            Ok(target)
        })
        .await
    }

    /// [`deprovision`](Self::deprovision) with a policy: with
    /// [`revoke_memberships`](DeprovisionPolicy::revoke_memberships), the person is first removed
    /// from every group (agent roles excepted), then deactivated. Safe to re-run; a person who
    /// does not exist is [`DeprovisionOutcome::AlreadyGone`] with nothing revoked.
    pub async fn deprovision_with(&self, person: &User, policy: DeprovisionPolicy) -> Result<Deprovisioned> {
        let mut revoked = Vec::new();
        if policy.revoke_memberships {
            revoked = self
                .group_call("revoke_memberships", async {
                    let groups = self.group_connector()?;
                    let key = self.connector().match_key(person)?;
                    let _flight = self.flights().acquire(&key).await;
                    let Some(member) = self.connector().find_user(self.http(), &key).await? else {
                        return Ok(Vec::new());
                    };
                    let mut revoked = Vec::new();
                    for group in groups.memberships(self.http(), &member).await? {
                        if group.kind != GroupKind::AgentRole {
                            self.confirmed(groups, &group, &member, Direction::Remove).await?;
                            revoked.push(group);
                        }
                    }
                    Ok(revoked)
                })
                .await?;
        }
        let outcome = self.deprovision(person).await?;
        Ok(Deprovisioned { outcome, revoked })
    }

    /// Adds or removes (per `direction`), and when the outcome is unknown, reads the membership
    /// before sending again, so a write is never applied twice.
    async fn confirmed(
        &self,
        groups: &dyn GroupConnector,
        group: &Group,
        member: &RemoteUser,
        direction: Direction,
    ) -> Result<()> {
        let retry = self.http().retry_policy();
        let mut attempt = 1;
        loop {
            let sent = match direction {
                Direction::Add => groups.add_member(self.http(), group, member).await,
                Direction::Remove => groups.remove_member(self.http(), group, member).await,
            };
            let error = match sent {
                Ok(()) => return Ok(()),
                Err(e) if e.outcome_unknown() => e,
                Err(e) => return Err(e),
            };
            // The write may have been applied: the membership as it now is decides.
            if groups.is_member(self.http(), group, member).await? == direction.is_add() {
                return Ok(());
            }
            if attempt >= retry.max_attempts() {
                return Err(error);
            }
            tokio::time::sleep(error.retry_after().unwrap_or_else(|| retry.backoff(attempt)).min(retry.max_delay()))
                .await;
            attempt += 1;
        }
    }

    /// [`set_memberships`](Self::set_memberships) for many people, up to the client's in-flight
    /// cap at a time, yielding one [`BulkItem`] per person as each finishes (not in input order).
    /// One person's failure does not stop the others.
    pub fn set_memberships_all<'a, I>(&'a self, people: I) -> impl Stream<Item = BulkItem<MembershipChange>> + Send + 'a
    where
        I: IntoIterator<Item = (User, Vec<GroupRef>)>,
        I::IntoIter: Send + 'a,
    {
        self.bounded(futures_util::stream::iter(people), move |index, (user, desired)| async move {
            let result = self.set_memberships(&user, &desired).await;
            BulkItem { index, user, result }
        })
    }

    /// [`grant`](Self::grant) `group` to many people, like
    /// [`set_memberships_all`](Self::set_memberships_all).
    pub fn grant_all<'a, I>(
        &'a self,
        people: I,
        group: &'a GroupRef,
    ) -> impl Stream<Item = BulkItem<MembershipChange>> + Send + 'a
    where
        I: IntoIterator<Item = User>,
        I::IntoIter: Send + 'a,
    {
        self.change_all(Direction::Add, people, group)
    }

    /// [`revoke`](Self::revoke) `group` from many people, like
    /// [`set_memberships_all`](Self::set_memberships_all).
    pub fn revoke_all<'a, I>(
        &'a self,
        people: I,
        group: &'a GroupRef,
    ) -> impl Stream<Item = BulkItem<MembershipChange>> + Send + 'a
    where
        I: IntoIterator<Item = User>,
        I::IntoIter: Send + 'a,
    {
        self.change_all(Direction::Remove, people, group)
    }

    /// [`grant_all`](Self::grant_all) or [`revoke_all`](Self::revoke_all).
    fn change_all<'a, I>(
        &'a self,
        direction: Direction,
        people: I,
        group: &'a GroupRef,
    ) -> impl Stream<Item = BulkItem<MembershipChange>> + Send + 'a
    where
        I: IntoIterator<Item = User>,
        I::IntoIter: Send + 'a,
    {
        self.bounded(futures_util::stream::iter(people), move |index, user| async move {
            let result = self.change_one(direction, &user, group).await;
            BulkItem { index, user, result }
        })
    }
}
