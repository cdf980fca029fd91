//! Benchmark baseline: fetches one page from a running Crowsnest once, then serves exactly those
//! bytes from a bare axum handler. `bench/run.sh` loads both with wrk to compare SSR throughput
//! against the cost of HTTP alone.
//!
//! Usage: bare_page FROM_URL LISTEN_ADDR

use axum::{http::header, routing::get, Router};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (from, listen) = match (args.next(), args.next()) {
        (Some(f), Some(l)) => (f, l),
        _ => return Err("usage: bare_page FROM_URL LISTEN_ADDR".into()),
    };
    let body: &'static str = Box::leak(reqwest::get(&from).await?.error_for_status()?.text().await?.into_boxed_str());
    eprintln!("bare_page: serving {} bytes copied from {from} on {listen}", body.len());
    let app = Router::new().fallback(get(move || async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body) }));
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
