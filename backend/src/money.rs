//! Money types: parse, don't validate.
//!
//! Inside the server every amount is an integer in the smallest unit: [`Usdt`] is
//! micro-USDT (scale 6) and [`Fiat`] is the fiat's minor unit (scale from
//! [`FiatCurrency`]). Rates are [`Rate`] decimals. Strings from the API are parsed
//! strictly (no sign, no exponent, no more decimals than the scale, > 0, ≤ a maximum)
//! and printed with at least 2 decimals and no trailing zeros beyond that.

use std::fmt;

use rust_decimal::Decimal;

pub const USDT_SCALE: u32 = 6;
const MICRO: i64 = 1_000_000;
/// The largest amount accepted at the API edge: 1 000 000 000 USDT.
pub const MAX_USDT_MICROS: i64 = 1_000_000_000 * MICRO;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("must be a decimal string like \"100.50\"")]
    NotADecimal,
    #[error("must have at most {0} decimal places")]
    TooManyDecimals(u32),
    #[error("must be greater than zero")]
    NotPositive,
    #[error("is larger than the maximum allowed")]
    TooLarge,
}

/// Parses an unsigned decimal string into an integer of `scale` decimals.
/// Accepts `"1"`, `"1.5"`, `"0.000001"`; refuses signs, exponents, spaces, empty parts
/// (`"1."`, `".5"`), and more decimals than `scale`.
pub fn parse_scaled(text: &str, scale: u32, max: i64) -> Result<i64, AmountError> {
    let (int_part, frac_part) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int_part) || frac_part.is_some_and(|f| !digits(f)) {
        return Err(AmountError::NotADecimal);
    }
    let frac = frac_part.unwrap_or("");
    if frac.len() > scale as usize {
        return Err(AmountError::TooManyDecimals(scale));
    }
    let int_value: i64 = if int_part.len() > 18 {
        return Err(AmountError::TooLarge);
    } else {
        int_part.parse().map_err(|_| AmountError::NotADecimal)?
    };
    let unit = 10i64.pow(scale);
    let mut frac_value: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| AmountError::NotADecimal)?
    };
    frac_value *= 10i64.pow(scale - frac.len() as u32);
    let value = int_value
        .checked_mul(unit)
        .and_then(|v| v.checked_add(frac_value))
        .ok_or(AmountError::TooLarge)?;
    if value <= 0 {
        return Err(AmountError::NotPositive);
    }
    if value > max {
        return Err(AmountError::TooLarge);
    }
    Ok(value)
}

/// Formats an integer of `scale` decimals: at least `min(2, scale)` decimals, trailing
/// zeros beyond those trimmed. Negative values (signed statement lines) keep the sign.
pub fn format_scaled(value: i64, scale: u32) -> String {
    let unit = 10i128.pow(scale);
    let v = i128::from(value);
    let sign = if v < 0 { "-" } else { "" };
    let abs = v.abs();
    let int_part = abs / unit;
    if scale == 0 {
        return format!("{sign}{int_part}");
    }
    let mut frac = format!("{:0width$}", abs % unit, width = scale as usize);
    let keep = scale.min(2) as usize;
    while frac.len() > keep && frac.ends_with('0') {
        frac.pop();
    }
    format!("{sign}{int_part}.{frac}")
}

/// An amount of USDT in micro-USDT. Always > 0 when parsed from the API; sums and
/// balances use plain `i64` micro-USDT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Usdt(i64);

impl Usdt {
    pub fn parse(text: &str) -> Result<Self, AmountError> {
        parse_scaled(text, USDT_SCALE, MAX_USDT_MICROS).map(Self)
    }

    pub fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    pub fn micros(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Usdt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_usdt(self.0))
    }
}

/// Formats micro-USDT for the API (`1500000` → `"1.50"`).
pub fn format_usdt(micros: i64) -> String {
    format_scaled(micros, USDT_SCALE)
}

/// A fiat currency the platform quotes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FiatCurrency {
    pub code: &'static str,
    pub scale: u32,
}

/// The fiat table (ISO 4217 minor units).
pub const FIATS: &[FiatCurrency] = &[
    FiatCurrency {
        code: "CNY",
        scale: 2,
    },
    FiatCurrency {
        code: "USD",
        scale: 2,
    },
    FiatCurrency {
        code: "EUR",
        scale: 2,
    },
    FiatCurrency {
        code: "GBP",
        scale: 2,
    },
    FiatCurrency {
        code: "HKD",
        scale: 2,
    },
    FiatCurrency {
        code: "INR",
        scale: 2,
    },
    FiatCurrency {
        code: "PHP",
        scale: 2,
    },
    FiatCurrency {
        code: "THB",
        scale: 2,
    },
    FiatCurrency {
        code: "BRL",
        scale: 2,
    },
    FiatCurrency {
        code: "JPY",
        scale: 0,
    },
    FiatCurrency {
        code: "KRW",
        scale: 0,
    },
    FiatCurrency {
        code: "VND",
        scale: 0,
    },
    FiatCurrency {
        code: "IDR",
        scale: 0,
    },
];

impl FiatCurrency {
    /// Looks a code up (case-sensitive, ISO upper case).
    pub fn find(code: &str) -> Option<Self> {
        FIATS.iter().copied().find(|fiat| fiat.code == code)
    }

    /// The largest fiat amount accepted: 10^12 major units.
    pub fn max_minor(self) -> i64 {
        1_000_000_000_000i64.saturating_mul(10i64.pow(self.scale))
    }

    pub fn parse_amount(self, text: &str) -> Result<Fiat, AmountError> {
        parse_scaled(text, self.scale, self.max_minor()).map(|minor| Fiat {
            currency: self,
            minor,
        })
    }
}

/// An amount of fiat in its minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fiat {
    pub currency: FiatCurrency,
    pub minor: i64,
}

impl fmt::Display for Fiat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_scaled(self.minor, self.currency.scale))
    }
}

/// Fiat per USDT, or a fee/commission fraction. Positive, at most 8 decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(Decimal);

pub const RATE_SCALE: u32 = 8;

impl Rate {
    /// A price quote: > 0, ≤ 10^9.
    pub fn parse(text: &str) -> Result<Self, AmountError> {
        parse_scaled(text, RATE_SCALE, 1_000_000_000 * 10i64.pow(RATE_SCALE))
            .map(|v| Self(Decimal::new(v, RATE_SCALE).normalize()))
    }

    /// A fraction such as a fee rate: 0 ≤ value < 1 (zero allowed: a fee can be waived).
    pub fn parse_fraction(text: &str) -> Result<Self, AmountError> {
        if text.bytes().all(|b| b == b'0' || b == b'.') && text.starts_with('0') {
            let zero_shaped = text == "0" || text.strip_prefix("0.").is_some_and(|r| !r.is_empty());
            return if zero_shaped {
                Ok(Self(Decimal::ZERO))
            } else {
                Err(AmountError::NotADecimal)
            };
        }
        let parsed = Self::parse(text)?;
        if parsed.0 >= Decimal::ONE {
            return Err(AmountError::TooLarge);
        }
        Ok(parsed)
    }

    pub fn from_decimal(value: Decimal) -> Self {
        Self(value.normalize())
    }

    pub fn decimal(self) -> Decimal {
        self.0
    }

    /// `round_half_up(micros × self)` in micro-USDT: fees and commissions.
    pub fn apply_to_micros(self, micros: i64) -> i64 {
        let product = Decimal::from(micros) * self.0;
        product
            .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
            .try_into()
            .unwrap_or(i64::MAX)
    }

    /// `round_half_up(usdt × self, fiat scale)` in fiat minor units (DESIGN.md "Money").
    pub fn fiat_for(self, usdt_micros: i64, fiat: FiatCurrency) -> i64 {
        let usdt = Decimal::new(usdt_micros, USDT_SCALE);
        let fiat_major = (usdt * self.0).round_dp_with_strategy(
            fiat.scale,
            rust_decimal::RoundingStrategy::MidpointAwayFromZero,
        );
        (fiat_major * Decimal::from(10i64.pow(fiat.scale)))
            .trunc()
            .try_into()
            .unwrap_or(i64::MAX)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // At least 2 decimals, like amounts.
        let mut value = self.0.normalize();
        if value.scale() < 2 {
            value.rescale(2);
        }
        write!(f, "{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn usdt_parses_strictly() {
        assert_eq!(Usdt::parse("100.50").unwrap().micros(), 100_500_000);
        assert_eq!(Usdt::parse("1").unwrap().micros(), 1_000_000);
        assert_eq!(Usdt::parse("0.000001").unwrap().micros(), 1);
        for bad in [
            "",
            "-1",
            "+1",
            "1e3",
            "1.",
            ".5",
            " 1",
            "1 ",
            "0",
            "0.00",
            "1.0000001",
            "abc",
            "1,5",
            "NaN",
            "１",
        ] {
            assert!(Usdt::parse(bad).is_err(), "{bad:?} must be refused");
        }
        assert_eq!(
            Usdt::parse("1.0000001"),
            Err(AmountError::TooManyDecimals(6))
        );
        assert_eq!(Usdt::parse("0"), Err(AmountError::NotPositive));
        assert_eq!(Usdt::parse("1000000001"), Err(AmountError::TooLarge));
        assert_eq!(
            Usdt::parse("99999999999999999999999"),
            Err(AmountError::TooLarge)
        );
    }

    #[test]
    fn formats_with_two_decimals_minimum() {
        assert_eq!(format_usdt(100_000_000), "100.00");
        assert_eq!(format_usdt(100_500_000), "100.50");
        assert_eq!(format_usdt(1), "0.000001");
        assert_eq!(format_usdt(1_234_560), "1.23456");
        assert_eq!(format_usdt(-1_500_000), "-1.50");
        assert_eq!(format_usdt(0), "0.00");
        let jpy = FiatCurrency::find("JPY").unwrap();
        assert_eq!(format_scaled(718, jpy.scale), "718");
    }

    #[test]
    fn fiat_respects_scale() {
        let cny = FiatCurrency::find("CNY").unwrap();
        assert_eq!(cny.parse_amount("718.00").unwrap().minor, 71_800);
        assert!(cny.parse_amount("718.001").is_err());
        let jpy = FiatCurrency::find("JPY").unwrap();
        assert!(jpy.parse_amount("1.5").is_err());
        assert!(FiatCurrency::find("XXX").is_none());
    }

    #[test]
    fn fiat_amount_rounds_half_up() {
        let cny = FiatCurrency::find("CNY").unwrap();
        let rate = Rate::parse("7.18").unwrap();
        assert_eq!(rate.fiat_for(100_000_000, cny), 71_800);
        // 0.000001 × 7.18 = 0.00000718 → 0.00
        assert_eq!(rate.fiat_for(1, cny), 0);
        // 1.005 CNY rounds up to 1.01
        let r = Rate::parse("1.005").unwrap();
        assert_eq!(r.fiat_for(1_000_000, cny), 101);
        let jpy = FiatCurrency::find("JPY").unwrap();
        assert_eq!(Rate::parse("150.5").unwrap().fiat_for(1_000_000, jpy), 151);
    }

    #[test]
    fn rates_and_fractions() {
        assert_eq!(Rate::parse("7.18").unwrap().to_string(), "7.18");
        assert_eq!(Rate::parse("7").unwrap().to_string(), "7.00");
        assert!(Rate::parse("0").is_err());
        assert_eq!(Rate::parse_fraction("0").unwrap().decimal(), Decimal::ZERO);
        assert_eq!(
            Rate::parse_fraction("0.00").unwrap().decimal(),
            Decimal::ZERO
        );
        assert!(Rate::parse_fraction("1").is_err());
        assert!(Rate::parse_fraction("0.").is_err());
        let fee = Rate::parse_fraction("0.01").unwrap();
        assert_eq!(fee.apply_to_micros(100_000_000), 1_000_000);
        assert_eq!(fee.apply_to_micros(50), 1); // 0.5 rounds half up
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(micros in 1i64..=MAX_USDT_MICROS) {
            let text = format_usdt(micros);
            prop_assert_eq!(Usdt::parse(&text).unwrap().micros(), micros);
        }
    }
}
