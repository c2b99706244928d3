//! Network ids as requests name them (`tron`, `ethereum`, `bsc`).

use serde_json::Value;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::values::networks::{NETWORKS, Network};

/// `param` as a network id of [`NETWORKS`], exactly as listed (an id, not a name:
/// `TRON` is not `tron`); anything else is `400 unsupported_network` naming the ids.
pub fn parse_network(param: &'static str, value: Option<&Value>) -> ApiResult<Network> {
    let supported = || NETWORKS.iter().map(|n| n.id).collect::<Vec<_>>().join(", ");
    let refused =
        |message: String| ApiError::new(ErrorCode::UnsupportedNetwork, message).with_param(param);
    match value {
        Some(Value::String(id)) => Network::find(id).ok_or_else(|| {
            refused(format!(
                "The network {id:?} is not supported; use one of {}.",
                supported()
            ))
        }),
        Some(Value::Null) | None => Err(refused(format!(
            "{param} is required; use one of {}.",
            supported()
        ))),
        Some(_) => Err(refused(format!(
            "{param} must be a string, one of {}.",
            supported()
        ))),
    }
}

/// A network id typed by a person (an admin recording an acceptor's deposit): trimmed,
/// in either case. The merchant and public API's fields stay exact ([`parse_network`]).
pub fn parse_network_any_case(param: &'static str, text: &str) -> ApiResult<Network> {
    parse_network(
        param,
        Some(&Value::String(text.trim().to_ascii_lowercase())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_listed_ids_parse() {
        assert_eq!(
            parse_network("network", Some(&json!("bsc"))).unwrap(),
            Network::BSC
        );
        for bad in [json!("TRON"), json!(""), json!(1), Value::Null] {
            let e = parse_network("network", Some(&bad)).unwrap_err();
            assert_eq!(e.code, ErrorCode::UnsupportedNetwork, "{bad}");
            assert_eq!(e.param.as_deref(), Some("network"));
        }
        assert!(parse_network("network", None).is_err());
        assert_eq!(
            parse_network_any_case("network", " TRON ").unwrap(),
            Network::TRON
        );
    }
}
