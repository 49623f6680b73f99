//! A server on a loopback port per test, and data generated and trained once per run.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
use vigil_generator::scenario::DEFAULT_SCENARIO;
use vigil_generator::{Options, Overrides, Scenario, ScenarioFile, generate};

pub struct Fixture {
    _dir: tempfile::TempDir,
    /// `train/` and `test/` of a short run of the default scenario.
    pub data: PathBuf,
    /// A DeepLog model trained by the trainer's library call (what `trainer logs` does).
    pub log_model: PathBuf,
    /// A metrics model (dense autoencoder, 3 epochs) trained the same way.
    pub metrics_model: PathBuf,
}

/// Five days of the default scenario (three to train on) on a seed of its own, and a log
/// model trained on them; made once per test run.
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut file = ScenarioFile::parse(DEFAULT_SCENARIO, "default").unwrap();
        let overrides = Overrides {
            seed: Some(20_261_201),
            duration: Some("5d".parse().unwrap()),
            train: Some("3d".parse().unwrap()),
            ..Overrides::default()
        };
        file.apply(&overrides);
        let scenario = Scenario::from_file_with(file, "default", &overrides).unwrap();
        let data = dir.path().join("data");
        generate(
            &scenario,
            &Options {
                out: data.clone(),
                charts: None,
                progress: false,
            },
        )
        .unwrap();
        let log_model = dir.path().join("log-model");
        let settings = vigil_cli::train::LogsSettings::defaults();
        let mut config = settings.deeplog().unwrap();
        config.epochs = 3;
        vigil_trainer::logs::train_logs(
            vigil_trainer::logs::LogsJob {
                input: vigil_trainer::logs::LogInput::Raw {
                    path: &data.join("train/logs.log"),
                    parsing: Box::new(
                        vigil_cli::parsing(&settings.miner, &settings.sessions).unwrap(),
                    ),
                },
                model_dir: &log_model,
                config,
                force: false,
            },
            &mut (),
        )
        .unwrap();
        let metrics_model = dir.path().join("metrics-model");
        let (mut config, read) = vigil_cli::train::MetricsSettings::from_flags(&[])
            .unwrap()
            .resolve()
            .unwrap();
        config.epochs = 3;
        vigil_trainer::train_metrics(
            &vigil_trainer::MetricsJob {
                input: &data.join("train/metrics.csv"),
                model_dir: &metrics_model,
                read,
                config,
                force: false,
            },
            &mut (),
        )
        .unwrap();
        Fixture {
            _dir: dir,
            data,
            log_model,
            metrics_model,
        }
    })
}

pub struct Server {
    pub base: String,
    pub client: reqwest::blocking::Client,
    store: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts the service on 127.0.0.1 with an OS-chosen port and a fresh store.
    pub fn start(config: vigil_serve::Config) -> Server {
        let store = tempfile::tempdir().unwrap();
        let config = vigil_serve::Config {
            store: store.path().to_path_buf(),
            ..config
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let state = vigil_serve::AppState::new(config).unwrap();
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                vigil_serve::serve(state, listener, async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
            });
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(30)).unwrap();
        Server {
            base: format!("http://{addr}"),
            client: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(600))
                .build()
                .unwrap(),
            store,
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn store(&self) -> &Path {
        self.store.path()
    }

    /// Asks for a graceful shutdown and waits for it.
    pub fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Polls a job until it finishes.
pub fn wait_job(server: &Server, location: &str, limit: Duration) -> Value {
    let started = Instant::now();
    loop {
        let job: Value = server
            .client
            .get(server.url(location))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let state = job["state"].as_str().unwrap().to_string();
        if !matches!(state.as_str(), "queued" | "running") {
            return job;
        }
        assert!(
            started.elapsed() < limit,
            "job still {state} after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// A metrics CSV as NDJSON rows (numbers as numbers).
pub fn csv_to_ndjson(path: &Path) -> Vec<u8> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let mut m = serde_json::Map::new();
        for (k, v) in header.iter().zip(rec.iter()) {
            let value = match v.parse::<f64>() {
                Ok(x) if k != "host" && k != "timestamp" => serde_json::json!(x),
                _ => Value::String(v.into()),
            };
            m.insert(k.clone(), value);
        }
        serde_json::to_writer(&mut out, &Value::Object(m)).unwrap();
        out.push(b'\n');
    }
    out
}

/// A counter's value in a Prometheus text exposition.
pub fn counter(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.trim().parse().ok()))
        .unwrap_or_else(|| panic!("{name} not in {text}"))
}

impl Fixture {
    /// The first 4,000 lines of the training metrics: enough for a small, quick model.
    pub fn small_train(&self) -> String {
        std::fs::read_to_string(self.data.join("train/metrics.csv"))
            .unwrap()
            .lines()
            .take(4000)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Starts a training job of `query` on `body` (CSV) at `base`; its `Location`.
pub fn start_training(
    c: &reqwest::blocking::Client,
    base: &str,
    query: &str,
    body: String,
) -> String {
    let r = c
        .post(format!("{base}/v1/models?{query}"))
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(r.status(), 202);
    r.headers()["location"].to_str().unwrap().to_string()
}
