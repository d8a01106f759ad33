//! One module per page.

mod accessibility;
pub mod coming;
mod home;
#[cfg(feature = "lazy-islands")]
mod lend;
pub mod my;
pub mod my_request;
mod not_found;
mod request;
#[cfg(feature = "lazy-islands")]
pub mod staff_import;
#[cfg(feature = "lazy-islands")]
pub mod staff_mail;
#[cfg(feature = "lazy-islands")]
pub mod staff_outbox;
#[cfg(feature = "lazy-islands")]
pub mod staff_review;

pub use accessibility::AccessibilityPage;
pub use coming::StaffPage;
pub use home::HomePage;
#[cfg(feature = "lazy-islands")]
pub use lend::{LendPage, LendPartnerPage};
pub use my::MyRequestsPage;
pub use not_found::NotFound;
pub use request::RequestPage;
