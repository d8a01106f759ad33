//! The pages patrons never see (the staff pages and the other libraries'
//! lending form), which load lazily.
//!
//! Each such page is a lazy route: in a release build made with
//! cargo-leptos's split mode (`--split`, see `scripts/toolchain.sh`), its
//! view code goes into WebAssembly chunks that the browser fetches only
//! when the page is shown (the server names the chunks a page needs in
//! `<link rel="preload">`, so a page opened directly loads them beside the
//! main module). A patron therefore never downloads the staff desk, the
//! partner import or the other staff pages, nor the lending form for other
//! libraries (`/lend`, `/lend/:code`), whose users are partner libraries'
//! staff. The patron pages stay in the main module: split too, they came
//! as some eighty small chunks each, slower over a phone's connection than
//! the bytes they saved (measured: the request form hydrated after 4.4 s
//! instead of 3.5 s on emulated Fast 3G). Without split mode (tests,
//! `cargo leptos watch`) the lazy routes simply load at once.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

use crate::{desk, fees, letters, pages, stats};

/// Declares a lazy route whose view is one page component.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:path) => {
        $(#[$doc])*
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }
    };
}

// The lending form for other libraries: not a patron page.
lazy_page!(
    /// `/lend`: the general lending form.
    LendRoute => pages::LendPage);
lazy_page!(
    /// `/lend/:code`: a partner's own lending form.
    LendPartnerRoute => pages::LendPartnerPage);

// Staff pages: never downloaded by patrons.
lazy_page!(
    /// `/staff/letters`: the letters, their templates and the delivery log.
    LettersRoute => letters::page::LettersPage);
lazy_page!(
    /// `/staff/fees`: fee rules, the ledger, invoice runs.
    FeesRoute => fees::page::FeesPage);
lazy_page!(
    /// `/staff`: the staff start page.
    StaffRoute => pages::StaffPage);
lazy_page!(
    /// `/staff/borrowing`: the borrowing queue.
    BorrowingQueueRoute => desk::queue::BorrowingQueuePage);
lazy_page!(
    /// `/staff/borrowing/:id`: a borrowing request at the desk.
    BorrowingRequestRoute => desk::request::BorrowingRequestPage);
lazy_page!(
    /// `/staff/lending`: the lending queue.
    LendingQueueRoute => desk::queue::LendingQueuePage);
lazy_page!(
    /// `/staff/lending/:id`: a lending request at the desk.
    LendingRequestRoute => desk::request::LendingRequestPage);
lazy_page!(
    /// `/staff/partners/import`: the partner import.
    StaffImportRoute => pages::staff_import::StaffImportPage);
lazy_page!(
    /// `/staff/outbox`: undelivered messages.
    StaffOutboxRoute => pages::staff_outbox::StaffOutboxPage);
lazy_page!(
    /// `/staff/lending-review`: lending requests waiting for review.
    StaffReviewRoute => pages::staff_review::StaffReviewPage);
lazy_page!(
    /// `/staff/statistics`: a year's figures as charts.
    StatisticsRoute => stats::page::StatisticsPage);
lazy_page!(
    /// `/staff/mail`: the mail log.
    StaffMailRoute => pages::staff_mail::StaffMailPage);
