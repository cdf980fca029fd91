//! Benchmark (not CI): one DNS sweep of the engine over a large zone.
//!
//! `dns_sweep ORIGIN COUNT CONCURRENCY RESOLVER...` declares `h0`…`h{COUNT-1}` A records
//! (`h{i}` → 10.{i/65536}.{i/256%256}.{i%256}, TTL 300, as bench/dns_sweep.sh writes the zone),
//! asks every resolver (`ip:port`, authoritative) for every record with the engine's own
//! `round`, `SWEEPS` times (default 5), and prints each sweep, the median sweep time, queries
//! per second and how many records came back ok.

use app::model::DnsStatus;
use crowsnest::config;
use crowsnest::dns::engine;
use crowsnest::dns::evaluate::AddressBook;
use crowsnest::dns::WireResolver;
use std::fmt::Write;
use std::path::Path;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [origin, count, concurrency, resolvers @ ..] = args.as_slice() else {
        return Err("usage: dns_sweep ORIGIN COUNT CONCURRENCY RESOLVER...".into());
    };
    let (count, concurrency): (u32, usize) = (count.parse()?, concurrency.parse()?);
    let mut text = String::from(
        "[instance]\nname = \"bench\"\nregion = \"r\"\n[probes]\ninterval_seconds = 60\ntimeout_ms = 5000\n\
         [[regions]]\nname = \"r\"\ndisplay = \"R\"\nprimary = true\n",
    );
    for (i, address) in resolvers.iter().enumerate() {
        writeln!(text, "[[resolvers]]\nname = \"auth-{i}\"\naddress = \"{address}\"\nkind = \"authoritative\"")?;
    }
    writeln!(text, "[zone]\norigin = \"{origin}\"")?;
    for i in 0..count {
        writeln!(
            text,
            "[[zone.records]]\nname = \"h{i}\"\ntype = \"A\"\nttl = 300\nvalues = [\"10.{}.{}.{}\"]",
            i / 65536,
            (i / 256) % 256,
            i % 256
        )?;
    }
    let estate = config::parse(Path::new("sweep.toml"), &text).map_err(|e| config::report(&e))?;
    let checks = engine::checks(&estate, &[], 0);
    let client = WireResolver::new(Duration::from_millis(estate.probes.timeout_ms));
    let book = AddressBook::from_estate(&estate);
    let queries = checks.len() * resolvers.len();
    let sweeps: usize = std::env::var("SWEEPS").ok().and_then(|s| s.parse().ok()).unwrap_or(5).max(1);
    // Several sweeps, as the engine runs one per interval: the first also opens the sockets the
    // others reuse. The median is the figure; every sweep is printed.
    let mut seconds = Vec::with_capacity(sweeps);
    let mut ok = 0;
    let mut records = 0;
    for sweep in 1..=sweeps {
        let started = Instant::now();
        let verdicts = engine::round(&estate, &checks, &client, &book, &Default::default(), concurrency, crowsnest::clock::now_ms).await;
        let elapsed = started.elapsed().as_secs_f64();
        ok = verdicts.iter().filter(|(_, v, _)| v.status == DnsStatus::Ok).count();
        records = verdicts.len();
        println!("  sweep {sweep}: {elapsed:.3} s, {:.0} queries/s, {ok} of {records} ok", queries as f64 / elapsed);
        seconds.push(elapsed);
    }
    seconds.sort_by(f64::total_cmp);
    let median = seconds[seconds.len() / 2];
    println!("crowsnest_sweep_seconds {median:.3} (median of {sweeps})");
    println!("crowsnest_queries {queries}");
    println!("crowsnest_queries_per_second {:.0}", queries as f64 / median);
    println!("crowsnest_records_ok {ok} of {records}");
    Ok(())
}
