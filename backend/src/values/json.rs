//! Strings out of a JSON body whose fields are read one by one (so that a wrong type is
//! reported on its field with the contract's code, not as unreadable JSON).

use serde_json::Value;

use crate::error::{ApiError, ApiResult};

/// `param` as a string; absent or `null` is `None`; another type is
/// `400 invalid_request` naming `param`.
pub fn optional_string(param: &'static str, value: Option<Value>) -> ApiResult<Option<String>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => {
            Err(ApiError::invalid_request(format!("{param} must be a string.")).with_param(param))
        }
    }
}

/// `param` as a string that must be there (`400 invalid_request` naming `param`).
pub fn required_string(param: &'static str, value: Option<Value>) -> ApiResult<String> {
    optional_string(param, value)?
        .ok_or_else(|| ApiError::invalid_request(format!("{param} is required.")).with_param(param))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_are_read_by_field() {
        assert_eq!(required_string("a", Some(json!("x"))).unwrap(), "x");
        assert_eq!(optional_string("a", Some(json!(null))).unwrap(), None);
        for bad in [None, Some(json!(null)), Some(json!(1)), Some(json!({}))] {
            assert_eq!(
                required_string("a", bad).unwrap_err().param.as_deref(),
                Some("a")
            );
        }
    }
}
