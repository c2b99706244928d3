//! The orders export: CSV rows built from the orders as they are read. Fields are
//! escaped (RFC 4180 quoting) and text that a spreadsheet would run as a formula
//! (`=`, `+`, `-`, `@`, tab, carriage return first) is neutralised with a leading `'`.
//! Amounts are decimal strings.

use crate::db::rfc3339;
use crate::money::format_usdt;
use crate::orders::order;

pub const HEADER: &str = "id,reference,merchant_order_id,mode,status,amount,fee,currency,fiat_amount,fiat_currency,created_at,completed_at\r\n";

/// One text field, safe for a spreadsheet.
pub fn text_field(value: &str) -> String {
    let neutral = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    quoted(&neutral)
}

/// RFC 4180: a field with a comma, a quote or a line break is quoted, quotes doubled.
fn quoted(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// One order as a CSV line (with its `\r\n`).
pub fn line(o: &order::Model) -> String {
    let fields = [
        text_field(&o.id),
        text_field(&o.reference),
        text_field(&o.merchant_order_id),
        (if o.livemode { "live" } else { "test" }).to_owned(),
        o.status.as_str().to_owned(),
        // Our own decimal strings: never negative, never a formula.
        format_usdt(o.amount),
        format_usdt(o.fee),
        "USDT".to_owned(),
        crate::orders::view::fiat_amount_of(o).unwrap_or_default(),
        text_field(&o.fiat_currency),
        rfc3339(o.created_at),
        o.completed_at.map(rfc3339).unwrap_or_default(),
    ];
    let mut text = fields.join(",");
    text.push_str("\r\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(text_field("plain-1"), "plain-1");
        assert_eq!(text_field("a,b"), "\"a,b\"");
        assert_eq!(text_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(text_field("=1+2"), "'=1+2");
        assert_eq!(text_field("+1"), "'+1");
        assert_eq!(text_field("-1"), "'-1");
        assert_eq!(text_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(
            text_field("=HYPERLINK(\"x\",1)"),
            "\"'=HYPERLINK(\"\"x\"\",1)\""
        );
        assert_eq!(text_field("line\nbreak"), "\"line\nbreak\"");
    }
}
