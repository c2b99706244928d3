//! Blockchain address validation: pure functions, no I/O.
//!
//! [`validate`] checks an address for a [`Network`] and returns its normalized form, or
//! the first reason it is not valid. The reasons are the wire values of
//! `POST /api/v1/public/addresses/validate` (`bad_checksum`, `bad_length`, `bad_prefix`,
//! `bad_characters`); the withdrawals feature reuses the same function.
//!
//! The input is checked exactly as given: no trimming, no case folding beyond what the
//! format defines. Checks run in the order below and the first failure is the reason, so
//! each reason names the most basic thing that is wrong.
//!
//! # EVM (Ethereum, BNB Smart Chain)
//! 1. `bad_prefix`: does not start with `0x` (lower-case `x`; `0X…` and bare hex are
//!    refused — this is also what a TRON address pasted for an EVM network gets).
//! 2. `bad_characters`: something after `0x` is not a hex digit.
//! 3. `bad_length`: not exactly 40 hex digits after `0x` (e.g. a 64-digit tx hash).
//! 4. `bad_checksum`: the digits mix upper and lower case and the casing is not the
//!    EIP-55 checksum of the address. All-lower or all-upper hex carries no checksum and
//!    is accepted.
//!
//! The normalized form is the EIP-55 checksummed address (`0x` + mixed case).
//!
//! # TRON
//! 1. `bad_prefix`: starts with `0x`/`0X`, i.e. an EVM-style hex address pasted for TRON
//!    (otherwise its `0` would report `bad_characters`, which hides the real mistake).
//! 2. `bad_characters`: a character outside the Bitcoin base58 alphabet (`0`, `O`, `I`,
//!    `l`, spaces, punctuation, non-ASCII …).
//! 3. `bad_length`: not 34 characters, or not 25 bytes once decoded. Every TRON address
//!    is 34 characters (a 25-byte payload starting with `0x41` always encodes to 34), so
//!    a truncated or extended address is reported as a length problem rather than by
//!    whatever its shifted digits decode to.
//! 4. `bad_prefix`: the version byte is not `0x41` (e.g. a Bitcoin address, version
//!    `0x00` or `0x05`, or a corrupted first character).
//! 5. `bad_checksum`: the last 4 bytes are not the first 4 bytes of
//!    SHA-256(SHA-256(first 21 bytes)).
//!
//! The normalized form is the address itself (base58 has a single spelling).

use sha3::{Digest, Keccak256};

use crate::values::networks::{AddressFormat, Network};

/// Why an address is not valid for a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error, utoipa::ToSchema)]
#[schema(as = AddressProblem, rename_all = "snake_case")]
pub enum AddressError {
    #[error("the address checksum does not match")]
    BadChecksum,
    #[error("the address has the wrong length")]
    BadLength,
    #[error("the address does not start the way addresses of this network do")]
    BadPrefix,
    #[error("the address contains characters this network's addresses never have")]
    BadCharacters,
}

impl AddressError {
    /// The wire value of the `reason` field.
    pub fn reason(self) -> &'static str {
        match self {
            Self::BadChecksum => "bad_checksum",
            Self::BadLength => "bad_length",
            Self::BadPrefix => "bad_prefix",
            Self::BadCharacters => "bad_characters",
        }
    }
}

/// Validates `address` for `network` and returns its normalized form (see the module
/// documentation for the checks, their order and the normal forms).
pub fn validate(network: Network, address: &str) -> Result<String, AddressError> {
    match network.address_format {
        AddressFormat::Tron => validate_tron(address),
        AddressFormat::Evm => validate_evm(address),
    }
}

/// The TRON version byte (mainnet).
pub const TRON_VERSION: u8 = 0x41;
/// Characters of every TRON address.
pub const TRON_ADDRESS_CHARS: usize = 34;
/// Bytes of a decoded TRON address: version, 20-byte account, 4-byte checksum.
pub const TRON_ADDRESS_BYTES: usize = 25;

/// The Bitcoin base58 alphabet (TRON's): no `0`, `O`, `I`, `l`.
pub const BASE58_ALPHABET: &[u8; 58] =
    b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

fn validate_tron(address: &str) -> Result<String, AddressError> {
    if address.starts_with("0x") || address.starts_with("0X") {
        return Err(AddressError::BadPrefix);
    }
    if !address.bytes().all(|b| BASE58_ALPHABET.contains(&b)) {
        return Err(AddressError::BadCharacters);
    }
    // All characters are ASCII now, so `len` counts characters. Checking it first also
    // bounds the (quadratic) decoding.
    if address.len() != TRON_ADDRESS_CHARS {
        return Err(AddressError::BadLength);
    }
    let bytes = bs58::decode(address)
        .into_vec()
        .map_err(|_| AddressError::BadCharacters)?;
    if bytes.len() != TRON_ADDRESS_BYTES {
        return Err(AddressError::BadLength);
    }
    if bytes.first() != Some(&TRON_VERSION) {
        return Err(AddressError::BadPrefix);
    }
    // The shape and the version are right, so only the checksum can fail here.
    if bs58::decode(address)
        .with_check(Some(TRON_VERSION))
        .into_vec()
        .is_err()
    {
        return Err(AddressError::BadChecksum);
    }
    Ok(address.to_owned())
}

/// The 20-byte account of a secp256k1 public key, as EVM chains and TRON both derive
/// it: the last 20 bytes of Keccak-256 over the key's 64 coordinate bytes (X ‖ Y).
pub fn account_of_public_key(coordinates: &[u8; 64]) -> [u8; 20] {
    let hash = Keccak256::digest(coordinates);
    let mut account = [0u8; 20];
    account.copy_from_slice(&hash[12..]);
    account
}

/// How `network` writes a 20-byte account: EVM `0x` + EIP-55 hex, TRON base58check of
/// the version byte `0x41` and the account.
pub fn format_account(network: Network, account: &[u8; 20]) -> String {
    match network.address_format {
        AddressFormat::Evm => format!("0x{}", eip55(&hex::encode(account))),
        AddressFormat::Tron => bs58::encode(account)
            .with_check_version(TRON_VERSION)
            .into_string(),
    }
}

/// The 20-byte account of a valid address of `network` (the inverse of
/// [`format_account`]); `None` when `address` does not validate.
pub fn account_of(network: Network, address: &str) -> Option<[u8; 20]> {
    let normal = validate(network, address).ok()?;
    let bytes = match network.address_format {
        AddressFormat::Evm => hex::decode(normal.strip_prefix("0x")?).ok()?,
        AddressFormat::Tron => bs58::decode(&normal)
            .with_check(Some(TRON_VERSION))
            .into_vec()
            .ok()?
            .split_off(1),
    };
    bytes.try_into().ok()
}

/// Hex digits of an EVM address.
pub const EVM_ADDRESS_HEX_DIGITS: usize = 40;

fn validate_evm(address: &str) -> Result<String, AddressError> {
    let digits = address.strip_prefix("0x").ok_or(AddressError::BadPrefix)?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AddressError::BadCharacters);
    }
    if digits.len() != EVM_ADDRESS_HEX_DIGITS {
        return Err(AddressError::BadLength);
    }
    let checksummed = eip55(digits);
    let has_lower = digits.bytes().any(|b| b.is_ascii_lowercase());
    let has_upper = digits.bytes().any(|b| b.is_ascii_uppercase());
    if has_lower && has_upper && digits != checksummed {
        return Err(AddressError::BadChecksum);
    }
    Ok(format!("0x{checksummed}"))
}

/// The EIP-55 spelling of 40 hex digits (without `0x`, any case): a letter is upper case
/// when the matching nibble of Keccak-256(lower-case hex as ASCII) is 8 or more.
pub fn eip55(hex_digits: &str) -> String {
    let lower = hex_digits.to_ascii_lowercase();
    let hash = Keccak256::digest(lower.as_bytes());
    lower
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let byte = hash.get(i / 2).copied().unwrap_or(0);
            let nibble = if i % 2 == 0 { byte >> 4 } else { byte & 0x0f };
            if b.is_ascii_alphabetic() && nibble >= 8 {
                char::from(b.to_ascii_uppercase())
            } else {
                char::from(b)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use AddressError::*;
    use sha2::Sha256;

    fn double_sha256(data: &[u8]) -> Vec<u8> {
        Sha256::digest(Sha256::digest(data)).to_vec()
    }

    const TRON_USDT: &str = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
    const ETH_USDT: &str = "0xdAC17F958D2ee523a2206206994597C13D831ec7";
    const BSC_USDT: &str = "0x55d398326f99059fF775485246999027B3197955";

    /// Well-known TRON addresses: USDT, USDC, WTRX contracts and the black-hole address.
    const TRON_VALID: &[&str] = &[
        TRON_USDT,
        "TEkxiTehnzSmSe2XqrBj4w32RUN966rdz8",
        "TNUC9Qb1rRpS5CbWLmNMxXBjyFoydXjWFR",
        "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb",
    ];

    /// Checksummed EVM addresses: USDT (Ethereum, BSC), WETH, USDC, WBNB, BUSD, and the
    /// mixed-case examples of the EIP-55 specification.
    const EVM_VALID: &[&str] = &[
        ETH_USDT,
        BSC_USDT,
        "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
        "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
        "0xbb4CdB9CBd36B01bD1cBaEBF2De08d9173bc095c",
        "0xe9e7CEA3DedcA5984780Bafc599bD69ADd087D56",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ];

    fn tron(address: &str) -> Result<String, AddressError> {
        validate(Network::TRON, address)
    }

    fn eth(address: &str) -> Result<String, AddressError> {
        validate(Network::ETHEREUM, address)
    }

    fn with_char(address: &str, position: usize, c: char) -> String {
        address
            .chars()
            .enumerate()
            .map(|(i, old)| if i == position { c } else { old })
            .collect()
    }

    #[test]
    fn real_tron_addresses_are_valid_and_unchanged() {
        for address in TRON_VALID {
            assert_eq!(tron(address).as_deref(), Ok(*address), "{address}");
        }
        // The USDT contract is 41a614f8…d13c in TRON's hex form.
        let bytes = bs58::decode(TRON_USDT).into_vec().unwrap();
        assert_eq!(
            hex::encode(&bytes[..21]),
            "41a614f803b6fd780986a42c78ec9c7f77e6ded13c"
        );
    }

    #[test]
    fn real_evm_addresses_are_valid_on_both_evm_networks() {
        for address in EVM_VALID {
            assert_eq!(eth(address).as_deref(), Ok(*address), "{address}");
            assert_eq!(
                validate(Network::BSC, address).as_deref(),
                Ok(*address),
                "{address}"
            );
        }
    }

    #[test]
    fn eip55_specification_vectors() {
        // All-caps and all-lower examples of EIP-55: valid as given, normalized to the
        // checksummed spelling.
        for address in [
            "0x52908400098527886E0F7030069857D2E4169EE7",
            "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
            "0xde709f2102306220921060314715629080e2fb77",
            "0x27b1fdb04752bbc536007a920d24acb045561c26",
        ] {
            let normalized = eth(address).unwrap();
            assert_eq!(
                normalized.to_ascii_lowercase(),
                address.to_ascii_lowercase()
            );
            // Those four have no letter whose case EIP-55 changes from the given spelling.
            assert_eq!(normalized, address);
        }
        for address in EVM_VALID {
            assert_eq!(format!("0x{}", eip55(&address[2..])), *address);
        }
    }

    #[test]
    fn evm_case_changes() {
        for address in EVM_VALID {
            let lower = format!("0x{}", address[2..].to_ascii_lowercase());
            let upper = format!("0x{}", address[2..].to_ascii_uppercase());
            // No checksum to check: valid, normalized to EIP-55.
            assert_eq!(eth(&lower).as_deref(), Ok(*address), "{lower}");
            assert_eq!(eth(&upper).as_deref(), Ok(*address), "{upper}");
            // Flipping the case of any single letter breaks the checksum.
            for (i, c) in address.char_indices().skip(2) {
                if !c.is_ascii_alphabetic() {
                    continue;
                }
                let flipped = if c.is_ascii_uppercase() {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                };
                let changed = with_char(address, i, flipped);
                let expected = if changed[2..].bytes().all(|b| !b.is_ascii_lowercase())
                    || changed[2..].bytes().all(|b| !b.is_ascii_uppercase())
                {
                    // The flip made it single-case (an address with one letter).
                    Ok(address.to_string())
                } else {
                    Err(BadChecksum)
                };
                assert_eq!(eth(&changed), expected, "{changed}");
            }
        }
    }

    #[test]
    fn evm_single_character_corruptions() {
        let (mut total, mut caught) = (0, 0);
        for address in EVM_VALID {
            for i in 2..address.len() {
                let original = char::from(address.as_bytes()[i]);
                // Another hex digit: still well-formed. The mixed-case checksum catches
                // the change unless the casing happens to be the new address's
                // checksum too (about 2^-letters: addresses with few letters, like
                // BSC's USDT, let a few through).
                for c in "0123456789abcdef".chars() {
                    if c.eq_ignore_ascii_case(&original) {
                        continue;
                    }
                    for c in [c, c.to_ascii_uppercase()] {
                        let changed = with_char(address, i, c);
                        let result = eth(&changed);
                        total += 1;
                        if result == Err(BadChecksum) {
                            caught += 1;
                        } else {
                            assert_eq!(result.as_deref(), Ok(changed.as_str()), "{changed}");
                        }
                    }
                }
                for bad in ['g', 'G', 'x', 'z', ' ', '-', 'é'] {
                    let changed = with_char(address, i, bad);
                    assert_eq!(eth(&changed), Err(BadCharacters), "{changed:?}");
                }
            }
        }
        assert!(caught * 100 >= total * 95, "caught {caught} of {total}");
        // The USDT contract of Ethereum has enough letters that every substitution is caught.
        for i in 2..ETH_USDT.len() {
            for c in "0123456789abcdefABCDEF".chars() {
                if c.eq_ignore_ascii_case(&char::from(ETH_USDT.as_bytes()[i])) {
                    continue;
                }
                let changed = with_char(ETH_USDT, i, c);
                assert_eq!(eth(&changed), Err(BadChecksum), "{changed}");
            }
        }
    }

    #[test]
    fn evm_length_and_prefix_changes() {
        assert_eq!(eth(&ETH_USDT[..41]), Err(BadLength));
        assert_eq!(eth(&format!("{ETH_USDT}7")), Err(BadLength));
        assert_eq!(eth("0x"), Err(BadLength));
        assert_eq!(
            eth("0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"),
            Err(BadLength),
            "a transaction hash"
        );
        assert_eq!(eth(&ETH_USDT[2..]), Err(BadPrefix), "bare hex");
        assert_eq!(eth(&format!("0X{}", &ETH_USDT[2..])), Err(BadPrefix));
        assert_eq!(eth(&format!("1x{}", &ETH_USDT[2..])), Err(BadPrefix));
        assert_eq!(eth(&format!(" {ETH_USDT}")), Err(BadPrefix));
        assert_eq!(eth(""), Err(BadPrefix));
        assert_eq!(eth(TRON_USDT), Err(BadPrefix), "a TRON address");
        assert_eq!(eth(&format!("{ETH_USDT} ")), Err(BadCharacters));
        assert_eq!(eth("0x0x"), Err(BadCharacters));
        // Characters are checked before the length.
        assert_eq!(eth("0xzz"), Err(BadCharacters));
    }

    #[test]
    fn tron_every_single_character_corruption() {
        let chars: Vec<char> = TRON_USDT.chars().collect();
        for (i, &original) in chars.iter().enumerate() {
            // Characters outside the alphabet.
            for bad in ['0', 'O', 'I', 'l', ' ', '+', 'é'] {
                let changed = with_char(TRON_USDT, i, bad);
                assert_eq!(tron(&changed), Err(BadCharacters), "{changed:?}");
            }
            for &c in BASE58_ALPHABET {
                let c = char::from(c);
                if c == original {
                    continue;
                }
                let changed = with_char(TRON_USDT, i, c);
                let expected = match i {
                    // A leading `1` is a zero byte: 26 bytes.
                    0 if c == '1' => BadLength,
                    // Any other first character changes the version byte.
                    0 => BadPrefix,
                    // The second character still reaches the version byte: upper-case
                    // letters keep 0x41, digits and lower case move it to 0x40 or 0x42.
                    1 if c.is_ascii_uppercase() => BadChecksum,
                    1 => BadPrefix,
                    _ => BadChecksum,
                };
                assert_eq!(tron(&changed), Err(expected), "{changed} (position {i})");
            }
        }
    }

    #[test]
    fn tron_case_changes() {
        // 'L' → 'l', 'i' → 'I', 'o' → 'O' leave the alphabet; other flips break the
        // checksum.
        for (i, c) in TRON_USDT.char_indices() {
            if !c.is_ascii_alphabetic() {
                continue;
            }
            let flipped = if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            };
            let changed = with_char(TRON_USDT, i, flipped);
            let expected = if matches!(flipped, 'l' | 'I' | 'O') {
                BadCharacters
            } else if i == 0 || (i == 1 && flipped.is_ascii_lowercase()) {
                // The first two characters reach the version byte.
                BadPrefix
            } else {
                BadChecksum
            };
            assert_eq!(tron(&changed), Err(expected), "{changed}");
        }
        assert_eq!(tron(&TRON_USDT.to_ascii_lowercase()), Err(BadCharacters));
        // No 'l' in the upper-case form, but 'I' and 'O' are outside the alphabet too.
        assert_eq!(tron(&TRON_USDT.to_ascii_uppercase()), Err(BadCharacters));
    }

    #[test]
    fn tron_length_and_prefix_changes() {
        assert_eq!(tron(&TRON_USDT[..33]), Err(BadLength), "truncated");
        assert_eq!(
            tron(&TRON_USDT[1..]),
            Err(BadLength),
            "first character lost"
        );
        assert_eq!(tron(&format!("{TRON_USDT}1")), Err(BadLength));
        assert_eq!(tron(&format!("{TRON_USDT}z")), Err(BadLength));
        assert_eq!(tron(&format!("1{TRON_USDT}")), Err(BadLength));
        assert_eq!(tron(""), Err(BadLength));
        assert_eq!(tron(&"z".repeat(10_000)), Err(BadLength));
        // Bitcoin addresses: valid base58check of 25 bytes, other version bytes.
        assert_eq!(tron("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"), Err(BadPrefix));
        assert_eq!(tron("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"), Err(BadPrefix));
        // An EVM address pasted for TRON.
        assert_eq!(tron(ETH_USDT), Err(BadPrefix));
        assert_eq!(tron(&ETH_USDT.to_ascii_uppercase()), Err(BadPrefix));
        // TRON's hex form is not accepted (base58 only): '0' is not base58.
        assert_eq!(
            tron("41a614f803b6fd780986a42c78ec9c7f77e6ded13c"),
            Err(BadCharacters)
        );
        assert_eq!(tron(&format!(" {TRON_USDT}")), Err(BadCharacters));
        assert_eq!(tron(&format!("{TRON_USDT}\n")), Err(BadCharacters));
    }

    #[test]
    fn tron_addresses_built_from_any_account_validate() {
        // Build an address from a 20-byte account the way wallets do and check it.
        for account in [[0u8; 20], [0xff; 20], [0x12; 20]] {
            let mut payload = vec![TRON_VERSION];
            payload.extend_from_slice(&account);
            let checksum = double_sha256(&payload);
            payload.extend_from_slice(&checksum[..4]);
            let address = bs58::encode(&payload).into_string();
            assert_eq!(
                address,
                bs58::encode(&payload[..21]).with_check().into_string()
            );
            assert_eq!(address.len(), TRON_ADDRESS_CHARS);
            assert!(address.starts_with('T'));
            assert_eq!(tron(&address).as_deref(), Ok(address.as_str()));
        }
    }

    #[test]
    fn reasons_are_the_wire_values() {
        assert_eq!(BadChecksum.reason(), "bad_checksum");
        assert_eq!(BadLength.reason(), "bad_length");
        assert_eq!(BadPrefix.reason(), "bad_prefix");
        assert_eq!(BadCharacters.reason(), "bad_characters");
    }

    #[test]
    fn the_base58_codec_matches_bitcoin_core_vectors() {
        // From the base58 test vectors of Bitcoin Core (src/test/data/base58_encode_decode.json).
        let vectors: &[(&str, &str)] = &[
            ("", ""),
            ("61", "2g"),
            ("626262", "a3gV"),
            ("636363", "aPEr"),
            (
                "73696d706c792061206c6f6e6720737472696e67",
                "2cFupjhnEsSn59qHXstmK2ffpLv2",
            ),
            (
                "00eb15231dfceb60925886b67d065299925915aeb172c06647",
                "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L",
            ),
            ("516b6fcd0f", "ABnLTmg"),
            ("bf4f89001e670274dd", "3SEo3LWLoPntC"),
            ("572e4794", "3EFU7m"),
            ("ecac89cad93923c02321", "EJDM8drfXA6uyA"),
            ("10c8511e", "Rt5zm"),
            ("00000000000000000000", "1111111111"),
            ("00", "1"),
            ("0000", "11"),
        ];
        for (hex_bytes, text) in vectors {
            let bytes = hex::decode(hex_bytes).unwrap();
            assert_eq!(
                bs58::encode(&bytes).into_string(),
                *text,
                "encode {hex_bytes}"
            );
            assert_eq!(
                bs58::decode(text).into_vec().unwrap(),
                bytes,
                "decode {text}"
            );
        }
        // Our alphabet check and the codec agree on every character.
        for byte in 0u8..=127 {
            let text = char::from(byte).to_string();
            assert_eq!(
                BASE58_ALPHABET.contains(&byte),
                bs58::decode(&text).into_vec().is_ok(),
                "{text:?}"
            );
        }
    }
}
