//! The size template is measured for its front end only; its server half
//! is not needed.
fn main() {}
