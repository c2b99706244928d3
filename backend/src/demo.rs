//! `otcpay serve --demo`: seeds a demo merchant (its keys are printed once), three
//! acceptors with liquidity, CNY quotes and payment methods, online, and — when no admin
//! is configured — an admin with a printed password. Seeding happens once: a database
//! that already has the demo merchant is left as it is.

use serde_json::json;

use crate::acceptors::model::{
    CreateAcceptorRequest, DepositRequest, PaymentMethodRequest, QuoteRequest,
};
use crate::acceptors::service::{self as acceptors, AdminContext};
use crate::auth::{self, Role};
use crate::error::{ApiError, ApiResult};
use crate::merchants::model::NewMerchant;
use crate::merchants::service::{self as merchants, Actor};
use crate::money::FiatCurrency;
use crate::state::AppState;

const DEMO_MERCHANT_EMAIL: &str = "demo-shop@otcpay.local";

/// What the operator needs to try the platform, printed once.
pub struct DemoCredentials {
    pub admin: Option<(String, String)>,
    /// The login of the best-quoting demo acceptor (Alice OTC), for the desk.
    pub acceptor: (String, String),
    /// The demo merchant's dashboard login (its invitation mail is also written).
    pub merchant: (String, String),
    pub live_key: (String, String),
    pub test_key: (String, String),
    pub webhook_secret: String,
}

async fn demo_admin(state: &AppState) -> ApiResult<(String, Option<(String, String)>)> {
    if let Some(email) = &state.settings.admin_email
        && let Some(user) = auth::service::find_by_email(&state.db, &email.to_lowercase()).await?
    {
        return Ok((user.id.to_string(), None));
    }
    let email = "admin@otcpay.local".to_owned();
    if let Some(user) = auth::service::find_by_email(&state.db, &email).await? {
        return Ok((user.id.to_string(), None));
    }
    let password = crate::ids::random_hex(8);
    let user = auth::service::create_user(
        &state.db,
        &state.settings,
        &email,
        &password,
        Role::Admin,
        "Demo admin",
    )
    .await?;
    Ok((user.id.to_string(), Some((email, password))))
}

/// Gives the demo merchant's login a printed password, as if its invitation had been
/// followed, so a newcomer can open the dashboard at once.
async fn demo_merchant_login(
    state: &AppState,
    merchant: &crate::merchants::merchant::Model,
) -> ApiResult<(String, String)> {
    let user_id = merchant
        .user_id
        .clone()
        .ok_or_else(|| ApiError::internal("demo merchant without a login"))?;
    let password = crate::ids::random_hex(8);
    let hash = auth::service::hash_password(&state.settings, &password).await?;
    let now = crate::db::now_ms();
    auth::service::set_password_hash(&state.db, &user_id, hash, now).await?;
    auth::service::set_email_verified(&state.db, &user_id, true, now).await?;
    Ok((merchant.email.clone(), password))
}

/// Seeds the demo data unless it exists. Returns the credentials when it seeded.
pub async fn seed(state: &AppState) -> ApiResult<Option<DemoCredentials>> {
    let exists = crate::merchants::service::find_merchant_by_email(&state.db, DEMO_MERCHANT_EMAIL)
        .await?
        .is_some();
    if exists {
        return Ok(None);
    }
    let (admin_id, admin) = demo_admin(state).await?;
    let created = merchants::create_merchant(
        state,
        Actor {
            user_id: &admin_id,
            ip: "demo",
        },
        NewMerchant::from_json(json!({
            "name": "Demo Shop", "email": DEMO_MERCHANT_EMAIL, "fee_rate": "0.01",
            "default_fiat": "CNY", "auto_approve_withdrawals_below": "100.00",
        }))?,
    )
    .await?;
    let merchant_login = demo_merchant_login(state, &created.merchant).await?;
    let ctx = AdminContext {
        admin_id: &admin_id,
        ip: Some("demo"),
    };
    let cny = FiatCurrency::find("CNY").ok_or_else(|| ApiError::internal("CNY missing"))?;
    let mut desk_login = None;
    for (i, (name, rate)) in [
        ("Alice OTC", "7.18"),
        ("Bob Exchange", "7.20"),
        ("Carol Pay", "7.25"),
    ]
    .into_iter()
    .enumerate()
    {
        let (email, password) = (
            format!("acceptor{}@otcpay.local", i + 1),
            crate::ids::random_hex(8),
        );
        if desk_login.is_none() {
            desk_login = Some((email.clone(), password.clone()));
        }
        let acceptor = acceptors::create(
            state,
            AdminContext {
                admin_id: ctx.admin_id,
                ip: ctx.ip,
            },
            CreateAcceptorRequest {
                email,
                password,
                display_name: name.to_owned(),
                commission_rate: Some("0.004".to_owned()),
                max_concurrent_orders: Some(20),
            }
            .validate()?,
        )
        .await?;
        crate::acceptors::deposits::deposit(
            state,
            AdminContext {
                admin_id: ctx.admin_id,
                ip: ctx.ip,
            },
            &acceptor.id,
            DepositRequest {
                amount: "50000.00".to_owned(),
                network: "tron".to_owned(),
                txid: format!("demo-deposit-{}", acceptor.id),
                note: Some("demo liquidity".to_owned()),
            }
            .validate()?,
        )
        .await?;
        acceptors::put_quote(
            state,
            &acceptor,
            QuoteRequest {
                rate: rate.to_owned(),
                min_amount: "1.00".to_owned(),
                max_amount: "5000.00".to_owned(),
            }
            .validate(cny)?,
        )
        .await?;
        acceptors::add_payment_method(
            state,
            &acceptor,
            PaymentMethodRequest {
                fiat: "CNY".to_owned(),
                method: "bank_transfer".to_owned(),
                details: json!({"bank_name": "Demo Bank", "account_name": name, "account_number": format!("6222 0000 000{}", i + 1)}),
            }
            .validate()?,
        )
        .await?;
        acceptors::set_online(state, &acceptor, true).await?;
    }
    let secret =
        |key: &crate::merchants::service::IssuedKey| key.secret.clone().unwrap_or_default();
    Ok(Some(DemoCredentials {
        admin,
        acceptor: desk_login.ok_or_else(|| ApiError::internal("no demo acceptor"))?,
        merchant: merchant_login,
        live_key: (created.live_key.key_id.clone(), secret(&created.live_key)),
        test_key: (created.test_key.key_id.clone(), secret(&created.test_key)),
        webhook_secret: created.webhook_secret.clone(),
    }))
}
