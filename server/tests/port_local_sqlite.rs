//! The resource-sharing port's contract, on the local adapter with SQLite.

mod support;

server::port_contract_tests!(async {
    let (db, dir) = support::sqlite_db().await;
    Some(support::LocalHarness::new(db, Some(dir)))
});
