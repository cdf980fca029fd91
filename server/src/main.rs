//! `crowsnest`: the ops console binary. See `crowsnest --help`.

use clap::{Parser, Subcommand};
use crowsnest::config;
use crowsnest::run::{self, Server, Site};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Crowsnest: the ops console for a multi-region web service.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// The estate config (TOML).
    #[arg(long, global = true, env = "CROWSNEST_CONFIG", default_value = "deploy/demo.toml")]
    config: PathBuf,
    /// Log as JSON lines instead of text.
    #[arg(long, global = true, env = "CROWSNEST_LOG_JSON")]
    log_json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the console (the default when no command is given).
    Serve(ServeArgs),
    /// Stand the estate up on loopback (hosts, DNS, control API) without the console.
    Lab,
    /// Validate the config and print every mistake with file, line and key.
    CheckConfig,
    /// Read a password from standard input and print its argon2id hash for `users.password_hash`.
    HashPassword,
    /// Convert an RFC 1035 zone file into `[zone]` records for the config (printed to stdout).
    ImportZone {
        /// The zone file.
        file: PathBuf,
        /// Origin to use until the file sets one with `$ORIGIN`.
        #[arg(long)]
        origin: Option<String>,
    },
}

#[derive(clap::Args, Default)]
struct ServeArgs {
    /// Listen address; overrides `instance.listen`.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Control store URL (`postgres://…` or `sqlite://…`); overrides `instance.control_db`.
    #[arg(long, env = "CROWSNEST_CONTROL_DB")]
    control_db: Option<String>,
    /// Data directory for the local store; overrides `instance.data_dir`.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Directory of the built site (wasm, js, css).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    site_root: PathBuf,
    /// Also start the lab in this process, so the console has a live estate to watch.
    #[arg(long)]
    lab: bool,
}

fn load(path: &std::path::Path) -> Result<config::Estate, ExitCode> {
    config::load(path).map_err(|errors| {
        eprint!("{}", config::report(&errors));
        ExitCode::from(2)
    })
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,hickory_server=warn,hickory_net=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(cli.log_json);
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::CheckConfig => match load(&cli.config) {
            Ok(estate) => {
                println!(
                    "{}: ok ({} regions, {} hosts, {} hostnames)",
                    cli.config.display(),
                    estate.regions.len(),
                    estate.hosts.len(),
                    estate.hostnames.len()
                );
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Command::HashPassword => hash_password(),
        Command::ImportZone { file, origin } => import_zone(&file, origin.as_deref()),
        Command::Lab => {
            let estate = match load(&cli.config) {
                Ok(e) => Arc::new(e),
                Err(code) => return code,
            };
            match crowsnest::lab::Lab::start(estate).await {
                Ok(lab) => {
                    run::stop_signal().await;
                    lab.stop().await;
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("crowsnest lab: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Serve(args) => {
            let mut estate = match load(&cli.config) {
                Ok(e) => e,
                Err(code) => return code,
            };
            if let Some(listen) = args.listen {
                estate.instance.listen = listen;
            }
            if let Some(url) = args.control_db {
                estate.instance.control_db = Some(url);
            }
            if let Some(dir) = args.data_dir {
                estate.instance.data_dir = dir;
            }
            let site = Site { root: args.site_root };
            match Server::start(Arc::new(estate), site, args.lab).await {
                Ok(server) => {
                    run::stop_signal().await;
                    tracing::info!("stopping");
                    server.stop().await;
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("crowsnest serve: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn hash_password() -> ExitCode {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let mut password = String::new();
    if std::io::stdin().read_line(&mut password).is_err() || password.trim_end().is_empty() {
        eprintln!("crowsnest hash-password: type the password on standard input");
        return ExitCode::FAILURE;
    }
    let salt = SaltString::generate(&mut OsRng);
    match argon2::Argon2::default().hash_password(password.trim_end_matches(['\r', '\n']).as_bytes(), &salt) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("crowsnest hash-password: {e}");
            ExitCode::FAILURE
        }
    }
}

fn import_zone(file: &std::path::Path, origin: Option<&str>) -> ExitCode {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("crowsnest import-zone: cannot read {}: {e}", file.display());
            return ExitCode::FAILURE;
        }
    };
    match crowsnest::dns::zonefile::parse(&text, origin) {
        Ok(zone) => {
            print!("{}", crowsnest::dns::zonefile::to_toml(&zone));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}:{}: {}", file.display(), e.line, e.message);
            ExitCode::from(2)
        }
    }
}
