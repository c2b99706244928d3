//! Building and running the application: connect, migrate, bootstrap, bind, serve,
//! and stop cleanly.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Settings;
use crate::crypto::MasterKey;
use crate::error::{self, ApiError, ErrorCode};
use crate::http_body::MAX_BODY_BYTES;
use crate::infra::Infra;
use crate::metrics::Metrics;
use crate::state::{AppState, FeatureHandles};
use crate::{
    acceptors, auth, cashier, db, disputes, engine, merchants, openapi, ops, orders, public,
    telemetry, webhooks, withdrawals,
};

pub struct Application {
    server: Server,
    address: SocketAddr,
    state: web::Data<AppState>,
    shutdown: watch::Sender<bool>,
    workers: Vec<JoinHandle<()>>,
}

/// Connects to the database (migrating it), loads the master key and the Redis seams,
/// and creates the first admin when configured. Shared by `serve` and the CLI commands.
/// The networks that are on; refuses to start on incomplete or wrong chain settings
/// (RPC URL, USDT contract, decimals, the account's extended public key).
fn load_chains(settings: &Settings) -> anyhow::Result<crate::chain::Chains> {
    let networks = crate::chain::enabled(&settings.chain).map_err(anyhow::Error::msg)?;
    for chain in &networks {
        tracing::info!(
            network = chain.network.id,
            confirmations = chain.confirmations,
            usdt_decimals = chain.usdt_decimals,
            "on-chain deposits are on"
        );
    }
    Ok(crate::chain::Chains::new(networks))
}

pub async fn build_state(settings: Settings, public_url: String) -> anyhow::Result<AppState> {
    let trusted_proxies = crate::client_addr::TrustedProxies::parse(&settings.trusted_proxies)
        .map_err(anyhow::Error::msg)?;
    let chains = load_chains(&settings)?;
    if !settings.admin_require_2fa {
        tracing::warn!(
            "OTCPAY_ADMIN_REQUIRE_2FA=false: admins can move money without a second factor"
        );
    }
    let keys = MasterKey::load_or_create(
        settings.master_key.as_ref(),
        &settings.data_dir,
        settings.is_embedded(),
    )?;
    let db = db::connect(&settings)
        .await
        .context("connecting to the database")?;
    db::migrate(&db).await.context("running migrations")?;
    let redis_url = settings.redis_url.as_ref().map(|s| s.expose().to_owned());
    let infra = Infra::connect(redis_url.as_deref(), &settings.redis_prefix)
        .await
        .context("connecting to Redis")?;
    if let Some(email) = auth::service::bootstrap_admin(&db, &settings).await? {
        tracing::info!(%email, "created the first admin from OTCPAY_ADMIN_EMAIL");
    }
    let metrics = Arc::new(Metrics::default());
    let (engine, pending_events) = orders::engine_state::rebuild(
        &db,
        engine::config(settings.rate_tolerance_bps, settings.distinct_fiat_amounts),
    )
    .await
    .context("rebuilding the matching engine from the database")?;
    let webhook_wakeup = Arc::new(tokio::sync::Notify::new());
    let writer_connections = db::connect_writers(&settings, orders::writer::WRITERS)
        .await
        .context("connecting the order writers to the database")?
        .unwrap_or_else(|| vec![db.clone(); orders::writer::WRITERS]);
    let order_writer = orders::writer::OrderWriter::spawn(
        writer_connections,
        public_url.clone(),
        &metrics,
        &infra.event_bus,
        &webhook_wakeup,
    );
    let mut handles = FeatureHandles::default();
    handles.insert(merchants::key_cache::KeyCache::default());
    handles.insert(order_writer);
    handles.insert(chains);
    let state = AppState {
        handles,
        db,
        settings: Arc::new(settings),
        keys,
        infra,
        metrics,
        trusted_proxies,
        public_url,
        engine: engine::EngineHandle::spawn(engine),
        engine_decisions: orders::matching::persist_decisions,
        webhook_wakeup,
    };
    // Waiting orders that the restored engine could assign right away.
    orders::matching::handle_engine_events(&state, pending_events).await;
    Ok(state)
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        tracing::info!(config = %settings.redacted(), "effective configuration");
        let listener = TcpListener::bind(&settings.listen)
            .with_context(|| format!("binding {}", settings.listen))?;
        let address = listener.local_addr()?;
        let public_url = settings.public_url(&address);
        let state = web::Data::new(build_state(settings, public_url).await?);
        let metrics = web::Data::from(state.metrics.clone());
        let trusted_proxies = web::Data::new(state.trusted_proxies.clone());

        let workers_count = match state.settings.http_workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let shutdown_timeout = state.settings.shutdown_timeout_seconds;
        let known_routes = web::Data::new(crate::routing::KnownRoutes::new(
            openapi::routes().map_err(|err| anyhow::anyhow!("building the route table: {err}"))?,
        ));
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .app_data(known_routes.clone())
                .app_data(metrics.clone())
                .app_data(trusted_proxies.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(MAX_BODY_BYTES)
                        .error_handler(error::json_error_handler),
                )
                .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
                .app_data(web::QueryConfig::default().error_handler(error::query_error_handler))
                .app_data(web::PathConfig::default().error_handler(error::path_error_handler))
                .configure(routes)
                .default_service(web::to(crate::routing::unrouted))
                .wrap(from_fn(merchants::auth::rate_limit_headers))
                .wrap(from_fn(reject_oversized_bodies))
                .wrap(from_fn(crate::security_headers::middleware))
                .wrap(from_fn(telemetry::request_context))
        })
        .workers(workers_count)
        .shutdown_timeout(shutdown_timeout)
        .listen(listener)?
        .run();

        let (shutdown, shutdown_rx) = watch::channel(false);
        let workers = vec![
            orders::scheduler::spawn(state.clone(), shutdown_rx.clone()),
            webhooks::dispatcher::spawn(state.clone(), shutdown_rx.clone()),
            crate::mail::sender::spawn(state.clone(), shutdown_rx.clone()),
            acceptors::presence::spawn(state.clone(), shutdown_rx.clone()),
            crate::chain_watcher::scan::spawn(state.clone(), shutdown_rx.clone()),
        ];
        Ok(Self {
            server,
            address,
            state,
            shutdown,
            workers,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn public_url(&self) -> &str {
        &self.state.public_url
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until SIGINT/SIGTERM (actix stops accepting, lets in-flight requests
    /// finish within the shutdown timeout), then stops the background workers and
    /// waits for them.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        let _ = self.shutdown.send(true);
        for worker in self.workers {
            if tokio::time::timeout(Duration::from_secs(10), worker)
                .await
                .is_err()
            {
                tracing::warn!("a background worker did not stop within 10 s");
            }
        }
        tracing::info!("stopped");
        result
    }
}

/// Every route of the server. Features mount themselves here.
pub fn routes(cfg: &mut web::ServiceConfig) {
    // Orders first: actix tries routes in this order and matches every `{param}`
    // pattern with a regex, and order creation is the busiest request.
    orders::http::configure(cfg);
    ops::http::configure(cfg);
    public::http::configure(cfg);
    auth::http::configure(cfg);
    crate::ops::audit_log::configure(cfg);
    ops::audit::configure(cfg);
    merchants::http::configure(cfg);
    acceptors::http::configure(cfg);
    disputes::http::configure(cfg);
    webhooks::http::configure(cfg);
    withdrawals::http::configure(cfg);
    crate::chain_watcher::http::configure(cfg);
    cashier::http::configure(cfg);
    openapi::configure(cfg);
    crate::assets::configure(cfg);
    crate::pages::configure(cfg);
}

/// Refuses declared bodies over the limit before reading them, and paths or queries
/// with a NUL character.
async fn reject_oversized_bodies(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, actix_web::Error> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    // A NUL character cannot be stored in a PostgreSQL text column: refused up front
    // rather than failing a query.
    let target = req.uri().path_and_query().map_or("", |pq| pq.as_str());
    if target.contains("%00") {
        let error = ApiError::invalid_request("The path or query contains a NUL character.");
        let response = actix_web::ResponseError::error_response(&error);
        return Ok(req.into_response(response).map_into_right_body());
    }
    if declared.is_some_and(|len| len > MAX_BODY_BYTES) {
        let error = ApiError::new(
            ErrorCode::PayloadTooLarge,
            "The request body is larger than 64 KiB.",
        );
        let response = actix_web::ResponseError::error_response(&error);
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}
