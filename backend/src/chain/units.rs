//! Token base units to micro-USDT (`i64`, scale 6), exactly.
//!
//! USDT has 6 decimals on Ethereum and TRON and 18 on BNB Smart Chain. A transfer is
//! read in the token's base units; the ledger counts micro-USDT. With more than 6
//! decimals the part below a micro-USDT cannot be credited: it is returned as the
//! remainder, for the record, never rounded up.

/// A transfer's value as the ledger can hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Converted {
    pub micro_usdt: i64,
    /// Base units below one micro-USDT (always 0 for 6 decimals or fewer).
    pub remainder: u128,
}

/// Why a value could not be converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UnitsError {
    #[error("the amount is beyond what the ledger counts")]
    TooLarge,
}

/// `base_units` of a token with `decimals` decimals, in micro-USDT.
pub fn to_micro_usdt(base_units: u128, decimals: u8) -> Result<Converted, UnitsError> {
    let (micro, remainder) = if decimals >= 6 {
        let unit = 10u128
            .checked_pow(u32::from(decimals - 6))
            .ok_or(UnitsError::TooLarge)?;
        (base_units / unit, base_units % unit)
    } else {
        let factor = 10u128.pow(u32::from(6 - decimals));
        (
            base_units.checked_mul(factor).ok_or(UnitsError::TooLarge)?,
            0,
        )
    };
    Ok(Converted {
        micro_usdt: i64::try_from(micro).map_err(|_| UnitsError::TooLarge)?,
        remainder,
    })
}

/// `micro_usdt` in base units of a token with `decimals` decimals (what a payment
/// order asks the customer to send).
pub fn to_base_units(micro_usdt: i64, decimals: u8) -> Result<u128, UnitsError> {
    let micro = u128::try_from(micro_usdt).map_err(|_| UnitsError::TooLarge)?;
    if decimals >= 6 {
        let unit = 10u128
            .checked_pow(u32::from(decimals - 6))
            .ok_or(UnitsError::TooLarge)?;
        micro.checked_mul(unit).ok_or(UnitsError::TooLarge)
    } else {
        let factor = 10u128.pow(u32::from(6 - decimals));
        if micro % factor != 0 {
            return Err(UnitsError::TooLarge);
        }
        Ok(micro / factor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_decimals_are_micro_usdt() {
        let c = to_micro_usdt(12_345_678, 6).unwrap();
        assert_eq!((c.micro_usdt, c.remainder), (12_345_678, 0));
        assert_eq!(to_base_units(12_345_678, 6).unwrap(), 12_345_678);
    }

    #[test]
    fn eighteen_decimals_keep_the_dust_apart() {
        // 100.000000123456789012 USDT on BSC.
        let raw = 100_000_000_123_456_789_012u128;
        let c = to_micro_usdt(raw, 18).unwrap();
        assert_eq!(c.micro_usdt, 100_000_000);
        assert_eq!(c.remainder, 123_456_789_012);
        assert_eq!(
            to_base_units(100_000_000, 18).unwrap(),
            100_000_000_000_000_000_000
        );
    }

    #[test]
    fn values_beyond_the_ledger_are_refused() {
        assert_eq!(to_micro_usdt(u128::MAX, 6), Err(UnitsError::TooLarge));
        assert_eq!(to_micro_usdt(u128::MAX, 2), Err(UnitsError::TooLarge));
        assert_eq!(to_base_units(-1, 6), Err(UnitsError::TooLarge));
        assert_eq!(to_micro_usdt(1, 2).unwrap().micro_usdt, 10_000);
        assert_eq!(to_base_units(10_001, 2), Err(UnitsError::TooLarge));
    }
}
