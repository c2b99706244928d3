//! Parse-once values shared by features: each type is made from request text by its one
//! `parse` and carried typed afterwards, so that a rule (what a fiat code, a payment
//! method, a network id, a callback URL or an order lifetime may be) is written in exactly one place
//! and every feature that reads one from a request applies the same rule.
//!
//! Errors are the contract's: `invalid_request` or `unsupported_currency`, with the
//! offending field as `param`. Depends on `error` and `money` only. `networks.rs` is
//! the one table of the chains USDT moves on.

mod expires_in;
mod fiat;
mod http_url;
mod json;
mod network;
pub mod networks;
mod payment_method;
mod text;
mod usdt;

pub use expires_in::ExpiresIn;
pub use fiat::{parse_fiat_code, parse_fiat_code_any_case};
pub use http_url::HttpUrl;
pub use json::{optional_string, required_string};
pub use network::{parse_network, parse_network_any_case};
pub use payment_method::PaymentMethodCode;
pub use text::{bounded_text, parse_merchant_ref, parse_reason};
pub use usdt::parse_usdt;
