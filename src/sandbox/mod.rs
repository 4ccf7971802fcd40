//! In-process fake Interact (SCIM) and Freshservice servers, for tests and the quickstart.
//!
//! Behind the `sandbox` feature; off by default, so library users pay nothing for it.
