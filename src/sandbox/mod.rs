//! In-process fake Interact (SCIM) and Freshservice servers, for tests and the quickstart.
//!
//! Behind the `sandbox` feature; off by default, so library users pay nothing for it.

mod freshservice;
mod gate;
mod rng;
mod scim;
mod scim_model;
mod server;

pub use freshservice::{FreshserviceSandbox, FreshserviceSandboxBuilder};
pub use gate::{Fault, FaultKind, Faults, RateLimit, RequestRecord, SandboxStats};
pub use scim::{ScimSandbox, ScimSandboxBuilder};
