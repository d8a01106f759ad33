//! One module per page.

mod accessibility;
mod coming;
mod home;
mod not_found;
pub mod staff_import;

pub use accessibility::AccessibilityPage;
pub use coming::{LendPage, MyRequestsPage, RequestPage, StaffPage};
pub use home::HomePage;
pub use not_found::NotFound;
