//! Opaque prefixed ids (`ord_…`, `mch_…`, `acc_…`, …).
//!
//! The part after the prefix is 26 Crockford base32 characters: 48 bits of Unix
//! milliseconds followed by 80 random bits, so ids sort by creation time (the lists'
//! "newest first" and `starting_after` cursors rely on it) and cannot be guessed.
//! Within one process ids are strictly increasing even inside one millisecond: a new
//! id is at least the previous one plus one (the ULID "monotonic" rule).
//!
//! The ids other features pass around are typed ([`OrderId`], [`MerchantId`], …): a
//! value of one is known to be of its kind, so a function taking an `OrderId` cannot be
//! handed a merchant's id, and the prefix is checked once where the text comes in.

use std::sync::Mutex;

use rand::Rng;
use ulid::{Generator, ULID_LEN};

/// One generator for the process, so ids are monotonic across threads too.
static GENERATOR: Mutex<Generator> = Mutex::new(Generator::new());

/// A new time-ordered id with the given prefix, e.g. `new("ord")` → `ord_01J…`.
pub fn new(prefix: &str) -> String {
    let ulid = {
        let mut generator = match GENERATOR.lock() {
            Ok(guard) => guard,
            // The generator is a plain value: a panic elsewhere leaves it usable.
            Err(poisoned) => poisoned.into_inner(),
        };
        match generator.generate() {
            Ok(ulid) => ulid,
            // 2^80 ids in one millisecond: borrow the next millisecond, still increasing.
            Err(overflow) => overflow.commit_overflow_increment(),
        }
    };
    let mut buf = [0u8; ULID_LEN];
    let encoded = ulid.array_to_str(&mut buf);
    let mut out = String::with_capacity(prefix.len() + 1 + ULID_LEN);
    out.push_str(prefix);
    out.push('_');
    out.push_str(encoded);
    out
}

/// A request id for `X-Request-Id`.
pub fn request_id() -> String {
    new("req")
}

/// `n` random bytes as lowercase hex: tokens, secrets.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// `n` random bytes.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// True when `text` has this id shape: `prefix`, `_`, then 26 Crockford base32
/// characters (the ULID; the first one at most `7`, as a 128-bit ULID has).
fn is_shaped(text: &str, prefix: &str) -> bool {
    let Some(body) = text
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
    else {
        return false;
    };
    // A 128-bit ULID starts with 0–7; the decoder would wrap a larger first digit.
    body.len() == ULID_LEN
        && body.as_bytes().first().is_some_and(|b| *b <= b'7')
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        && ulid::Ulid::from_string(body).is_ok()
}

/// A typed id: a prefixed ULID string that was generated here or parsed once at the
/// edge (a path segment, a stored column). It reads as a `&str` (`Deref`), serialises
/// as the plain string and is stored as text; a stored value that is not of its kind
/// fails the read (`FromStr`), like the stored statuses.
macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident = $prefix:literal, $what:literal, $example:literal $(, also $also:literal)?) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, sea_orm::DeriveValueType)]
        #[serde(transparent)]
        #[sea_orm(value_type = "String")]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A new id, later than every id this process made before.
            pub fn generate() -> Self {
                Self(new($prefix))
            }

            /// The id, if `text` is one of this kind.
            pub fn parse(text: &str) -> Option<Self> {
                (is_shaped(text, $prefix) $(|| text == $also)?).then(|| Self(text.to_owned()))
            }

            /// The id a request names (a path segment): text that is not one of this
            /// kind answers as an unknown id does (`404 not_found`, via `ApiError`).
            pub fn named(text: &str) -> Result<Self, WrongId> {
                Self::parse(text).ok_or(WrongId { prefix: $prefix, what: $what })
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&$name> for sea_orm::Value {
            fn from(id: &$name) -> Self {
                id.0.as_str().into()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl From<&$name> for String {
            fn from(id: &$name) -> String {
                id.0.clone()
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = WrongId;

            fn from_str(text: &str) -> Result<Self, WrongId> {
                Self::parse(text).ok_or(WrongId { prefix: $prefix, what: $what })
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&text)
                    .ok_or_else(|| serde::de::Error::custom(WrongId { prefix: $prefix, what: $what }))
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use utoipa::openapi::schema::{Object, Schema, Type};
                let mut schema = Object::with_type(Type::String);
                let pattern = concat!("^", $prefix, "_[0-9A-HJKMNP-TV-Z]{26}$").to_owned();
                $(let pattern = format!("{pattern}|^{}$", $also);)?
                schema.pattern = Some(pattern);
                schema.examples = vec![serde_json::Value::from($example)];
                utoipa::openapi::RefOr::T(Schema::Object(schema))
            }
        }

        impl utoipa::ToSchema for $name {}

        // Lets the id be a table's primary key; ids are never numbers.
        impl sea_orm::TryFromU64 for $name {
            fn try_from_u64(_: u64) -> Result<Self, sea_orm::DbErr> {
                Err(sea_orm::DbErr::ConvertFromU64(stringify!($name)))
            }
        }
    };
}

/// A string that is not an id of the expected kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongId {
    /// The kind's prefix, e.g. `ord`.
    pub prefix: &'static str,
    /// What the kind is called in a `404` message, e.g. `order`.
    pub what: &'static str,
}

impl std::fmt::Display for WrongId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not an id of the form {}_…", self.prefix)
    }
}

impl std::error::Error for WrongId {}

typed_id!(/// A payment order (`ord_…`).
    OrderId = "ord", "order", "ord_01JD3Q4ZK8M6W2X9V7T5R3P1NB");
typed_id!(/// A merchant (`mch_…`).
    MerchantId = "mch", "merchant", "mch_01JD3Q4ZK8M6W2X9V7T5R3P1NB");
typed_id!(/// An acceptor (`acc_…`), or the sandbox's simulated one (`acc_sandbox`, which
    /// test-mode orders are assigned to; `orders::sandbox`).
    AcceptorId = "acc", "acceptor", "acc_01JD3Q4ZK8M6W2X9V7T5R3P1NB", also "acc_sandbox");
typed_id!(/// A withdrawal (`wd_…`).
    WithdrawalId = "wd", "withdrawal", "wd_01JD3Q4ZK8M6W2X9V7T5R3P1NB");
typed_id!(/// A dispute (`dsp_…`).
    DisputeId = "dsp", "dispute", "dsp_01JD3Q4ZK8M6W2X9V7T5R3P1NB");
typed_id!(/// A portal login (`usr_…`).
    UserId = "usr", "user", "usr_01JD3Q4ZK8M6W2X9V7T5R3P1NB");
typed_id!(/// An API key's record (`key_…`; not the key id merchants sign with).
    ApiKeyId = "key", "API key", "key_01JD3Q4ZK8M6W2X9V7T5R3P1NB");
typed_id!(/// A webhook event (`evt_…`).
    EventId = "evt", "event", "evt_01JD3Q4ZK8M6W2X9V7T5R3P1NB");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_unique_and_time_ordered() {
        let a = new("ord");
        let b = new("ord");
        assert!(a.starts_with("ord_") && a.len() == 30);
        assert!(OrderId::parse(&a).is_some());
        assert!(MerchantId::parse(&a).is_none());
        assert_ne!(a, b);
        assert!(a < b, "{a} should sort before {b}");
    }

    #[test]
    fn ids_increase_within_one_millisecond_and_decode_as_ulids() {
        let ids: Vec<String> = (0..1000).map(|_| new("mch")).collect();
        for pair in ids.windows(2) {
            assert!(
                pair[0] < pair[1],
                "{} should sort before {}",
                pair[0],
                pair[1]
            );
        }
        let last = ids.last().map(String::as_str).unwrap_or_default();
        let ulid = ulid::Ulid::from_string(&last[4..]);
        assert!(ulid.is_ok(), "{last} is not prefix + ULID");
    }

    #[test]
    fn typed_ids_parse_their_own_kind_only() {
        let order = OrderId::generate();
        assert!(order.starts_with("ord_"));
        assert_eq!(OrderId::parse(&order), Some(order.clone()));
        assert_eq!(MerchantId::parse(&order), None);
        for bad in [
            "ord_",
            "ord_01JD3Q4ZK8M6W2X9V7T5R3P1N",
            "ord_01JD3Q4ZK8M6W2X9V7T5R3P1NBX",
            "ord_01jd3q4zk8m6w2x9v7t5r3p1nb",
            "ord_01JD3Q4ZK8M6W2X9V7T5R3P1NU",
            "ord_81JD3Q4ZK8M6W2X9V7T5R3P1NB",
            "ordx01JD3Q4ZK8M6W2X9V7T5R3P1NB",
        ] {
            assert_eq!(OrderId::parse(bad), None, "{bad}");
        }
        let json = serde_json::to_string(&order).unwrap();
        assert_eq!(json, format!("\"{order}\""));
        assert_eq!(serde_json::from_str::<OrderId>(&json).unwrap(), order);
        assert!(serde_json::from_str::<AcceptorId>(&json).is_err());
        assert_eq!(
            "wd_1".parse::<WithdrawalId>(),
            Err(WrongId {
                prefix: "wd",
                what: "withdrawal"
            })
        );
    }
}
