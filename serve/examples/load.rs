//! A bounded load test of a running `vigil serve`: N concurrent clients send a fixed count
//! of requests in all; prints throughput, latency percentiles and errors as one JSON line.
//!
//!   cargo run --release -p vigil --example load -- --url http://127.0.0.1:8080 \
//!       --path /v1/models/fleet/detect --body day.csv --content-type text/csv \
//!       --clients 8 --requests 400
//!
//! `bench/scripts/serve_load.sh` starts the server, prepares a model and runs this.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;

#[derive(Debug, Parser)]
struct Args {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The route to call.
    #[arg(long, default_value = "/healthz")]
    path: String,
    /// POST this file's bytes (else GET).
    #[arg(long)]
    body: Option<std::path::PathBuf>,
    /// The body's content type.
    #[arg(long, default_value = "text/csv")]
    content_type: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Requests in all, shared among the clients.
    #[arg(long, default_value_t = 400)]
    requests: usize,
    /// A label for the output line.
    #[arg(long, default_value = "load")]
    name: String,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let body = a.body.as_ref().map(std::fs::read).transpose()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(600))
            .pool_max_idle_per_host(a.clients)
            .build()?;
        let url = format!("{}{}", a.url, a.path);
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let body = Arc::new(body);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..a.clients {
            let (client, url, next, body, ct) = (
                client.clone(),
                url.clone(),
                next.clone(),
                body.clone(),
                a.content_type.clone(),
            );
            let total = a.requests;
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0usize;
                while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < total {
                    let t = Instant::now();
                    let req = match body.as_ref() {
                        Some(b) => client
                            .post(&url)
                            .header("content-type", ct.as_str())
                            .body(b.clone()),
                        None => client.get(&url),
                    };
                    match req.send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                        }
                        _ => errors += 1,
                    }
                    latencies.push(t.elapsed().as_secs_f64());
                }
                (latencies, errors)
            }));
        }
        let mut latencies = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let (l, e) = t.await?;
            latencies.extend(l);
            errors += e;
        }
        let seconds = started.elapsed().as_secs_f64();
        latencies.sort_by(f64::total_cmp);
        println!(
            "{}",
            serde_json::json!({
                "name": a.name,
                "path": a.path,
                "clients": a.clients,
                "requests": latencies.len(),
                "errors": errors,
                "seconds": seconds,
                "requests_per_second": latencies.len() as f64 / seconds,
                "p50_ms": percentile(&latencies, 0.50) * 1e3,
                "p99_ms": percentile(&latencies, 0.99) * 1e3,
                "max_ms": latencies.last().copied().unwrap_or(f64::NAN) * 1e3,
            })
        );
        anyhow::Ok(())
    })
}
