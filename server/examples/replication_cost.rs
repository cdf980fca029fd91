//! Benchmark (not CI): what Crowsnest's replication monitoring costs the primary.
//!
//! Builds a real primary and three streaming standbys with pg_stat_statements loaded, runs the
//! replication engine at a 1 s interval for `BENCH_SECONDS` (default 60), then reads from the
//! primary's pg_stat_statements the total execution time of every statement Crowsnest sent
//! (application_name `crowsnest` is not recorded there, so the statistics are reset first and
//! nothing else runs on the cluster). Prints one line per figure.

use crowsnest::config;
use crowsnest::lab::pgcluster::Cluster;
use crowsnest::replication::engine::{self, ReplicationBoard};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: u64 = std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let dir = std::env::temp_dir().join(format!("crowsnest-bench-pg-{}", std::process::id()));
    let names = ["db-a", "db-b", "db-c"];
    let cluster = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || {
            Cluster::clear(&dir);
            Cluster::build(&dir, &names, "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = all", None)
                .map(Cluster::remove_on_drop)
        }
    })
    .await??;
    let mut text = String::from(
        "[instance]\nname = \"bench\"\nregion = \"r\"\n[replication]\ninterval_seconds = 1\ntimeout_ms = 800\n\
         [[regions]]\nname = \"r\"\ndisplay = \"R\"\nprimary = true\n",
    );
    for (i, node) in cluster.nodes().enumerate() {
        let host = if i == 0 { "db-primary" } else { names[i - 1] };
        text.push_str(&format!(
            "[[hosts]]\nname = \"{host}\"\nregion = \"r\"\ntier = \"db\"\naddress = \"127.7.0.{}\"\ncheck = {{ tcp = {} }}\n",
            i + 1,
            node.port
        ));
    }
    text.push_str(&format!(
        "[[databases]]\nname = \"main\"\nprimary = {{ host = \"db-primary\", dsn = \"{}\" }}\nreplicas = [\n",
        cluster.primary.dsn()
    ));
    for (name, node) in names.iter().zip(&cluster.standbys) {
        text.push_str(&format!("  {{ host = \"{name}\", dsn = \"{}\" }},\n", node.dsn()));
    }
    text.push_str("]\n");
    let estate = Arc::new(config::parse(Path::new("bench.toml"), &text).map_err(|e| config::report(&e))?);

    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&cluster.primary.dsn()).await?;
    sqlx::raw_sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements").execute(&mut conn).await?;
    sqlx::raw_sql("SELECT pg_stat_statements_reset()").execute(&mut conn).await?;

    let board = ReplicationBoard::default();
    let rounds = tokio::spawn(engine::run_rounds(
        estate.clone(),
        board.clone(),
        None,
        crowsnest::engines::Engine::new("replication", std::time::Duration::from_secs(60), 0),
    ));
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    rounds.abort();

    let rows: Vec<(String, i64, f64)> = sqlx::query_as(
        "SELECT query, calls, total_exec_time FROM pg_stat_statements \
         WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC",
    )
    .fetch_all(&mut conn)
    .await?;
    let total_ms: f64 = rows.iter().map(|r| r.2).sum();
    let calls: i64 = rows.iter().map(|r| r.1).sum();
    let specs = engine::specs(&estate);
    let status = crowsnest::replication::view::replication(&board, &estate, &specs, crowsnest::clock::now_ms()).clusters[0].status;
    println!("# replication monitoring cost: primary + 3 standbys, 1 s interval, {seconds} s, rounds={}", board.rounds());
    println!("primary_statement_time_ms_per_minute {:.3}", total_ms * 60.0 / seconds as f64);
    println!("primary_statements_per_minute {:.1}", calls as f64 * 60.0 / seconds as f64);
    println!("primary_statement_time_ms_per_round {:.4}", total_ms / board.rounds().max(1) as f64);
    println!("cluster_status_at_end {}", status.as_str());
    for (query, calls, ms) in rows.iter().take(8) {
        println!(
            "  {ms:>9.3} ms {calls:>6} calls  {}",
            query.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(90).collect::<String>()
        );
    }
    drop(conn);
    tokio::task::spawn_blocking(move || drop(cluster)).await?;
    Ok(())
}
