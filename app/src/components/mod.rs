//! Reusable pieces of the interface.

pub mod field;
pub mod layout;
pub mod page;
pub mod post_button;
pub mod table;
