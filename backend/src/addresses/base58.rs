//! Base58 with the Bitcoin alphabet (also TRON's), without the check part: that is the
//! address validator's business.
//!
//! Leading zero bytes are written as leading `1`s, one per byte; the rest is the
//! big-endian number in base 58. Both directions are quadratic in the length, so callers
//! must bound the input (addresses are a few dozen characters).

/// The Bitcoin alphabet: no `0`, `O`, `I`, `l`.
pub const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// The value of an alphabet character, or `None` for any other character.
pub fn digit(c: char) -> Option<u8> {
    let byte = u8::try_from(c).ok()?;
    ALPHABET
        .iter()
        .position(|&a| a == byte)
        .and_then(|p| u8::try_from(p).ok())
}

/// True when every character is in the alphabet.
pub fn is_base58(text: &str) -> bool {
    text.chars().all(|c| digit(c).is_some())
}

/// Encodes bytes.
pub fn encode(bytes: &[u8]) -> String {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    // Base-58 digits, least significant first.
    let mut digits: Vec<u8> = Vec::with_capacity(bytes.len() * 138 / 100 + 1);
    for &byte in &bytes[zeros..] {
        let mut carry = u32::from(byte);
        for d in &mut digits {
            carry += u32::from(*d) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let mut out = String::with_capacity(zeros + digits.len());
    out.extend(std::iter::repeat_n('1', zeros));
    out.extend(
        digits
            .iter()
            .rev()
            .map(|&d| char::from(ALPHABET[usize::from(d)])),
    );
    out
}

/// Decodes a base58 string; `None` when a character is outside the alphabet.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let zeros = text.chars().take_while(|&c| c == '1').count();
    // Bytes, least significant first.
    let mut bytes: Vec<u8> = Vec::with_capacity(text.len() * 733 / 1000 + 1);
    for c in text.chars().skip(zeros) {
        let mut carry = u32::from(digit(c)?);
        for b in &mut bytes {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.push((carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let mut out = vec![0u8; zeros];
    out.extend(bytes.iter().rev());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_vectors() {
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
            assert_eq!(encode(&bytes), *text, "encode {hex_bytes}");
            assert_eq!(decode(text).unwrap(), bytes, "decode {text}");
        }
    }

    #[test]
    fn characters_outside_the_alphabet_are_refused() {
        for bad in [
            "0",
            "O",
            "I",
            "l",
            "abc0",
            " 1",
            "1 ",
            "é",
            "+",
            "T\u{200b}",
        ] {
            assert!(decode(bad).is_none(), "{bad:?}");
            assert!(!is_base58(bad), "{bad:?}");
        }
        assert!(is_base58(
            "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
        ));
        assert_eq!(digit('1'), Some(0));
        assert_eq!(digit('z'), Some(57));
    }

    proptest! {
        #[test]
        fn encode_then_decode_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let text = encode(&bytes);
            prop_assert!(is_base58(&text));
            prop_assert_eq!(decode(&text).unwrap(), bytes);
        }

        #[test]
        fn leading_zero_bytes_are_leading_ones(zeros in 0usize..8, rest in proptest::collection::vec(1u8..=255, 0..8)) {
            let mut bytes = vec![0u8; zeros];
            bytes.extend(&rest);
            let text = encode(&bytes);
            prop_assert_eq!(text.chars().take_while(|&c| c == '1').count(), zeros);
        }

        #[test]
        fn decode_then_encode_round_trips_canonical_strings(text in "[1-9A-HJ-NP-Za-km-z]{0,40}") {
            // Every base58 string is canonical: decoding and re-encoding gives it back.
            let bytes = decode(&text).unwrap();
            prop_assert_eq!(encode(&bytes), text);
        }
    }
}
