//! Configuration: built-in defaults → optional `otcpay.toml` → environment.
//!
//! Environment names are part of the contract (DESIGN.md "Runtime modes"): `OTCPAY_*`
//! for every field (`OTCPAY_LISTEN`, `OTCPAY_PUBLIC_URL`, `OTCPAY_DATA_DIR`,
//! `OTCPAY_MASTER_KEY`, `OTCPAY_ADMIN_EMAIL`, `OTCPAY_ADMIN_PASSWORD`,
//! `OTCPAY_LOG_FORMAT`, …) plus the conventional `DATABASE_URL`, `REDIS_URL` and
//! `SMTP_URL`. Secrets are wrapped in [`Secret`], which never prints its value.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// A string that must not reach logs. `Debug` and `Serialize` print `"[redacted]"`.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("[redacted]")
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The settings of one network, as configured.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ChainNetworkSettings {
    /// The node's JSON-RPC URL (a secret: hosted nodes put their API key in it).
    pub rpc_url: Option<Secret>,
    pub usdt_contract: Option<String>,
    /// Decimals of the USDT token contract; 6 when unset.
    pub usdt_decimals: Option<u8>,
    /// Blocks a transfer must be buried under before it is credited.
    pub confirmations: Option<u32>,
    /// The extended public key of the network's deposit account.
    pub xpub: Option<String>,
    /// The first block the watcher scans when it has no cursor yet.
    pub start_block: Option<u64>,
    /// How often the watcher asks the node for new blocks, in milliseconds.
    pub poll_ms: Option<u64>,
}

/// `[chain]`: one table per network.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ChainSettings {
    pub ethereum: ChainNetworkSettings,
    pub bsc: ChainNetworkSettings,
    pub tron: ChainNetworkSettings,
}

impl ChainSettings {
    /// The table of one network (`ethereum`, `bsc`, anything else: `tron`).
    pub fn of(&self, network_id: &str) -> &ChainNetworkSettings {
        match network_id {
            "ethereum" => &self.ethereum,
            "bsc" => &self.bsc,
            _ => &self.tron,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Address to bind, `host:port`. Port 0 picks a free port (tests).
    pub listen: String,
    /// Base of cashier links; `http://<listen>` when unset.
    pub public_url: Option<String>,
    /// Where the embedded SQLite database, the generated master key and mail go.
    pub data_dir: PathBuf,
    /// `postgres://…` or `sqlite://…`; the embedded SQLite file when unset.
    pub database_url: Option<Secret>,
    /// `redis://…`; in-process limiter, replay cache and event bus when unset.
    pub redis_url: Option<Secret>,
    /// Prefix of every Redis key and channel, so that several deployments (or test
    /// runs) can share one Redis.
    pub redis_prefix: String,
    /// `smtp://…`; mail is written to `<data_dir>/mail/` as .eml files when unset.
    pub smtp_url: Option<Secret>,
    /// The sender of every mail (`OTCPAY_MAIL_FROM`).
    pub mail_from: String,
    /// The first retry delay of a mail that could not be delivered; later ones grow.
    pub mail_retry_seconds: u64,
    /// How long an acceptor's desk may be gone before the acceptor goes offline
    /// (`OTCPAY_PRESENCE_GRACE_SECONDS`).
    pub presence_grace_seconds: u64,
    /// 32 bytes, hex: encrypts secrets at rest and keys the JWT and lookup hashes.
    pub master_key: Option<Secret>,
    pub admin_email: Option<String>,
    pub admin_password: Option<Secret>,
    pub log_format: LogFormat,
    /// Lifetime of a portal session token.
    pub session_ttl_seconds: u64,
    /// Failed logins allowed per email (and ×4 per client IP) in `login_window_seconds`.
    pub login_max_failures: u32,
    pub login_window_seconds: u64,
    /// Admin actions that move money need a session that passed a TOTP code
    /// (`OTCPAY_ADMIN_REQUIRE_2FA`; an operator may turn it off, and the log warns).
    pub admin_require_2fa: bool,
    /// Proxies whose `X-Forwarded-For` is believed for the client address: a
    /// comma-separated list of CIDRs or addresses (`OTCPAY_TRUSTED_PROXIES`); none by
    /// default.
    pub trusted_proxies: String,
    /// Webhooks to private and loopback addresses are refused unless this is true; the
    /// embedded default allows them so that local testing works.
    pub allow_private_webhooks: Option<bool>,
    /// Seconds in-flight requests get to finish on shutdown.
    pub shutdown_timeout_seconds: u64,
    /// Worker threads of the HTTP server; 0 = one per core.
    pub http_workers: usize,
    /// Maximum connections of the database pool (PostgreSQL; the order writers have
    /// one more each, `orders::writer::WRITERS`; SQLite always uses one connection).
    pub database_max_connections: u32,
    /// argon2id cost: memory in KiB and iterations (OWASP's recommendation by default).
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    /// How long an order waits for an acceptor before it expires.
    pub match_timeout_seconds: u64,
    /// After the customer reports payment, how long the acceptor has to confirm before
    /// the order is disputed automatically.
    pub release_window_seconds: u64,
    /// How long after expiry the customer or merchant may still appeal.
    pub appeal_window_seconds: u64,
    /// Quotes within this many basis points count as equal and share orders round-robin.
    pub rate_tolerance_bps: u32,
    /// Nudge fiat amounts so an acceptor never has two open orders of the same amount.
    pub distinct_fiat_amounts: bool,
    /// Seconds after which the sandbox acceptor confirms a test-mode order
    /// (`OTCPAY_SANDBOX_CONFIRM_AFTER`).
    pub sandbox_confirm_after: u64,
    /// How often the scheduler looks for due deadlines and the dispatcher for due
    /// webhooks, in milliseconds.
    pub scheduler_interval_ms: u64,
    /// After a webhook secret rotation, how long deliveries are also signed with the
    /// previous secret (`OTCPAY_WEBHOOK_SECRET_OVERLAP_SECONDS`).
    pub webhook_secret_overlap_seconds: u64,
    /// On-chain money in, per network (`chain::config`); every network off when unset.
    pub chain: ChainSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            public_url: None,
            data_dir: PathBuf::from("./data"),
            database_url: None,
            redis_url: None,
            redis_prefix: "otcpay:".to_owned(),
            smtp_url: None,
            mail_from: "OTCPay <noreply@otcpay.local>".to_owned(),
            mail_retry_seconds: 10,
            presence_grace_seconds: 120,
            master_key: None,
            admin_email: None,
            admin_password: None,
            log_format: LogFormat::Text,
            session_ttl_seconds: 12 * 3600,
            login_max_failures: 5,
            login_window_seconds: 15 * 60,
            admin_require_2fa: true,
            trusted_proxies: String::new(),
            allow_private_webhooks: None,
            shutdown_timeout_seconds: 30,
            http_workers: 0,
            database_max_connections: 16,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            match_timeout_seconds: 60,
            release_window_seconds: 30 * 60,
            appeal_window_seconds: 24 * 3600,
            rate_tolerance_bps: 10,
            distinct_fiat_amounts: false,
            sandbox_confirm_after: 3,
            scheduler_interval_ms: 500,
            webhook_secret_overlap_seconds: 24 * 3600,
            chain: ChainSettings::default(),
        }
    }
}

/// `OTCPAY_CHAIN_BSC_USDT_DECIMALS` (seen as `bsc_usdt_decimals`) →
/// `chain.bsc.usdt_decimals`.
/// Environment names arrive as written (upper case): compared without case.
fn chain_key(key: &figment::value::UncasedStr) -> figment::value::Uncased<'_> {
    let text = key.as_str().to_ascii_lowercase();
    for network in ["ethereum", "bsc", "tron"] {
        if let Some(field) = text
            .strip_prefix(network)
            .and_then(|rest| rest.strip_prefix('_'))
        {
            return format!("chain.{network}.{field}").into();
        }
    }
    format!("chain.{text}").into()
}

impl Settings {
    /// Loads the layered configuration. `config_file` that does not exist is skipped.
    pub fn load(config_file: &Path) -> Result<Self, Box<figment::Error>> {
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(config_file))
            .merge(Env::prefixed("OTCPAY_").filter(|key| !key.as_str().starts_with("chain_")))
            .merge(Env::prefixed("OTCPAY_CHAIN_").map(chain_key))
            .merge(Env::raw().only(&["DATABASE_URL", "REDIS_URL", "SMTP_URL"]))
            .extract()
            .map_err(Box::new)
    }

    /// True when no external database is configured: SQLite under `data_dir`.
    pub fn is_embedded(&self) -> bool {
        self.database_url.is_none()
    }

    pub fn allow_private_webhooks(&self) -> bool {
        self.allow_private_webhooks.unwrap_or(self.is_embedded())
    }

    pub fn public_url(&self, bound: &std::net::SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{bound}"),
        }
    }

    /// The public URL when no socket is bound (CLI commands): the configured one, or
    /// `http://<listen>`.
    pub fn cli_public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    /// The database to connect to: `DATABASE_URL`, or the embedded SQLite file.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_owned(),
            None => format!("sqlite://{}?mode=rwc", self.sqlite_path().display()),
        }
    }

    /// The embedded database file.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("otcpay.db")
    }

    /// The effective configuration as one log-friendly line, secrets redacted.
    pub fn redacted(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "<unprintable>".to_owned())
    }
}

/// Creates `dir` (and its parents) if needed and makes it readable by the owner only:
/// the data dir holds the SQLite database, the generated master key and mail.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Options that create files readable by the owner only.
pub fn private_file_options() -> std::fs::OpenOptions {
    #[allow(unused_mut)]
    let mut options = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Creates an empty file readable by the owner only, unless it exists (SQLite then gives
/// its `-wal` and `-shm` files the same mode).
pub fn create_private_file(path: &Path) -> std::io::Result<()> {
    private_file_options()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let settings = Settings {
            master_key: Some(Secret::new("00ff")),
            admin_password: Some(Secret::new("hunter2hunter2")),
            database_url: Some(Secret::new("postgres://u:pw@db/x")),
            ..Settings::default()
        };
        let line = settings.redacted();
        assert!(!line.contains("00ff"));
        assert!(!line.contains("hunter2"));
        assert!(!line.contains("pw@db"));
        assert!(format!("{settings:?}").contains("[redacted]"));
    }

    #[test]
    fn embedded_by_default() {
        let settings = Settings::default();
        assert!(settings.is_embedded());
        assert!(settings.allow_private_webhooks());
        assert!(settings.database_url().starts_with("sqlite://"));
        assert_eq!(settings.listen, "127.0.0.1:8080");
    }

    #[test]
    fn chain_tables_load_and_their_environment_names_map_to_them() {
        use figment::value::UncasedStr;
        for (env, key) in [
            ("bsc_usdt_decimals", "chain.bsc.usdt_decimals"),
            ("ethereum_rpc_url", "chain.ethereum.rpc_url"),
            ("tron_xpub", "chain.tron.xpub"),
            ("ETHEREUM_CONFIRMATIONS", "chain.ethereum.confirmations"),
        ] {
            assert_eq!(chain_key(UncasedStr::new(env)).as_str(), key);
        }
        let dir = std::env::temp_dir().join(format!("otcpay-config-{}", crate::ids::random_hex(6)));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("otcpay.toml");
        std::fs::write(
            &file,
            "[chain.bsc]\nrpc_url = \"https://bsc.example/key-abc123\"\nusdt_decimals = 18\n",
        )
        .unwrap();
        let settings = Settings::load(&file).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(settings.chain.bsc.usdt_decimals, Some(18));
        assert_eq!(
            settings.chain.bsc.rpc_url.as_ref().map(Secret::expose),
            Some("https://bsc.example/key-abc123")
        );
        assert_eq!(settings.chain.ethereum, ChainNetworkSettings::default());
        assert!(!settings.redacted().contains("key-abc123"));
    }
}
