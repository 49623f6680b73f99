//! The binary's start-up and graceful shutdown, and live events.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::support::{Server, fixture, wait_job};

/// Kills the server if a test fails before stopping it.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for Guard {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Guard {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// `vigil serve` on any free port; returns the child and its base URL.
fn spawn(store: &std::path::Path, extra: &[&str]) -> (Guard, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["serve", "--listen", "127.0.0.1:0", "--store"])
        .arg(store)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (Guard(child), base)
}

fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn shutdown_fails_unfinished_jobs_and_writes_no_half_model() {
    let f = fixture();
    let store = tempfile::tempdir().unwrap();
    let (mut child, base) = spawn(store.path(), &["--shutdown-grace", "1s", "--max-jobs", "1"]);
    let c = reqwest::blocking::Client::new();
    let body = std::fs::read(f.data.join("train/metrics.csv")).unwrap();
    // A long training (many epochs, no early stop) and one queued behind it.
    let mut ids = Vec::new();
    for name in ["slow", "queued"] {
        let r = c
            .post(format!(
                "{base}/v1/models?name={name}&epochs=500&patience=500&model_kind=lstm_autoencoder"
            ))
            .header("content-type", "text/csv")
            .body(body.clone())
            .send()
            .unwrap();
        assert_eq!(r.status(), 202);
        ids.push(
            r.json::<Value>().unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    // Wait until the first is running (up to 2 min: other tests share the cores).
    for _ in 0..1200 {
        let j: Value = c
            .get(format!("{base}/v1/jobs/{}", ids[0]))
            .send()
            .unwrap()
            .json()
            .unwrap();
        if j["state"] == "running" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let jobs: Value = c
        .get(format!("{base}/v1/jobs"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(jobs[0]["state"], "queued", "{jobs:#}");
    assert_eq!(jobs[1]["state"], "running", "{jobs:#}");
    terminate(&child);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    // No model, whole or half, appeared in the store; only the service's hidden folder.
    let entries: Vec<String> = std::fs::read_dir(store.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with(".runs"))
        .collect();
    assert!(entries.iter().all(|n| n.starts_with('.')), "{entries:?}");
    assert!(!store.path().join("slow").exists() && !store.path().join("queued").exists());
    // A restarted service finds the store clean, with the leftover temporaries removed.
    let (mut child, base) = spawn(store.path(), &[]);
    let models: Value = c
        .get(format!("{base}/v1/models"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(models["models"].as_array().unwrap().len(), 0);
    assert_eq!(models["unusable"].as_array().unwrap().len(), 0);
    let left: Vec<String> = std::fs::read_dir(store.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, vec![".runs".to_string()], "{left:?}");
    terminate(&child);
    assert!(child.wait().unwrap().success());
}

#[test]
fn shutdown_lets_a_running_job_finish_within_the_grace_period() {
    let f = fixture();
    let store = tempfile::tempdir().unwrap();
    let (mut child, base) = spawn(store.path(), &["--shutdown-grace", "5m"]);
    let c = reqwest::blocking::Client::new();
    let loc =
        crate::support::start_training(&c, &base, "name=quick&epochs=3&window=10", f.small_train());
    for _ in 0..300 {
        let j: Value = c
            .get(format!("{base}{loc}"))
            .send()
            .unwrap()
            .json()
            .unwrap();
        if j["state"] != "queued" {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    terminate(&child);
    assert!(child.wait().unwrap().success());
    // The job finished after the signal: its model is whole and loads.
    let model = vigil_model::ModelDir::load(&store.path().join("quick")).unwrap();
    assert_eq!(model.history.epochs.len(), 3);
}

#[test]
fn events_stream_job_and_detection_progress() {
    let f = fixture();
    let server = Server::start(Default::default());
    let base = server.base.clone();
    // Subscribe first, then train a small model and detect with it.
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        let r = reqwest::blocking::Client::new()
            .get(format!("{base}/v1/events"))
            .send()
            .unwrap();
        assert_eq!(r.headers()["content-type"], "text/event-stream");
        let mut lines = BufReader::new(r);
        let mut line = String::new();
        while lines.read_line(&mut line).unwrap_or(0) > 0 {
            if tx.send(std::mem::take(&mut line)).is_err() {
                break;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let c = &server.client;
    let loc = crate::support::start_training(
        c,
        &server.base,
        "name=m&epochs=2&window=10",
        f.small_train(),
    );
    assert_eq!(
        wait_job(&server, &loc, Duration::from_secs(300))["state"],
        "succeeded"
    );
    let r = c
        .post(server.url("/v1/models/m/detect"))
        .header("content-type", "text/csv")
        .body(std::fs::read(f.data.join("test/metrics.csv")).unwrap())
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let rows = r.json::<Value>().unwrap()["rows"].as_u64().unwrap();
    let mut saw = (false, false, false);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline && !(saw.0 && saw.1 && saw.2) {
        let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) else {
            break;
        };
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let e: Value = serde_json::from_str(data).unwrap();
        match (e["kind"].as_str(), e["state"].as_str()) {
            (Some("job"), Some("running")) if !e["epochs"].as_array().unwrap().is_empty() => {
                saw.0 = true
            }
            (Some("detection"), Some("running")) => saw.1 = true,
            (Some("detection"), Some("succeeded")) => {
                assert_eq!(e["rows"].as_u64().unwrap(), rows);
                saw.2 = true;
            }
            _ => {}
        }
    }
    assert_eq!(
        saw,
        (true, true, true),
        "epochs, detection progress, detection done"
    );
}
