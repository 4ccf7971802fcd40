//! Helpers shared by the integration tests. Each test binary compiles this module and uses only
//! part of it, hence `dead_code` is allowed.
#![allow(dead_code)]

pub mod freshservice;
pub mod group_flow;
pub mod lifecycle;
pub mod mock;
pub mod peer;
