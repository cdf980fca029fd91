//! The maintenance subcommands: `crowsnest user …` and `crowsnest audit …`. They open the
//! stores the config names, like the server does, and report with context.

use crate::audit::{self, AuditAction, NewAuditEntry};
use crate::clock::now_ms;
use crate::config::Estate;
use crate::control_state::control_url;
use crate::store::{ControlStore, LocalStore, UserChange};
use std::io::Write;
use std::process::ExitCode;

/// `crowsnest user …`.
#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        /// Login name.
        name: String,
        /// viewer, oncall or admin.
        #[arg(long, value_parser = ["viewer", "oncall", "admin"])]
        role: String,
    },
    /// Set a user's password (read from standard input); ends their sessions.
    Passwd {
        /// Login name.
        name: String,
    },
    /// Disable a user: they cannot log in, and their sessions end within a second.
    Disable {
        /// Login name.
        name: String,
    },
    /// Enable a disabled user again.
    Enable {
        /// Login name.
        name: String,
    },
    /// List every user with their role and standing.
    List,
}

async fn stores(estate: &Estate) -> Result<(ControlStore, LocalStore), String> {
    let dir = &estate.instance.data_dir;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let key = crate::control_state::audit_key(estate).map_err(|e| e.to_string())?;
    let local = LocalStore::open(&dir.join("local.db")).await.map_err(|e| e.to_string())?.keyed(key.clone());
    let control = ControlStore::open(&control_url(estate)).await.map_err(|e| e.to_string())?.keep_head_in(local.clone()).keyed(key);
    Ok((control, local))
}

fn read_password() -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| format!("cannot read the password: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn words(errors: Vec<(String, String)>) -> String {
    errors.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join("; ")
}

fn entry(action: AuditAction, target: &str, detail: String) -> NewAuditEntry {
    let actor = std::env::var("SUDO_USER").or_else(|_| std::env::var("USER")).unwrap_or_else(|_| "cli".into());
    NewAuditEntry::new(now_ms(), &format!("cli:{actor}"), action, target, "", detail)
}

/// Runs `crowsnest user …`.
pub async fn user(estate: &Estate, command: UserCommand) -> ExitCode {
    let result = async {
        let (control, _local) = stores(estate).await?;
        let configured = |name: &str| estate.users.iter().any(|u| u.name == name);
        match command {
            UserCommand::List => {
                for u in control.users().await.map_err(|e| e.to_string())? {
                    let source = if u.managed { "managed" } else { "config" };
                    let standing = if u.disabled { "disabled" } else { "active" };
                    println!("{:<20} {:<7} {:<8} {source}", u.name, u.role.as_str(), standing);
                }
                Ok(())
            }
            UserCommand::Add { name, role } => {
                let password = read_password()?;
                let role = crate::auth::check_new_user(&name, &role, &password).map_err(words)?;
                let hash = crate::auth::password::hash(&password)?;
                let added = control
                    .add_user(&name, role, &hash, entry(AuditAction::UserAdded, &name, format!("role {}", role.as_str())))
                    .await
                    .map_err(|e| e.to_string())?;
                if !added {
                    return Err(format!("there is already a user {name:?}"));
                }
                println!("added {name} ({})", role.as_str());
                Ok(())
            }
            UserCommand::Passwd { name } | UserCommand::Disable { name } | UserCommand::Enable { name } if configured(&name) => {
                Err(format!("{name:?} comes from the config's [[users]]; change it there"))
            }
            UserCommand::Passwd { name } => {
                let password = read_password()?;
                crate::auth::check_new_user(&name, "viewer", &password).map_err(words)?;
                let hash = crate::auth::password::hash(&password)?;
                change(&control, &name, UserChange::Password(hash), AuditAction::UserPasswordChanged).await
            }
            UserCommand::Disable { name } => change(&control, &name, UserChange::Disabled(true), AuditAction::UserDisabled).await,
            UserCommand::Enable { name } => change(&control, &name, UserChange::Disabled(false), AuditAction::UserEnabled).await,
        }
    };
    match result.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crowsnest user: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn change(control: &ControlStore, name: &str, change: UserChange, action: AuditAction) -> Result<(), String> {
    let changed = control.change_user(name, change, entry(action, name, String::new())).await.map_err(|e| e.to_string())?;
    if !changed {
        return Err(format!("there is no user {name:?}"));
    }
    println!("{action}: {name} (their sessions have ended)");
    Ok(())
}

/// Runs `crowsnest audit verify`: 0 when intact, 1 naming the first bad entry, 2 when the
/// stores cannot be read.
pub async fn audit_verify(estate: &Estate) -> ExitCode {
    let (control, local) = match stores(estate).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("crowsnest audit verify: {e}");
            return ExitCode::from(2);
        }
    };
    let (chain, heads) = match (control.audit_chain().await, local.audit_heads().await) {
        (Ok(c), Ok(h)) => (c, h),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("crowsnest audit verify: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(key) = control.audit_key().cloned() else {
        eprintln!("crowsnest audit verify: no audit key");
        return ExitCode::from(2);
    };
    // A replica may lag: a peer's head beyond its end is not yet here, not cut off. (This
    // instance's own head, and every head within the chain, still count.)
    let replica = !control.writable().await.unwrap_or(false);
    let heads: Vec<audit::Head> =
        heads.into_iter().filter(|h| !(replica && h.by != audit::THIS_INSTANCE && h.seq > chain.len() as i64)).collect();
    match audit::verify(&key, &chain, &heads) {
        Ok(n) => {
            if let Some(last) = chain.last() {
                // Verified: this is the head from now on (it only moves forward).
                let _ = local.set_audit_head(last.seq, &last.hash).await;
            }
            let peers = heads.iter().filter(|h| h.by != audit::THIS_INSTANCE).count();
            println!(
                "audit log intact: {n} entries, head {}; agrees with this instance's recorded head and {peers} peers' heads",
                chain.last().map_or("none".into(), |e| format!("{} {}", e.seq, &e.hash[..16]))
            );
            // This instance's own chain: what it did while it could not write the control store.
            match local
                .local_audit_chain()
                .await
                .map_err(|e| e.to_string())
                .and_then(|c| audit::verify(&key, &c, &[]).map_err(|b| format!("BROKEN: {b}")))
            {
                Ok(n) => {
                    println!("local audit chain intact: {n} entries");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("local audit chain {e}");
                    ExitCode::from(1)
                }
            }
        }
        Err(broken) => {
            eprintln!("audit log BROKEN: {broken}");
            ExitCode::from(1)
        }
    }
}

/// Runs `crowsnest audit export`: every entry as one JSON object per line.
pub async fn audit_export(estate: &Estate) -> ExitCode {
    let chain = match stores(estate).await {
        Ok((control, _)) => control.audit_chain().await.map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    let chain = match chain {
        Ok(c) => c,
        Err(e) => {
            eprintln!("crowsnest audit export: {e}");
            return ExitCode::from(2);
        }
    };
    let mut out = std::io::stdout().lock();
    for e in chain {
        let line = serde_json::json!({
            "seq": e.seq, "at_ms": e.entry.at_ms, "actor": e.entry.actor, "action": e.entry.action,
            "target": e.entry.target, "reason": e.entry.reason, "detail": e.entry.detail,
            "prev_hash": e.prev_hash, "hash": e.hash,
        });
        if writeln!(out, "{line}").is_err() {
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// The status page's files, relative to the edge directory's `status/`.
pub const STATUS_FILES: [&str; 11] = [
    "index.html",
    "badge.svg",
    "history.atom",
    "api/v2/summary.json",
    "api/v2/status.json",
    "api/v2/components.json",
    "api/v2/incidents.json",
    "api/v2/incidents/unresolved.json",
    "api/v2/scheduled-maintenances.json",
    "api/v2/scheduled-maintenances/upcoming.json",
    "api/v2/scheduled-maintenances/active.json",
];

/// Runs `crowsnest status export DIR`: copies the status page this region last published into
/// `DIR`, to be hosted anywhere else (object storage, another provider's web server).
pub fn status_export(estate: &Estate, to: &std::path::Path) -> ExitCode {
    let from = estate.edge_dir().join("status");
    if !from.join("index.html").is_file() {
        eprintln!(
            "crowsnest status export: nothing published yet in {}: configure [status_page] components and run the console",
            from.display()
        );
        return ExitCode::from(2);
    }
    for file in STATUS_FILES {
        let (src, dst) = (from.join(file), to.join(file));
        let copied = dst.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| std::fs::copy(&src, &dst));
        if let Err(e) = copied {
            eprintln!("crowsnest status export: {} -> {}: {e}", src.display(), dst.display());
            return ExitCode::FAILURE;
        }
    }
    println!("crowsnest status export: {} files from {} to {}", STATUS_FILES.len(), from.display(), to.display());
    ExitCode::SUCCESS
}
