//! The groups capability: the seam where group operations will be added.
//!
//! A connector whose app has groups returns itself (or a helper) from
//! [`Connector::groups`](crate::Connector::groups); every other connector keeps the default
//! `None`, and [`Client::groups`](crate::Client::groups) turns that into
//! [`Error::Unsupported`](crate::Error::Unsupported) naming the connector and the capability. See
//! [the connector module's documentation](crate::Connector#optional-capabilities) for the pattern.

use std::fmt;

/// What an app with groups provides, beside the user primitives of
/// [`Connector`](crate::Connector).
///
/// It has no methods yet: the group operations come with the Groups issue, each with a default
/// (so adding one never breaks an implementation), and connectors opt in by overriding
/// [`Connector::groups`](crate::Connector::groups). Object safe, like `Connector`, so a client
/// hands it out as `&dyn GroupConnector`.
///
/// ```
/// use identity_connectors::GroupConnector;
///
/// #[derive(Debug)]
/// struct DirectoryGroups;
///
/// impl GroupConnector for DirectoryGroups {}
///
/// let groups: &dyn GroupConnector = &DirectoryGroups;
/// assert_eq!(format!("{groups:?}"), "DirectoryGroups");
/// ```
pub trait GroupConnector: Send + Sync + fmt::Debug {}
