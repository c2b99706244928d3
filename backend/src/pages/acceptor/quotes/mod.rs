//! `/acceptor/quotes`: the acceptor's quotes (one per fiat) and payment methods, with the
//! forms to save a quote and add a method; every change goes through the acceptor
//! service, like `PUT /api/v1/acceptor/quotes/{fiat}` and
//! `POST /api/v1/acceptor/payment-methods`.

pub mod http;
pub mod model;
