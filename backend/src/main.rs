//! `otcpay`: the server and its operator commands.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use otcpay::auth;
use otcpay::config::Settings;
use otcpay::startup::{self, Application};
use otcpay::telemetry;

// glibc malloc was 20 % of the server's CPU under load (many small, short-lived
// allocations freed on other threads); mimalloc keeps them thread-local.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "otcpay",
    version,
    about = "Self-hosted USDT payments through an OTC acceptor network"
)]
struct Cli {
    /// Optional configuration file (TOML); environment variables override it.
    #[arg(long, global = true, default_value = "otcpay.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP (the default).
    Serve {
        /// Seed a demo merchant (keys printed once), three acceptors and an admin.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage admins.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Verify the ledger invariants; exits non-zero on a violation.
    CheckLedger,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an admin user.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(&cli.config) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format);
    telemetry::install_crypto_provider();
    match run(
        cli.command.unwrap_or(Command::Serve { demo: false }),
        settings,
    )
    .await
    {
        Ok(code) => code,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "otcpay failed");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve { demo } => {
            let admin_hint = settings.admin_email.clone();
            let app = Application::build(settings).await?;
            if demo {
                print_demo(
                    otcpay::demo::seed(&app.state())
                        .await
                        .map_err(|e| anyhow::anyhow!("demo seeding: {e}"))?,
                    app.public_url(),
                );
            }
            tracing::info!(url = %app.public_url(), "OTCPay is listening");
            match admin_hint {
                Some(email) => tracing::info!(
                    %email,
                    "log in with POST {}/api/v1/auth/login using OTCPAY_ADMIN_EMAIL / OTCPAY_ADMIN_PASSWORD",
                    app.public_url()
                ),
                None => tracing::info!(
                    "no admin configured: set OTCPAY_ADMIN_EMAIL and OTCPAY_ADMIN_PASSWORD, or run `otcpay admin create`"
                ),
            }
            app.run_until_stopped().await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            startup::build_state(settings.clone(), settings.cli_public_url()).await?;
            tracing::info!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin {
            command: AdminCommand::Create { email, password },
        } => {
            let state = startup::build_state(settings.clone(), settings.cli_public_url()).await?;
            let user =
                auth::service::create_admin(&state.db, &state.settings, &email, &password, "cli")
                    .await?;
            println!("created admin {} ({})", user.email, user.id);
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckLedger => {
            let state = startup::build_state(settings.clone(), settings.cli_public_url()).await?;
            let report = otcpay::ops::audit::audit(&state.db).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

fn print_demo(credentials: Option<otcpay::demo::DemoCredentials>, public_url: &str) {
    let Some(c) = credentials else {
        println!("demo data already present (keys were printed when it was seeded)");
        return;
    };
    println!("OTCPay demo data seeded. These secrets are shown once:");
    if let Some((email, password)) = &c.admin {
        println!("  admin login     {email} / {password}");
    }
    println!(
        "  acceptor login  {} / {}   (the desk: {}/login)",
        c.acceptor.0, c.acceptor.1, public_url
    );
    println!(
        "  merchant login  {} / {}   (the dashboard: {}/login)",
        c.merchant.0, c.merchant.1, public_url
    );
    println!(
        "  live API key    {}  secret {}",
        c.live_key.0, c.live_key.1
    );
    println!(
        "  test API key    {}  secret {}",
        c.test_key.0, c.test_key.1
    );
    println!("  webhook secret  {}", c.webhook_secret);
    println!("  three acceptors with 50 000 USDT each quote CNY at 7.18, 7.20 and 7.25");
}
