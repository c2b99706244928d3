//! Fiat currency codes as requests name them.

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::money::FiatCurrency;

/// A fiat code of the platform's table, in ISO upper case exactly as listed by
/// `GET /api/v1/public/currencies` (`cny` is not `CNY`: a code is an identifier, and a
/// lenient reading in one place and a strict one in another is how they drift).
pub fn parse_fiat_code(param: &'static str, code: &str) -> ApiResult<FiatCurrency> {
    FiatCurrency::find(code).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnsupportedCurrency,
            format!(
                "The fiat currency {code:?} is not supported; see GET /api/v1/public/currencies."
            ),
        )
        .with_param(param)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_upper_case_codes_parse() {
        assert_eq!(parse_fiat_code("fiat", "CNY").unwrap().code, "CNY");
        for bad in ["cny", " CNY", "XXX", ""] {
            let e = parse_fiat_code("fiat", bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::UnsupportedCurrency, "{bad:?}");
            assert_eq!(e.param.as_deref(), Some("fiat"));
        }
    }
}
