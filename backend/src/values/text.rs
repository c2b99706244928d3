//! Free text people write: reasons, notes, messages; and the ids merchants give their
//! own objects.

use serde_json::Value;

use crate::error::{ApiError, ApiResult};

/// A required free text: trimmed, 1 to `max` characters, no NUL.
pub fn bounded_text(param: &'static str, text: Option<String>, max: usize) -> ApiResult<String> {
    let text = text.map(|t| t.trim().to_owned()).unwrap_or_default();
    if text.is_empty() || text.chars().count() > max || text.contains('\0') {
        return Err(
            ApiError::invalid_request(format!("{param} must be 1 to {max} characters."))
                .with_param(param),
        );
    }
    Ok(text)
}

/// Why someone refuses, disputes or fails something: 1–2000 characters.
pub fn parse_reason(reason: Option<String>) -> ApiResult<String> {
    bounded_text("reason", reason, 2000)
}

/// A merchant's own id for an object (`merchant_order_id`, `merchant_withdrawal_id`):
/// 1–64 of `A-Za-z0-9._:-`, required.
pub fn parse_merchant_ref(param: &'static str, value: Option<Value>) -> ApiResult<String> {
    let id = super::required_string(param, value)?;
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    if ok {
        Ok(id)
    } else {
        Err(ApiError::invalid_request(format!(
            "{param} must be 1 to 64 characters of A-Z a-z 0-9 . _ : -"
        ))
        .with_param(param))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn texts_are_trimmed_and_bounded() {
        assert_eq!(bounded_text("note", Some("  hi ".into()), 5).unwrap(), "hi");
        for bad in [
            None,
            Some("   ".to_owned()),
            Some("x".repeat(6)),
            Some("a\0".into()),
        ] {
            let e = bounded_text("note", bad, 5).unwrap_err();
            assert_eq!(e.param.as_deref(), Some("note"));
        }
    }

    #[test]
    fn merchant_refs_are_short_visible_ids() {
        assert_eq!(
            parse_merchant_ref("merchant_order_id", Some(json!("inv-1.a:b_c"))).unwrap(),
            "inv-1.a:b_c"
        );
        for bad in [
            None,
            Some(json!(null)),
            Some(json!(1)),
            Some(json!("")),
            Some(json!("a b")),
            Some(json!("x".repeat(65))),
        ] {
            let e = parse_merchant_ref("merchant_withdrawal_id", bad).unwrap_err();
            assert_eq!(e.param.as_deref(), Some("merchant_withdrawal_id"));
        }
    }
}
