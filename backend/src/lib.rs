//! OTCPay server library. The binary (`main.rs`) is a thin CLI over it; black-box tests
//! start the same [`startup::Application`] on a random port.
//!
//! Layout: cross-cutting pieces at the top (`config`, `startup`, `error`, `money`,
//! `telemetry`, …), then one folder per feature with the same inner shape — `http.rs`
//! (thin handlers), `service.rs` (use cases and transactions), `model.rs` (types and
//! state machines), `store.rs` (sea-orm entities and queries). ARCHITECTURE.md is the map.

pub mod acceptor_directory;
pub mod acceptors;
pub mod addresses;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod cashier;
pub mod chain;
pub mod chain_watcher;
pub mod client_addr;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod disputes;
pub mod engine;
pub mod error;
pub mod http_body;
pub mod i18n;
pub mod ids;
pub mod infra;
pub mod ledger;
pub mod live;
pub mod mail;
pub mod merchants;
pub mod metrics;
pub mod money;
pub mod openapi;
pub mod ops;
pub mod orders;
pub mod pages;
pub mod pagination;
pub mod public;
pub mod routing;
pub mod security_headers;
pub mod ssrf;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod values;
pub mod webhooks;
pub mod withdrawals;
