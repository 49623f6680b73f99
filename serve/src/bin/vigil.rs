//! `vigil serve`: the REST service and dashboard.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use vigil_core::time::Duration;
use vigil_serve::{AppState, Config, serve};

#[derive(Debug, Parser)]
#[command(name = "vigil", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the REST API (`/v1/…`, `/openapi.json`, `/metrics`) and the dashboard (`/`)
    /// over a store of model directories.
    Serve(ServeArgs),
    /// Exit 0 if a running service answers 200 at URL (a container's healthcheck: the image
    /// has no curl).
    Health(HealthArgs),
}

#[derive(Debug, Args)]
struct HealthArgs {
    /// The URL to ask (plain http).
    #[arg(long, default_value = "http://127.0.0.1:8080/readyz")]
    url: String,
    /// Give up after this long.
    #[arg(long, default_value = "5s", value_name = "DURATION")]
    timeout: Duration,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// The model store: model directories as the trainer writes them (created if missing).
    #[arg(long, default_value = "models")]
    store: PathBuf,
    /// Address and port to listen on (port 0: any free port, printed at start-up).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// The largest request body, in bytes (uploads are streamed to disk).
    #[arg(long, default_value_t = 1 << 30)]
    max_body: u64,
    /// Training jobs that may run at once; more wait in the queue.
    #[arg(long, default_value_t = 1)]
    max_jobs: usize,
    /// A request that takes longer is answered 408.
    #[arg(long, default_value = "10m", value_name = "DURATION")]
    request_timeout: Duration,
    /// At shutdown, how long running training jobs may take to finish before they fail.
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    shutdown_grace: Duration,
    /// Detections kept for the dashboard (older ones and their files are dropped).
    #[arg(long, default_value_t = 20)]
    keep_detections: usize,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let outcome = match Cli::parse().command {
        Command::Serve(a) => run(a),
        Command::Health(a) => health(&a),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vigil: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(a: ServeArgs) -> anyhow::Result<()> {
    let config = Config {
        store: a.store,
        max_body: a.max_body,
        max_jobs: a.max_jobs,
        request_timeout: std::time::Duration::from_secs(a.request_timeout.secs().max(1) as u64),
        shutdown_grace: std::time::Duration::from_secs(a.shutdown_grace.secs().max(0) as u64),
        keep_detections: a.keep_detections,
        ..Config::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(async move {
        let state = AppState::new(config.clone()).map_err(|e| {
            anyhow::anyhow!("cannot open the store {}: {e}", config.store.display())
        })?;
        let listener = tokio::net::TcpListener::bind(&a.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", a.listen))?;
        let addr = listener.local_addr()?;
        // One line a script can wait for (and read the port from).
        println!(
            "vigil: listening on http://{addr} (store {})",
            config.store.display()
        );
        serve(state, listener, shutdown_signal()).await?;
        eprintln!("vigil: stopped");
        anyhow::Ok(())
    });
    // A training job failed at the end of the grace period still holds a blocking thread:
    // it dies with the process, before it could rename a model into place.
    runtime.shutdown_background();
    outcome
}

/// One HTTP/1.0 GET over a plain TCP connection; Ok if the status is 200.
fn health(a: &HealthArgs) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    let rest = a
        .url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow::anyhow!("--url: only http:// URLs, found {:?}", a.url))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let timeout = std::time::Duration::from_secs(a.timeout.secs().max(1) as u64);
    let addr = std::net::ToSocketAddrs::to_socket_addrs(authority)?
        .next()
        .ok_or_else(|| anyhow::anyhow!("cannot resolve {authority}"))?;
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.url))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n")?;
    let mut answer = Vec::new();
    stream.take(64 << 10).read_to_end(&mut answer)?;
    let text = String::from_utf8_lossy(&answer);
    let status = text.lines().next().unwrap_or("");
    if status.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        anyhow::bail!("{}: {status}", a.url)
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

vigil_cli::every_option_has_help!(Cli);
vigil_cli::readme_examples_parse!(Cli, "vigil");
