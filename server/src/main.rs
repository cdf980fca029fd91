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
    /// The estate config (TOML). Required: the demo's (`deploy/demo.toml`, with its public demo
    /// passwords) is only used when asked for, as `scripts/run.sh` does.
    #[arg(long, global = true, env = "CROWSNEST_CONFIG")]
    config: Option<PathBuf>,
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
    /// Manage users kept in the control store (the config's users are managed in the config).
    #[command(subcommand)]
    User(crowsnest::cli::UserCommand),
    /// Create or update the control store's schema (as its owner; the console may run as a
    /// role that cannot: deploy/postgres/least-privilege.sql).
    Migrate {
        /// Control store URL; overrides `instance.control_db`.
        #[arg(long, env = "CROWSNEST_CONTROL_DB")]
        control_db: Option<String>,
    },
    /// Check or export the hash-chained audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The public status page this region publishes.
    #[command(subcommand)]
    Status(StatusCommand),
    /// Convert an RFC 1035 zone file into `[zone]` records for the config (printed to stdout).
    ImportZone {
        /// The zone file.
        file: PathBuf,
        /// Origin to use until the file sets one with `$ORIGIN`.
        #[arg(long)]
        origin: Option<String>,
    },
    /// Write example configs, built and validated by the same typed builder the tests use.
    #[command(subcommand)]
    ExampleConfig(ExampleConfig),
}

#[derive(Subcommand)]
enum ExampleConfig {
    /// The two-region lab of `scripts/regions.sh`: writes DIR/sjc-1.toml and DIR/sin-1.toml.
    Regions(config::example::TwoRegions),
}

#[derive(Subcommand)]
enum StatusCommand {
    /// Copy the last published page (HTML, Statuspage JSON, badge) into DIR, to host elsewhere.
    Export {
        /// Where to write it; created if missing.
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify the chain: exit 0 when intact, 1 naming the first bad entry.
    Verify,
    /// Write every entry as JSON lines to standard output.
    Export,
}

#[derive(clap::Args)]
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

fn load(path: Option<&std::path::Path>) -> Result<config::Estate, ExitCode> {
    let Some(path) = path else {
        eprintln!(
            "crowsnest: give the estate config with --config FILE (or CROWSNEST_CONFIG); \
             `scripts/run.sh` serves the demo with --config deploy/demo.toml"
        );
        return Err(ExitCode::from(2));
    };
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

fn main() -> ExitCode {
    // Before the runtime's threads exist, so they share the arenas it allows.
    crowsnest::memory::tune();
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(serve_or_run()),
        Err(e) => {
            eprintln!("crowsnest: could not start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_or_run() -> ExitCode {
    let mut cli = Cli::parse();
    if cli.command.is_none() {
        // Bare `crowsnest` is `crowsnest serve`, with clap's defaults and environment applied.
        cli = Cli::parse_from(std::env::args_os().chain(["serve".into()]));
    }
    init_logs(cli.log_json);
    let config_path = cli.config.clone();
    let config = config_path.as_deref();
    let Some(command) = cli.command else { return ExitCode::FAILURE };
    match command {
        Command::User(user) => match load(config) {
            Ok(estate) => crowsnest::cli::user(&estate, user).await,
            Err(code) => code,
        },
        Command::Audit(audit) => match load(config) {
            Ok(estate) => match audit {
                AuditCommand::Verify => crowsnest::cli::audit_verify(&estate).await,
                AuditCommand::Export => crowsnest::cli::audit_export(&estate).await,
            },
            Err(code) => code,
        },
        Command::Status(StatusCommand::Export { dir }) => match load(config) {
            Ok(estate) => crowsnest::cli::status_export(&estate, &dir),
            Err(code) => code,
        },
        Command::Migrate { control_db } => match load(config) {
            Ok(mut estate) => {
                if let Some(url) = control_db {
                    estate.instance.control_db = Some(url);
                }
                let url = crowsnest::control_state::control_url(&estate);
                let migrated = async { crowsnest::store::ControlStore::connect(&url).await?.migrate().await }.await;
                match migrated {
                    Ok(()) => {
                        println!("control store migrated");
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("crowsnest migrate: {e}");
                        ExitCode::FAILURE
                    }
                }
            }
            Err(code) => code,
        },
        Command::CheckConfig => match load(config) {
            Ok(estate) => {
                println!(
                    "{}: ok ({} regions, {} hosts, {} hostnames)",
                    config.map(|p| p.display().to_string()).unwrap_or_default(),
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
        Command::ExampleConfig(ExampleConfig::Regions(regions)) => example_regions(&regions),
        Command::Lab => {
            let estate = match load(config) {
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
            let mut estate = match load(config) {
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
    use argon2::PasswordHasher;
    let mut password = String::new();
    if std::io::stdin().read_line(&mut password).is_err() || password.trim_end().is_empty() {
        eprintln!("crowsnest hash-password: type the password on standard input");
        return ExitCode::FAILURE;
    }
    match argon2::Argon2::default().hash_password(password.trim_end_matches(['\r', '\n']).as_bytes()) {
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

/// Writes the two-region lab's configs, each validated before it is written.
fn example_regions(regions: &config::example::TwoRegions) -> ExitCode {
    for (name, builder) in config::example::two_regions(regions) {
        let file = regions.dir.join(format!("{name}.toml"));
        if let Err(errors) = builder.build(&file.display().to_string()) {
            eprintln!("{}", config::report(&errors));
            return ExitCode::FAILURE;
        }
        if let Err(e) = std::fs::write(&file, builder.text()) {
            eprintln!("crowsnest example-config: cannot write {}: {e}", file.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
