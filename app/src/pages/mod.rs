//! One module per page.

mod accessibility;
pub mod coming;
mod home;
mod lend;
pub mod my;
pub mod my_request;
mod not_found;
mod request;
pub mod staff_import;
pub mod staff_mail;
pub mod staff_outbox;
pub mod staff_review;

pub use accessibility::AccessibilityPage;
pub use coming::StaffPage;
pub use home::HomePage;
pub use lend::{LendPage, LendPartnerPage};
pub use my::MyRequestsPage;
pub use not_found::NotFound;
pub use request::RequestPage;
