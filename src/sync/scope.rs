//! Which app accounts reconciliation owns ([`ManagedScope`]), and the brake on mass deactivation
//! ([`Brake`], [`BrakeEngaged`]).

use std::fmt;
use std::sync::Arc;

use crate::resource::RemoteUser;

type Predicate = dyn Fn(&RemoteUser) -> bool + Send + Sync;

/// The app accounts reconciliation owns: only these are ever deactivated, so administrators,
/// service accounts and anyone else HR does not know are never touched when they are missing from
/// the HR export.
///
/// The scope decides what happens to accounts *no desired person matches*: inside it they are
/// deactivated (brake permitting), outside it they are left alone and only counted. An account a
/// desired person matches (by the connector's match key or `externalId`) is updated or reactivated
/// whatever the scope, as provisioning would; a person HR marks inactive is deactivated only when
/// their account is inside the scope (otherwise the plan reports a conflict).
///
/// The default, [`with_external_id`](Self::with_external_id), owns the accounts that carry an HR id
/// (`externalId`), the mark a provisioning service leaves. Apps that keep no `externalId` (the
/// Freshservice connector does not map one) own nothing by default: give a
/// [`predicate`](Self::predicate), such as an e-mail domain or a custom field.
#[derive(Clone)]
pub struct ManagedScope {
    rule: Rule,
}

#[derive(Clone)]
enum Rule {
    WithExternalId,
    All,
    Predicate(Arc<Predicate>),
}

impl ManagedScope {
    /// Accounts with a non-empty `externalId` (the default).
    pub fn with_external_id() -> Self {
        ManagedScope { rule: Rule::WithExternalId }
    }

    /// Every account the listing returns. Only for apps whose every account comes from HR.
    pub fn all() -> Self {
        ManagedScope { rule: Rule::All }
    }

    /// The accounts `owns` says yes to. It sees the account as listed (and, before a deactivation
    /// is applied, as read again), so it must decide from attributes the listing shows.
    pub fn predicate(owns: impl Fn(&RemoteUser) -> bool + Send + Sync + 'static) -> Self {
        ManagedScope { rule: Rule::Predicate(Arc::new(owns)) }
    }

    /// Whether `account` is inside the scope.
    pub fn contains(&self, account: &RemoteUser) -> bool {
        match &self.rule {
            Rule::WithExternalId => account.user.external_id.as_deref().is_some_and(|id| !id.trim().is_empty()),
            Rule::All => true,
            Rule::Predicate(owns) => owns(account),
        }
    }
}

impl Default for ManagedScope {
    fn default() -> Self {
        ManagedScope::with_external_id()
    }
}

impl fmt::Debug for ManagedScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.rule {
            Rule::WithExternalId => "ManagedScope::WithExternalId",
            Rule::All => "ManagedScope::All",
            Rule::Predicate(_) => "ManagedScope::Predicate",
        })
    }
}

/// The most deactivations one run may apply, as a count and as a share of the managed accounts;
/// a plan over either is refused with [`BrakeEngaged`] unless the run explicitly allows it.
///
/// Modelled on Microsoft Entra provisioning's accidental-deletions threshold (default 500
/// deletions per cycle, which then stops and waits for an administrator). The defaults are **500
/// accounts or 20 %** of the managed accounts, whichever is reached first: the count stops a broken
/// export in a large tenant, the share one in a small tenant. In a tenant of under 50 managed
/// accounts a few leavers already exceed 20 %; such services set their own numbers with
/// [`Brake::new`], or allow the run after review.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Brake {
    /// The most accounts one run may deactivate.
    pub max_count: usize,
    /// The largest share (0.0 to 1.0) of the managed accounts one run may deactivate.
    pub max_share: f64,
}

impl Default for Brake {
    fn default() -> Self {
        Brake { max_count: 500, max_share: 0.2 }
    }
}

impl Brake {
    /// A brake at `max_count` accounts or `max_share` (clamped to 0.0–1.0) of the managed ones.
    pub fn new(max_count: usize, max_share: f64) -> Self {
        let max_share = if max_share.is_nan() { 0.0 } else { max_share.clamp(0.0, 1.0) };
        Brake { max_count, max_share }
    }

    /// Refuses `deactivations` out of `managed` accounts when over either limit.
    pub fn check(&self, deactivations: usize, managed: usize) -> Result<(), BrakeEngaged> {
        let share_limit = self.max_share * managed as f64;
        if deactivations > self.max_count || deactivations as f64 > share_limit {
            return Err(BrakeEngaged { deactivations, managed, max_count: self.max_count, max_share: self.max_share });
        }
        Ok(())
    }
}

/// A plan would deactivate more managed accounts than the [`Brake`] allows. Nothing was sent.
/// Review the plan; if it is right, apply it with
/// [`ApplyOptions::allow_over_brake`](crate::sync::ApplyOptions::allow_over_brake) for this run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "The plan would deactivate {deactivations} of {managed} managed accounts ({share:.1} %), more than the brake allows ({max_count} accounts or {max_pct:.1} %); nothing was sent: review the plan, then allow it for this run",
    share = percent(*deactivations, *managed),
    max_pct = max_share * 100.0
)]
#[non_exhaustive]
pub struct BrakeEngaged {
    /// The deactivations the plan holds.
    pub deactivations: usize,
    /// The managed (in-scope, active) accounts listed.
    pub managed: usize,
    /// The brake's count.
    pub max_count: usize,
    /// The brake's share.
    pub max_share: f64,
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 { 100.0 } else { part as f64 * 100.0 / whole as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_brake_trips_on_either_limit_and_names_both_numbers() {
        let brake = Brake::default();
        assert_eq!(brake.check(20, 100), Ok(()));
        let error = brake.check(21, 100).expect_err("21 % is over 20 %");
        assert_eq!((error.deactivations, error.managed), (21, 100));
        assert_eq!(
            error.to_string(),
            "The plan would deactivate 21 of 100 managed accounts (21.0 %), more than the brake allows (500 accounts or 20.0 %); nothing was sent: review the plan, then allow it for this run"
        );
        assert!(brake.check(501, 100_000).is_err(), "over the count");
        assert_eq!(brake.check(500, 100_000), Ok(()));
        assert_eq!(Brake::new(0, 0.0).check(0, 0), Ok(()));
        assert!(Brake::new(10, f64::NAN).check(1, 100).is_err(), "NaN is taken as no share at all");
    }
}
