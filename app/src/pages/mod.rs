//! One module per page.

mod accessibility;
mod coming;
mod home;
pub mod my;
mod not_found;
mod request;
pub mod staff_import;
pub mod staff_outbox;

pub use accessibility::AccessibilityPage;
pub use coming::{LendPage, StaffPage};
pub use home::HomePage;
pub use my::MyRequestsPage;
pub use not_found::NotFound;
pub use request::RequestPage;
