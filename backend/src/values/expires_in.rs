//! How long an order waits for its customer.

use crate::error::{ApiError, ApiResult};

/// An order's lifetime in seconds, from [`ExpiresIn::MIN`] to [`ExpiresIn::MAX`];
/// [`ExpiresIn::DEFAULT`] when the request leaves it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiresIn(u32);

impl ExpiresIn {
    pub const MIN: u32 = 60;
    pub const MAX: u32 = 7200;
    pub const DEFAULT: ExpiresIn = ExpiresIn(900);

    /// `expires_in` of a request: a JSON number of seconds, or absent / `null`.
    pub fn parse(value: Option<&serde_json::Value>) -> ApiResult<Self> {
        let invalid = |m: &str| ApiError::invalid_request(m.to_owned()).with_param("expires_in");
        match value {
            None | Some(serde_json::Value::Null) => Ok(Self::DEFAULT),
            Some(serde_json::Value::Number(n)) => n
                .as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .filter(|v| (Self::MIN..=Self::MAX).contains(v))
                .map(Self)
                .ok_or_else(|| invalid("expires_in must be 60 to 7200 seconds.")),
            Some(_) => Err(invalid("expires_in must be a number of seconds.")),
        }
    }

    pub fn seconds(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lifetimes_are_whole_seconds_within_bounds() {
        assert_eq!(ExpiresIn::parse(None).unwrap(), ExpiresIn::DEFAULT);
        assert_eq!(ExpiresIn::parse(Some(&json!(null))).unwrap().seconds(), 900);
        assert_eq!(ExpiresIn::parse(Some(&json!(60))).unwrap().seconds(), 60);
        assert_eq!(
            ExpiresIn::parse(Some(&json!(7200))).unwrap().seconds(),
            7200
        );
        for bad in [
            json!(59),
            json!(7201),
            json!(-1),
            json!(90.5),
            json!("900"),
            json!(true),
        ] {
            let e = ExpiresIn::parse(Some(&bad)).unwrap_err();
            assert_eq!(e.param.as_deref(), Some("expires_in"), "{bad}");
        }
    }
}
