//! Domain types shared by the server and the browser. Nothing here touches
//! the network or a database, so every type compiles to WebAssembly too.

pub mod citation;
pub mod csv;
pub mod date;
pub mod history;
pub mod identifiers;
pub mod lending_intake;
pub mod openurl;
pub mod partner;
pub mod pnx;
pub mod request;
pub mod status;
pub mod workflow;

pub use citation::{Citation, CitationType, FieldError};
pub use partner::{Address, Partner, PartnerProfile, PartnerStatus};
pub use request::{
    BorrowingRequest, Format, IllLoan, LendingRequest, NewBorrowingRequest, NewLendingRequest,
    PatronId, RequesterContact, ServiceType,
};
pub use status::{BorrowingStatus, LendingStatus, PatronStatus};
