//! The resource-sharing port's contract, on the local adapter with
//! PostgreSQL (each test in a schema of its own).

mod support;

server::port_contract_tests!(async {
    support::postgres_db()
        .await
        .map(|db| support::LocalHarness::new(db, None))
});
