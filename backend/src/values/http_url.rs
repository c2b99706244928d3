//! Absolute http(s) URLs a merchant gives us to call or to send a customer to
//! (`webhook_url`, an order's `callback_url` and `return_url`).

use std::fmt;

use crate::error::{ApiError, ApiResult};

/// An absolute `http`/`https` URL with a host, at most [`HttpUrl::MAX_LEN`] bytes,
/// kept as written (trimmed): it is echoed back and signed over exactly. Whether its
/// address may be called is the SSRF guard's business (`ssrf`), when it is
/// saved and again at each delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl(String);

impl HttpUrl {
    pub const MAX_LEN: usize = 2048;

    pub fn parse(param: &'static str, text: &str) -> ApiResult<Self> {
        let text = text.trim();
        // The WHATWG parser reads `https:///x` as host `x`: a slip, not a host.
        let names_a_host = text
            .split_once("://")
            .is_some_and(|(_, rest)| !rest.starts_with(['/', '\\']));
        let valid = text.len() <= Self::MAX_LEN
            && names_a_host
            && reqwest::Url::parse(text).is_ok_and(|url| {
                matches!(url.scheme(), "http" | "https")
                    && url.host_str().is_some_and(|host| !host.is_empty())
            });
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(ApiError::invalid_request(format!(
                "{param} must be an http(s) URL of at most {} characters.",
                Self::MAX_LEN
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

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_http_urls_with_a_host_parse_as_written() {
        for good in [
            "https://shop.example/hook?x=1",
            "http://10.0.0.1:8080/cb",
            "HTTPS://Shop.Example/A",
        ] {
            assert_eq!(HttpUrl::parse("u", good).unwrap().as_str(), good);
        }
        assert_eq!(
            HttpUrl::parse("u", "  https://shop.example/  ")
                .unwrap()
                .as_str(),
            "https://shop.example/"
        );
        let long = format!("https://shop.example/{}", "a".repeat(HttpUrl::MAX_LEN));
        for bad in [
            "",
            "not a url",
            "ftp://shop.example/x",
            "https://",
            "https:///path",
            "shop.example/x",
            "https://exa mple.com/",
            long.as_str(),
        ] {
            let e = HttpUrl::parse("u", bad).unwrap_err();
            assert_eq!(e.param.as_deref(), Some("u"), "{bad:?}");
        }
    }
}
