use super::*;
use crate::acceptors::stats::{avg_release_seconds, completion_rate};
use crate::error::ErrorCode;
use serde_json::json;

fn create(body: Value) -> ApiResult<NewAcceptor> {
    serde_json::from_value::<CreateAcceptorRequest>(body)
        .unwrap()
        .validate()
}

fn param(err: ApiError) -> (ErrorCode, String) {
    (err.code, err.param.unwrap_or_default().into_owned())
}

#[test]
fn status_actions_follow_the_table() {
    use AcceptorStatus::*;
    assert_eq!(StatusAction::Approve.apply_to(Pending).unwrap(), Active);
    assert_eq!(StatusAction::Freeze.apply_to(Active).unwrap(), Frozen);
    assert_eq!(StatusAction::Unfreeze.apply_to(Frozen).unwrap(), Active);
    for (action, bad) in [
        (StatusAction::Approve, Active),
        (StatusAction::Approve, Frozen),
        (StatusAction::Freeze, Pending),
        (StatusAction::Freeze, Frozen),
        (StatusAction::Unfreeze, Active),
        (StatusAction::Unfreeze, Pending),
    ] {
        assert_eq!(
            action.apply_to(bad).unwrap_err().code,
            ErrorCode::InvalidState
        );
    }
    for s in AcceptorStatus::ALL {
        assert_eq!(AcceptorStatus::parse(s.as_str()), Some(s));
    }
}

#[test]
fn create_request_defaults_and_bounds() {
    let ok = create(json!({"email": " A@B.co ", "password": "long-enough-pw",
                           "display_name": " Ann "}))
    .unwrap();
    assert_eq!(ok.email, "a@b.co");
    assert_eq!(ok.display_name, "Ann");
    assert_eq!(ok.commission_rate.to_string(), "0.00");
    assert_eq!(ok.max_concurrent_orders, 10);
    let base = json!({"email": "a@b.co", "password": "long-enough-pw", "display_name": "A"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        create(b)
    };
    assert_eq!(
        param(with("commission_rate", json!("1")).unwrap_err()),
        (ErrorCode::InvalidAmount, "commission_rate".into())
    );
    assert_eq!(
        param(with("commission_rate", json!("-0.1")).unwrap_err()),
        (ErrorCode::InvalidAmount, "commission_rate".into())
    );
    assert_eq!(
        with("commission_rate", json!("0.004"))
            .unwrap()
            .commission_rate
            .to_string(),
        "0.004"
    );
    for bad in [0, 1001, -1] {
        assert_eq!(
            param(with("max_concurrent_orders", json!(bad)).unwrap_err()),
            (ErrorCode::InvalidRequest, "max_concurrent_orders".into())
        );
    }
    assert_eq!(
        with("max_concurrent_orders", json!(1000))
            .unwrap()
            .max_concurrent_orders,
        1000
    );
    assert_eq!(param(with("email", json!("nope")).unwrap_err()).1, "email");
    assert_eq!(
        param(with("password", json!("short")).unwrap_err()).1,
        "password"
    );
    assert_eq!(
        param(with("display_name", json!("  ")).unwrap_err()).1,
        "display_name"
    );
}

#[test]
fn patch_rejects_unknown_fields() {
    assert!(serde_json::from_value::<UpdateAcceptorRequest>(json!({"status": "active"})).is_err());
    let patch =
        serde_json::from_value::<UpdateAcceptorRequest>(json!({"max_concurrent_orders": 3}))
            .unwrap()
            .validate()
            .unwrap();
    assert_eq!(patch.max_concurrent_orders, Some(3));
    assert_eq!(patch.display_name, None);
}

#[test]
fn deposits_validate_network_and_amount() {
    let req = |amount: &str, network: &str| DepositRequest {
        amount: amount.into(),
        network: network.into(),
        txid: "t1".into(),
        note: Some("  ".into()),
    };
    let ok = req("100.5", "TRON").validate().unwrap();
    assert_eq!(ok.amount.micros(), 100_500_000);
    assert_eq!(ok.network, "tron");
    assert_eq!(ok.note, None);
    assert_eq!(ok.transfer_id(), "dep:tron:t1");
    assert_eq!(
        param(req("0", "tron").validate().unwrap_err()),
        (ErrorCode::InvalidAmount, "amount".into())
    );
    assert_eq!(
        param(req("1", "bitcoin").validate().unwrap_err()),
        (ErrorCode::UnsupportedNetwork, "network".into())
    );
}

#[test]
fn quotes_validate_bounds() {
    let cny = FiatCurrency::find("CNY").unwrap();
    let req = |rate: &str, min: &str, max: &str| QuoteRequest {
        rate: rate.into(),
        min_amount: min.into(),
        max_amount: max.into(),
    };
    let ok = req("7.18", "10.00", "5000").validate(cny).unwrap();
    assert_eq!(ok.rate.to_string(), "7.18");
    assert_eq!(ok.min_amount.micros(), 10_000_000);
    assert_eq!(
        param(req("0", "1", "2").validate(cny).unwrap_err()),
        (ErrorCode::InvalidAmount, "rate".into())
    );
    assert_eq!(
        param(req("20000000", "1", "2").validate(cny).unwrap_err()),
        (ErrorCode::InvalidAmount, "rate".into())
    );
    assert_eq!(
        param(req("7", "3", "2").validate(cny).unwrap_err()),
        (ErrorCode::InvalidAmount, "min_amount".into())
    );
    assert_eq!(
        param(req("7", "1", "x").validate(cny).unwrap_err()),
        (ErrorCode::InvalidAmount, "max_amount".into())
    );
    assert!(req("7", "2", "2").validate(cny).is_ok());
}

#[test]
fn payment_methods_validate_method_and_details() {
    let req = |method: &str, details: Value| PaymentMethodRequest {
        fiat: "cny".into(),
        method: method.into(),
        details,
    };
    let ok = req(
        "bank_transfer",
        json!({"bank_name": " ICBC ", "account_number": "1"}),
    )
    .validate()
    .unwrap();
    assert_eq!(ok.fiat.code, "CNY");
    assert_eq!(
        serde_json::from_str::<Value>(&ok.details).unwrap()["bank_name"],
        "ICBC"
    );
    for bad in ["", "Bank", "bank-transfer", &"a".repeat(33)] {
        assert_eq!(
            param(req(bad, json!({"a": "b"})).validate().unwrap_err()).1,
            "method"
        );
    }
    for bad in [
        json!(null),
        json!("x"),
        json!({}),
        json!({"a": 1}),
        json!({"reference": "x"}),
        json!({"a": "x".repeat(2100)}),
    ] {
        assert_eq!(
            param(req("alipay", bad).validate().unwrap_err()).1,
            "details"
        );
    }
    let unsupported = PaymentMethodRequest {
        fiat: "XXX".into(),
        method: "alipay".into(),
        details: json!({"a": "b"}),
    };
    assert_eq!(
        param(unsupported.validate().unwrap_err()),
        (ErrorCode::UnsupportedCurrency, "fiat".into())
    );
}

#[test]
fn stats_arithmetic() {
    assert_eq!(completion_rate(0, 0), "0.00");
    assert_eq!(completion_rate(19, 20), "0.95");
    assert_eq!(completion_rate(2, 3), "0.67");
    assert_eq!(completion_rate(1, 1), "1.00");
    assert_eq!(avg_release_seconds(0, 0), None);
    assert_eq!(avg_release_seconds(90_000, 2), Some(45));
    assert_eq!(avg_release_seconds(1_500, 1), Some(2));
    assert_eq!(avg_release_seconds(1_499, 1), Some(1));
}
