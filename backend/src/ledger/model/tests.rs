use super::*;
use crate::ledger::effect::{BalanceError, Effect, Side, apply_effect};

const NO_OVERDRAFT: i32 = account_flags::DEBITS_MUST_NOT_EXCEED_CREDITS;

fn funded(credits_posted: i64) -> Balances {
    Balances {
        credits_posted,
        ..Balances::default()
    }
}

#[test]
fn account_ids_are_deterministic_and_parse_back() {
    let key = AccountKey::merchant("mch_01ABC", true);
    assert_eq!(key.id(), "merchant:mch_01ABC:live");
    assert_eq!(key.to_string(), key.id());
    assert_eq!(AccountKey::escrow(false).id(), "escrow:platform:test");
    assert_eq!(AccountKey::parse_id(&key.id()), Some(key));
    for code in AccountCode::ALL {
        let key = AccountKey::new(code, "own:er", false);
        assert_eq!(AccountKey::parse_id(&key.id()), Some(key));
    }
    for bad in [
        "",
        "merchant",
        "merchant:x",
        "merchant::live",
        "nope:x:live",
        "merchant:x:prod",
    ] {
        assert_eq!(AccountKey::parse_id(bad), None, "{bad}");
    }
}

#[test]
fn only_custody_may_go_negative() {
    for code in AccountCode::ALL {
        let expected = if code == AccountCode::Custody {
            0
        } else {
            NO_OVERDRAFT
        };
        assert_eq!(code.default_flags(), expected, "{code}");
    }
    assert!(AccountCode::Escrow.is_platform());
    assert!(!AccountCode::Merchant.is_platform());
}

#[test]
fn balance_view_is_credit_normal() {
    let b = Balances {
        debits_pending: 10,
        debits_posted: 30,
        credits_pending: 5,
        credits_posted: 100,
    };
    assert_eq!(
        b.balance(),
        Balance {
            posted: 70,
            pending_debits: 10,
            pending_credits: 5,
            available: 60
        }
    );
    assert!(!b.debits_exceed_credits());
}

#[test]
fn posted_moves_posted_columns_and_refuses_overdraft() {
    let (d, c) = apply_effect(
        Effect::Posted { amount: 40 },
        funded(100),
        NO_OVERDRAFT,
        Balances::default(),
    )
    .unwrap();
    assert_eq!(d.debits_posted, 40);
    assert_eq!(c.credits_posted, 40);
    assert_eq!(
        apply_effect(Effect::Posted { amount: 61 }, d, NO_OVERDRAFT, c),
        Err(BalanceError::ExceedsCredits)
    );
    // Exactly the available amount is fine.
    let (d, _) = apply_effect(Effect::Posted { amount: 60 }, d, NO_OVERDRAFT, c).unwrap();
    assert_eq!(d.balance().available, 0);
    // Custody (no flag) goes negative.
    let (custody, _) = apply_effect(
        Effect::Posted { amount: 5 },
        Balances::default(),
        0,
        Balances::default(),
    )
    .unwrap();
    assert_eq!(custody.balance().posted, -5);
}

#[test]
fn pending_reserves_and_counts_against_available() {
    let (d, c) = apply_effect(
        Effect::Pending { amount: 70 },
        funded(100),
        NO_OVERDRAFT,
        Balances::default(),
    )
    .unwrap();
    assert_eq!(d.balance().available, 30);
    assert_eq!(c.balance().pending_credits, 70);
    assert_eq!(
        apply_effect(Effect::Posted { amount: 31 }, d, NO_OVERDRAFT, c),
        Err(BalanceError::ExceedsCredits)
    );
}

#[test]
fn partial_post_releases_the_rest_and_void_releases_all() {
    let (d, c) = apply_effect(
        Effect::Pending { amount: 70 },
        funded(100),
        NO_OVERDRAFT,
        Balances::default(),
    )
    .unwrap();
    let (d2, c2) = apply_effect(
        Effect::PostPending {
            pending_amount: 70,
            amount: 50,
        },
        d,
        NO_OVERDRAFT,
        c,
    )
    .unwrap();
    assert_eq!(d2.debits_pending, 0);
    assert_eq!(d2.debits_posted, 50);
    assert_eq!(d2.balance().available, 50);
    assert_eq!(c2.credits_pending, 0);
    assert_eq!(c2.credits_posted, 50);
    let (d3, c3) = apply_effect(
        Effect::VoidPending { pending_amount: 70 },
        d,
        NO_OVERDRAFT,
        c,
    )
    .unwrap();
    assert_eq!(d3, funded(100));
    assert_eq!(c3, Balances::default());
}

#[test]
fn overflow_is_an_error_not_a_wrap() {
    let full = Balances {
        credits_posted: i64::MAX,
        ..Balances::default()
    };
    assert_eq!(
        apply_effect(Effect::Posted { amount: 1 }, Balances::default(), 0, full),
        Err(BalanceError::Overflow(Side::Credit))
    );
    let debit = Balances {
        debits_posted: i64::MAX,
        credits_posted: i64::MAX,
        ..Balances::default()
    };
    assert_eq!(
        apply_effect(Effect::Pending { amount: 1 }, debit, 0, Balances::default()),
        Ok((
            Balances {
                debits_pending: 1,
                ..debit
            },
            Balances {
                credits_pending: 1,
                ..Balances::default()
            }
        ))
    );
    // …but for a no-overdraft account the sum check does not overflow either.
    assert_eq!(
        apply_effect(
            Effect::Pending { amount: 1 },
            debit,
            NO_OVERDRAFT,
            Balances::default()
        ),
        Err(BalanceError::ExceedsCredits)
    );
    // Releasing more than is pending (only on a corrupted cache) is refused.
    assert_eq!(
        apply_effect(
            Effect::VoidPending { pending_amount: 1 },
            Balances::default(),
            0,
            Balances::default()
        ),
        Err(BalanceError::Overflow(Side::Debit))
    );
}

#[test]
fn report_extension_hook_updates_ok() {
    let mut report = LedgerReport::new(2, 1, Vec::new());
    assert!(report.ok);
    report.add_violations([Violation::new("order_not_credited", "ord_1").with_transfer("t1")]);
    assert!(!report.ok);
    assert!(report.has("order_not_credited"));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["violations"][0]["transfer"], "t1");
    assert!(json["violations"][0].get("account").is_none());
}

#[test]
fn request_builders_set_kind_and_expectations() {
    let a = AccountKey::acceptor("acc_1", true);
    let e = AccountKey::escrow(true);
    let r = TransferRequest::pending("t1", a.clone(), e.clone(), 5).with_reference("ord_1");
    assert_eq!(r.kind, "pending");
    assert_eq!(r.reference, "ord_1");
    let p = TransferRequest::post_pending("t2", "t1", None)
        .with_kind("order_release")
        .expecting_accounts(a.clone(), e.clone());
    assert_eq!(p.op.pending_id(), Some("t1"));
    assert_eq!(p.op.flags(), transfer_flags::POST_PENDING);
    match p.op {
        TransferOp::PostPending { debit, credit, .. } => {
            assert_eq!(debit, Some(a));
            assert_eq!(credit, Some(e));
        }
        other => panic!("unexpected {other:?}"),
    }
}
