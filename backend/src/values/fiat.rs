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

/// The same codes typed by a person (the acceptor portal's quote paths such as
/// `/api/v1/acceptor/quotes/jpy` and payment methods): trimmed, in either case. The
/// merchant API's fields stay exact ([`parse_fiat_code`]).
pub fn parse_fiat_code_any_case(param: &'static str, text: &str) -> ApiResult<FiatCurrency> {
    parse_fiat_code(param, &text.trim().to_ascii_uppercase())
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
        assert_eq!(
            parse_fiat_code_any_case("fiat", " jpy ").unwrap().code,
            "JPY"
        );
        assert!(parse_fiat_code_any_case("fiat", "xxx").is_err());
    }
}
