//! The resource-sharing port's contract, on the Alma adapter talking over
//! HTTP to the Alma API simulator: the same checks as the local adapter.

mod support;

server::port_contract_tests!(async { Some(support::alma::AlmaHarness::start().await) });
