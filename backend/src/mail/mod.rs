//! Mail: verification and reset links, account approval, disputes on an acceptor's
//! orders. A mail is rendered (plain text and HTML, English or Chinese) and written to
//! the `mail_outbox` table in the transaction of the change that sends it; the sender
//! worker delivers it with retries — through SMTP (`SMTP_URL`) or, when none is
//! configured, as an `.eml` file under `<data dir>/mail/` — so an SMTP outage never loses
//! a mail nor fails the request that caused it.

pub mod model;
pub mod sender;
pub mod service;
pub mod store;

pub use model::{Letter, MailKind};
pub use service::enqueue;
pub use store::outbox;
