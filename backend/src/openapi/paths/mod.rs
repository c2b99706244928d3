//! The operations of the document: doc-only functions annotated with
//! `#[utoipa::path]`, one per route the server mounts, grouped like the features. Each
//! file also has an `ERRORS` table: the error codes of its operations beyond the common
//! ones of their authentication (see [`super::errors`]).

pub mod acceptor;
pub mod admin;
pub mod cashier;
pub mod chain;
pub mod merchant;
pub mod public;

use super::errors::OpErrors;

/// Every `ERRORS` table.
pub const ERROR_TABLES: &[&[OpErrors]] = &[
    public::ERRORS,
    merchant::ERRORS,
    admin::ERRORS,
    acceptor::ERRORS,
    cashier::ERRORS,
    chain::ERRORS,
];
