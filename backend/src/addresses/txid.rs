//! Transaction ids as people type them: one rule for deposits (acceptors) and payouts
//! (withdrawals), so the same on-chain transaction is recognised however it was pasted.

use std::fmt;

use crate::error::{ApiError, ApiResult};
use crate::values::networks::{AddressFormat, Network};

/// A transaction id as typed: trimmed, 1–[`Txid::MAX_CHARS`] visible characters (a
/// hash, or e.g. a bank reference for a manual deposit). What is stored is its
/// [`Txid::canonical`] form for the network it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Txid(String);

impl Txid {
    pub const MAX_CHARS: usize = 128;

    pub fn parse(text: &str) -> ApiResult<Self> {
        let invalid = |m: String| ApiError::invalid_request(m).with_param("txid");
        let text = text.trim();
        let count = text.chars().count();
        if count == 0 || count > Self::MAX_CHARS {
            return Err(invalid(format!(
                "txid must have 1 to {} characters.",
                Self::MAX_CHARS
            )));
        }
        if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(invalid(
                "txid must not contain spaces or control characters.".to_owned(),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// The one form of this id on `network`: hex lower-cased; a 32-byte hash with `0x`
    /// on EVM networks and without on TRON (the explorers' forms), so the same
    /// transaction pasted in another case or with/without `0x` is recognised; other
    /// ids as typed.
    pub fn canonical(&self, network: Network) -> String {
        let text = self.0.as_str();
        let bare = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .unwrap_or(text);
        let is_hex = !bare.is_empty() && bare.bytes().all(|b| b.is_ascii_hexdigit());
        if !is_hex {
            return text.to_owned();
        }
        let bare = bare.to_ascii_lowercase();
        let had_prefix = bare.len() != text.len();
        let is_hash = bare.len() == 64;
        match network.address_format {
            AddressFormat::Tron if is_hash => bare,
            AddressFormat::Evm if is_hash => format!("0x{bare}"),
            _ if had_prefix => format!("0x{bare}"),
            _ => bare,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Txid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txid(network: Network, text: &str) -> ApiResult<String> {
        Txid::parse(text).map(|t| t.canonical(network))
    }

    #[test]
    fn hashes_take_their_network_form() {
        let h = "AB".repeat(32);
        let lower = h.to_ascii_lowercase();
        assert_eq!(txid(Network::TRON, &h).unwrap(), lower);
        assert_eq!(txid(Network::TRON, &format!("0x{h}")).unwrap(), lower);
        assert_eq!(txid(Network::ETHEREUM, &h).unwrap(), format!("0x{lower}"));
        assert_eq!(
            txid(Network::BSC, &format!(" 0X{h} ")).unwrap(),
            format!("0x{lower}")
        );
    }

    #[test]
    fn other_ids_are_kept_and_bounded() {
        assert_eq!(txid(Network::TRON, "manual-42").unwrap(), "manual-42");
        assert_eq!(txid(Network::TRON, "0xAB").unwrap(), "0xab");
        assert_eq!(txid(Network::TRON, "ABC").unwrap(), "abc");
        assert_eq!(txid(Network::TRON, " t-1 ").unwrap(), "t-1");
        assert!(txid(Network::TRON, &"x".repeat(128)).is_ok());
        for bad in ["", "  ", "a b", "a\tb", &"x".repeat(129)] {
            let e = Txid::parse(bad).unwrap_err();
            assert_eq!(e.param.as_deref(), Some("txid"), "{bad:?}");
        }
    }
}
