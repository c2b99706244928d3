//! Payment method codes (`bank_transfer`, `alipay`, …).

use std::fmt;

use crate::error::{ApiError, ApiResult};

/// A payment method code: 1 to [`PaymentMethodCode::MAX_CHARS`] characters of
/// `a-z 0-9 _`. Orders ask for one; acceptors list theirs under one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PaymentMethodCode(String);

impl PaymentMethodCode {
    pub const MAX_CHARS: usize = 32;

    pub fn parse(param: &'static str, text: &str) -> ApiResult<Self> {
        let ok = (1..=Self::MAX_CHARS).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(ApiError::invalid_request(format!(
                "{param} must be 1 to {} characters of a-z, 0-9 and _, like \"bank_transfer\".",
                Self::MAX_CHARS
            ))
            .with_param(param))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for PaymentMethodCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_lower_snake_case_up_to_32() {
        assert_eq!(
            PaymentMethodCode::parse("m", "bank_transfer")
                .unwrap()
                .as_str(),
            "bank_transfer"
        );
        assert!(PaymentMethodCode::parse("m", &"a".repeat(32)).is_ok());
        for bad in [
            "",
            "Bank",
            "bank transfer",
            "bank-transfer",
            &"a".repeat(33),
        ] {
            let e = PaymentMethodCode::parse("m", bad).unwrap_err();
            assert_eq!(e.param.as_deref(), Some("m"), "{bad:?}");
        }
    }
}
