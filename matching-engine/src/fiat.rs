//! Fixed-point money arithmetic shared by the engine: rates, fiat amounts and
//! rate tolerance bands.
//!
//! Rates arrive as [`Decimal`] and are converted once, when a quote is set,
//! into an integer count of 10⁻⁸ fiat per USDT. Everything on the matching
//! path is then integer arithmetic, which is exact and deterministic.

use rust_decimal::Decimal;

/// Decimals kept for a rate internally; a quote with more decimals is refused.
pub const RATE_SCALE: u32 = 8;
/// Largest accepted rate, in fiat per USDT.
pub const MAX_RATE: i64 = 10_000_000;
/// Largest accepted order amount, in micro-USDT (100 million USDT).
pub const MAX_ORDER_AMOUNT: i64 = 100_000_000_000_000;
/// Largest accepted fiat scale (decimals of a minor unit).
pub const MAX_FIAT_SCALE: u32 = 3;

/// Decimals of a micro-USDT amount.
const USDT_SCALE: u32 = 6;
const RATE_UNIT: i64 = 10_i64.pow(RATE_SCALE);
const MAX_RATE_FIXED: i64 = MAX_RATE * RATE_UNIT;

/// A validated rate: the decimal the acceptor quoted and its fixed-point form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FixedRate {
    pub(crate) decimal: Decimal,
    /// Rate in units of 10⁻⁸ fiat per USDT.
    pub(crate) fixed: i64,
}

impl FixedRate {
    /// Converts a quoted rate, refusing zero, negative, too large or too
    /// precise values (no rounding ever happens here).
    pub(crate) fn parse(rate: Decimal) -> Option<Self> {
        if rate.is_sign_negative() || rate.is_zero() {
            return None;
        }
        let normalized = rate.normalize();
        let scale = normalized.scale();
        if scale > RATE_SCALE {
            return None;
        }
        let fixed = normalized
            .mantissa()
            .checked_mul(10_i128.pow(RATE_SCALE - scale))?;
        let fixed = i64::try_from(fixed).ok()?;
        (fixed <= MAX_RATE_FIXED).then_some(Self {
            decimal: rate,
            fixed,
        })
    }
}

/// `round_half_up(amount × rate)` in minor units of a fiat with `fiat_scale`
/// decimals.
///
/// With the engine's bounds (amount ≤ [`MAX_ORDER_AMOUNT`], rate ≤
/// [`MAX_RATE`], scale ≤ [`MAX_FIAT_SCALE`]) the result is at most 10¹⁸ and
/// fits an `i64`; the saturation below is never reached.
pub(crate) fn fiat_amount(amount_micro: i64, rate: FixedRate, fiat_scale: u32) -> i64 {
    debug_assert!(amount_micro > 0 && amount_micro <= MAX_ORDER_AMOUNT);
    debug_assert!(fiat_scale <= MAX_FIAT_SCALE);
    let product = i128::from(amount_micro) * i128::from(rate.fixed);
    let divisor = 10_i128.pow(USDT_SCALE + RATE_SCALE - fiat_scale);
    let rounded = (product + divisor / 2) / divisor;
    debug_assert!(rounded <= i128::from(i64::MAX));
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

/// The tolerance band of a fixed-point rate, as the lowest rate of its band.
///
/// Bands form a fixed grid so that a rate's band never depends on other
/// quotes: within each binary octave `[2^e, 2^(e+1))` the bands are
/// `w = max(1, ⌊2^e · tolerance / 10 000⌋)` units wide. Two rates in one band
/// therefore differ by less than the tolerance (relative to the lower one),
/// and bands are at least half the tolerance wide. Ordering rates by band is
/// monotone: a lower band always means a lower rate.
pub(crate) fn rate_band(rate_fixed: i64, tolerance_bps: u32) -> i64 {
    debug_assert!(rate_fixed > 0);
    let octave_start = 1_i64 << (63 - rate_fixed.leading_zeros());
    let width = (i128::from(octave_start) * i128::from(tolerance_bps) / 10_000).max(1);
    // width ≤ octave_start, so it fits an i64.
    let width = i64::try_from(width).unwrap_or(octave_start);
    octave_start + (rate_fixed - octave_start) / width * width
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn parses_rates_exactly_and_refuses_bad_ones() {
        assert_eq!(FixedRate::parse(dec("7.25")).unwrap().fixed, 725_000_000);
        assert_eq!(FixedRate::parse(dec("7.2500")).unwrap().fixed, 725_000_000);
        assert_eq!(FixedRate::parse(dec("0.00000001")).unwrap().fixed, 1);
        assert_eq!(
            FixedRate::parse(dec("10000000")).unwrap().fixed,
            MAX_RATE_FIXED
        );
        assert!(FixedRate::parse(dec("0.000000001")).is_none());
        assert!(FixedRate::parse(dec("0")).is_none());
        assert!(FixedRate::parse(dec("-1")).is_none());
        assert!(FixedRate::parse(dec("10000000.00000001")).is_none());
    }

    #[test]
    fn fiat_amount_rounds_half_up_at_the_fiat_scale() {
        let rate = FixedRate::parse(dec("7.25")).unwrap();
        // 100 USDT × 7.25 = 725.00 CNY
        assert_eq!(fiat_amount(100_000_000, rate, 2), 72_500);
        // 0.000001 USDT × 7.25 = 0.00000725 → 0.00
        assert_eq!(fiat_amount(1, rate, 2), 0);
        // 0.002 USDT × 7.25 = 0.0145 → 0.01; 0.003 × 7.25 = 0.02175 → 0.02
        assert_eq!(fiat_amount(2_000, rate, 2), 1);
        assert_eq!(fiat_amount(3_000, rate, 2), 2);
        // exactly half: 0.5 JPY rounds up to 1
        let jpy = FixedRate::parse(dec("150")).unwrap();
        assert_eq!(fiat_amount(3_333, jpy, 0), 0); // 0.49995
        assert_eq!(fiat_amount(3_334, jpy, 0), 1); // 0.5001
        let half = FixedRate::parse(dec("0.5")).unwrap();
        assert_eq!(fiat_amount(1_000_000, half, 0), 1); // 0.5 → 1
    }

    #[test]
    fn fiat_amount_at_the_bounds_fits() {
        let rate = FixedRate::parse(Decimal::from(MAX_RATE)).unwrap();
        assert_eq!(
            fiat_amount(MAX_ORDER_AMOUNT, rate, MAX_FIAT_SCALE),
            1_000_000_000_000_000_000
        );
    }

    #[test]
    fn bands_are_monotone_and_narrower_than_the_tolerance() {
        for tolerance in [0_u32, 1, 10, 25, 100, 10_000] {
            let mut previous_band = 0;
            for rate in (1..200_000_i64).map(|i| i * 7_919 + i * i) {
                let band = rate_band(rate, tolerance);
                assert!(band <= rate && band >= previous_band);
                // A band's lowest rate and this rate differ by less than the
                // tolerance (or are equal when the tolerance is below one unit).
                assert!(
                    i128::from(rate - band) * 10_000 < i128::from(band) * i128::from(tolerance)
                        || rate == band
                );
                previous_band = band;
            }
        }
        assert_eq!(rate_band(12_345, 0), 12_345);
    }
}
