//! Test harness for black-box tests of the OTCPay server.
//!
//! Which database the tests use is chosen by `OTCPAY_TEST_DATABASE`: `sqlite` (default,
//! a temp file per test) or `postgres` (a fresh database per test on the server named
//! by `OTCPAY_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`).
//! `OTCPAY_TEST_REDIS_URL` (set by CI in the PostgreSQL pass) makes the server use Redis
//! with a per-test key prefix. A service that is configured but unreachable fails the
//! test: nothing is skipped.

pub mod app;
pub mod chain;
pub mod contract;
pub mod db;
pub mod merchant;
pub mod scenario;
pub mod smtp;
pub mod sse;
pub mod totp;

pub use app::TestApp;
pub use db::{Backend, TestDb};
