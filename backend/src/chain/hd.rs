//! Watch-only deposit addresses (BIP-32 public derivation).
//!
//! Each network is configured with the extended public key of its deposit *account*,
//! the BIP-44 node `m/44'/60'/0'` for Ethereum and BSC or `m/44'/195'/0'` for TRON,
//! exported from the wallet that holds the funds. The server derives the receiving
//! addresses below it, `…/0/i` (external chain, index `i`), with public derivation
//! only: it can see and tell apart every deposit, and it cannot move any of them. The
//! wallet derives the same keys from its seed to sweep them.
//!
//! An address is the last 20 bytes of Keccak-256 over the child key's coordinates,
//! spelled per network (`addresses::format_account`): EIP-55 hex on EVM chains, the
//! `0x41`-versioned base58check on TRON — the same 20 bytes on both.

use std::str::FromStr;

use bip32::{ChildNumber, ExtendedKey, XPub};

use crate::addresses::{account_of_public_key, format_account};
use crate::values::networks::Network;

/// The BIP-44 change level of receiving addresses.
const EXTERNAL_CHAIN: u32 = 0;

/// Why an extended public key or an index was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("not an extended public key (xpub…)")]
    NotAnXpub,
    #[error("a private extended key: configure the account's public key (xpub…) instead")]
    PrivateKey,
    #[error("index {0} is hardened; watch-only keys derive indexes below 2^31 only")]
    Hardened(u32),
    #[error("no valid key at this index (probability 2^-127); take the next one")]
    NoKeyAtIndex,
}

/// The deposit account of a network: its extended public key, with the external chain
/// below it derived once.
#[derive(Clone)]
pub struct DepositKey {
    external: XPub,
}

impl std::fmt::Debug for DepositKey {
    // A public key, but an operator's: the fingerprint is enough to tell two apart.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DepositKey({:02x?})", self.external.fingerprint())
    }
}

impl DepositKey {
    /// Reads an account-level `xpub…` (standard BIP-32 serialization).
    pub fn parse(xpub: &str) -> Result<Self, KeyError> {
        let key = ExtendedKey::from_str(xpub.trim()).map_err(|_| KeyError::NotAnXpub)?;
        // `XPub` would take an `xprv` too, by deriving its public key; the server must
        // not be handed the private one.
        if !key.prefix.is_public() {
            return Err(KeyError::PrivateKey);
        }
        let account = XPub::try_from(key).map_err(|_| KeyError::NotAnXpub)?;
        let external = derive(&account, EXTERNAL_CHAIN)?;
        Ok(Self { external })
    }

    /// The 20-byte account of receiving index `index`.
    pub fn account_at(&self, index: u32) -> Result<[u8; 20], KeyError> {
        let child = derive(&self.external, index)?;
        let point = child.public_key().to_sec1_point(false);
        let coordinates: &[u8; 64] = point
            .as_bytes()
            .get(1..)
            .and_then(|xy| xy.try_into().ok())
            .ok_or(KeyError::NoKeyAtIndex)?;
        Ok(account_of_public_key(coordinates))
    }

    /// Receiving index `index` as `network` writes addresses.
    pub fn address_at(&self, network: Network, index: u32) -> Result<String, KeyError> {
        Ok(format_account(network, &self.account_at(index)?))
    }
}

fn derive(parent: &XPub, index: u32) -> Result<XPub, KeyError> {
    let child = ChildNumber::new(index, false).map_err(|_| KeyError::Hardened(index))?;
    parent
        .derive_child(child)
        .map_err(|_| KeyError::NoKeyAtIndex)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::addresses::{account_of, validate};
    use crate::values::networks::Network;

    /// An account-level key for tests: BIP-32 test vector 1, `m/0'/1/2'/2`.
    pub const ACCOUNT_XPUB: &str = "xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV";

    fn net(id: &str) -> Network {
        Network::find(id).unwrap()
    }

    #[test]
    fn public_derivation_follows_the_bip32_vectors() {
        // Test vector 1: `m/0'/1/2'/2` → `m/0'/1/2'/2/1000000000`, a public step.
        let parent = XPub::from_str(ACCOUNT_XPUB).unwrap();
        let child = derive(&parent, 1_000_000_000).unwrap();
        assert_eq!(
            child.to_string(bip32::Prefix::XPUB).as_str(),
            "xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHiYkro49S8yGasTvXEYBVPamhGW6cFJodrTHy"
        );
        assert_eq!(
            derive(&parent, 1 << 31).unwrap_err(),
            KeyError::Hardened(1 << 31)
        );
    }

    #[test]
    fn an_account_is_keccak_of_the_key_as_ethereum_derives_it() {
        // The key of secret 1 is the generator; its address is well known.
        let secret = bip32::secp256k1::ecdsa::SigningKey::from_slice(&{
            let mut one = [0u8; 32];
            one[31] = 1;
            one
        })
        .unwrap();
        let point = secret.verifying_key().to_sec1_point(false);
        let xy: &[u8; 64] = point.as_bytes()[1..].try_into().unwrap();
        assert_eq!(
            format_account(net("ethereum"), &account_of_public_key(xy)),
            "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
        );
    }

    #[test]
    fn each_index_has_its_own_address_and_tron_spells_the_same_account() {
        let key = DepositKey::parse(ACCOUNT_XPUB).unwrap();
        let first = key.address_at(net("ethereum"), 0).unwrap();
        let second = key.address_at(net("ethereum"), 1).unwrap();
        assert_ne!(first, second);
        assert_eq!(key.address_at(net("bsc"), 0).unwrap(), first);
        assert_eq!(validate(net("ethereum"), &first).unwrap(), first);

        let tron = key.address_at(net("tron"), 0).unwrap();
        assert!(tron.starts_with('T') && tron.len() == 34, "{tron}");
        assert_eq!(validate(net("tron"), &tron).unwrap(), tron);
        assert_eq!(
            account_of(net("tron"), &tron),
            account_of(net("ethereum"), &first)
        );
        assert_eq!(
            account_of(net("tron"), &tron),
            Some(key.account_at(0).unwrap())
        );
    }

    #[test]
    fn keys_that_are_not_account_xpubs_are_refused() {
        for bad in ["", "xpub", "tpubD6NzVbkrYhZ4X", &ACCOUNT_XPUB[..100]] {
            assert_eq!(
                DepositKey::parse(bad).unwrap_err(),
                KeyError::NotAnXpub,
                "{bad}"
            );
        }
        // A private key is not accepted where a watch-only key is expected.
        let xprv = "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi";
        assert_eq!(DepositKey::parse(xprv).unwrap_err(), KeyError::PrivateKey);
    }
}
