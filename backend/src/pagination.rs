//! List parameters shared by every list endpoint (API.md "Conventions"):
//! `?limit=` (1–100, default 20) and `?starting_after=<id>`, newest first; the response
//! is `{"data": [...], "has_more": bool}`.

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;

/// `?limit=&starting_after=` of every list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1–100 (default 20); out of range → `400 invalid_request` (`param`:
    /// `limit`).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// Return the items older than this id (the last `id` of the previous page).
    pub starting_after: Option<String>,
}

impl PageQuery {
    /// The validated page size.
    pub fn limit(&self) -> ApiResult<u64> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(
                ApiError::invalid_request("limit must be between 1 and 100.").with_param("limit"),
            ),
        }
    }
}

/// A list page. In the document each list is its own component, declared with
/// [`page_schema!`].
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub has_more: bool,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched newest first: the extra row
    /// only tells that there is more.
    pub fn from_rows(mut rows: Vec<T>, limit: u64) -> Self {
        let has_more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        Self {
            data: rows,
            has_more,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            data: self.data.into_iter().map(f).collect(),
            has_more: self.has_more,
        }
    }
}

/// Declares the document's component for a [`Page`] of `$item`: `{"data": [...],
/// "has_more": bool}` under the name `$name` (e.g. `OrderList`). Nothing constructs it:
/// handlers answer with `Page<$item>`, which serializes to the same shape.
#[macro_export]
macro_rules! page_schema {
    ($(#[$meta:meta])* $name:ident, $item:ty) => {
        $(#[$meta])*
        #[derive(utoipa::ToSchema)]
        #[allow(dead_code)]
        pub struct $name {
            /// The page, newest first.
            pub data: Vec<$item>,
            /// `true` when older items exist: pass the last `id` as `starting_after`.
            pub has_more: bool,
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_bounds() {
        assert_eq!(PageQuery::default().limit().unwrap(), 20);
        let q = |n| PageQuery {
            limit: Some(n),
            starting_after: None,
        };
        assert_eq!(q(100).limit().unwrap(), 100);
        assert!(q(0).limit().is_err());
        assert!(q(101).limit().is_err());
    }

    #[test]
    fn has_more_from_extra_row() {
        let page = Page::from_rows(vec![1, 2, 3], 2);
        assert_eq!(page.data, vec![1, 2]);
        assert!(page.has_more);
        assert!(!Page::from_rows(vec![1, 2], 2).has_more);
    }
}
