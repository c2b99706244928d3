//! USDT amounts in requests.

use serde_json::Value;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::money::Usdt;

/// A USDT amount given as a decimal string (`"100.50"`); a number, a missing value or a
/// malformed string is `400 invalid_amount` naming `param`.
pub fn parse_usdt(value: Option<Value>, param: &'static str) -> ApiResult<Usdt> {
    let refused =
        |message: String| ApiError::new(ErrorCode::InvalidAmount, message).with_param(param);
    let text = match value {
        Some(Value::String(s)) => s,
        None | Some(Value::Null) => return Err(refused(format!("{param} is required."))),
        Some(_) => {
            return Err(refused(format!(
                "{param} must be a decimal string such as \"100.50\"."
            )));
        }
    };
    Usdt::parse(&text).map_err(|e| refused(format!("{param} {e}.")))
}
