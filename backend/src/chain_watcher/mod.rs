//! Following the chains and crediting what arrives: one task per network that is on
//! (`scan.rs`: the cursor rule, reading blocks and logs, one transaction per scan),
//! what each confirmation step writes (`credit.rs`: deposits to acceptors and
//! merchants, on-chain order payments, vanished credits), the settling of on-chain
//! orders after each scan (`orders.rs`), and the routes of top-up
//! addresses, deposits and the admins' review list (`http.rs`). Chain access, the
//! address book and the confirmation rule are `chain/`'s, below every feature.

pub mod credit;
pub mod http;
pub mod orders;
pub mod scan;
