//! The resource-sharing port (defined in `app::port`, so server functions
//! can use it) and its contract test suite, which every adapter runs.

pub mod contract;

pub use app::port::*;
