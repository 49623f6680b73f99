//! The dashboard in a real headless Chromium (Debian's `chromium`, which `.ci/run`
//! installs): it loads, draws a host's chart with its anomalies shaded, and lists their
//! explanations. The page's own state is read from the DOM Chromium dumps after its
//! scripts ran; the shading is read from the pixels of a screenshot.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{Server, copy_dir, fixture};

fn chromium() -> PathBuf {
    for p in [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ] {
        if Path::new(p).exists() {
            return p.into();
        }
    }
    panic!("the dashboard test needs Chromium: `apt-get install chromium` (.ci/run installs it)");
}

/// Chromium, headless, on `url`, with the flags this closed network needs; `what` is
/// `--dump-dom` or `--screenshot=PATH`.
fn headless(url: &str, what: &str, profile: &Path) -> String {
    // A hard stop, so a page that never settles fails the test instead of hanging it.
    let out = Command::new("timeout")
        .arg("120")
        .arg(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1400,1300",
            "--virtual-time-budget=15000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(what)
        .arg(url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The value of `attr` on the first element whose opening tag contains `marker`.
fn attr(dom: &str, marker: &str, attr: &str) -> Option<String> {
    let at = dom.find(marker)?;
    let start = dom[..at].rfind('<')?;
    let end = at + dom[at..].find('>')?;
    let tag = &dom[start..end];
    let key = format!("{attr}=\"");
    let i = tag.find(&key)? + key.len();
    Some(tag[i..].split('"').next()?.to_string())
}

#[test]
fn the_dashboard_shows_a_hosts_chart_with_anomalies_shaded_and_explained() {
    let f = fixture();
    let server = Server::start(Default::default());
    copy_dir(&f.metrics_model, &server.store().join("fleet"));
    let c = &server.client;
    let r = c
        .post(server.url("/v1/models/fleet/detect"))
        .header("content-type", "text/csv")
        .body(std::fs::read(f.data.join("test/metrics.csv")).unwrap())
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().unwrap();
    let id = v["id"].as_str().unwrap();
    let a = &v["anomalies"][0];
    let host = a["host"].as_str().expect("the fixture raises anomalies");
    let explanation = a["explanation"].as_str().unwrap();

    let profile = tempfile::tempdir().unwrap();
    // live=0: no event stream, which would keep Chromium's virtual clock from advancing.
    let url = server.url(&format!("/?detection={id}&host={host}&live=0"));
    let dom = headless(&url, "--dump-dom", profile.path());
    assert_eq!(
        attr(&dom, "<body", "data-ready").as_deref(),
        Some("1"),
        "{dom}"
    );
    // uPlot drew both charts, each with the host's anomalies shaded.
    let shaded: usize = attr(&dom, "id=\"metrics-chart\"", "data-shaded")
        .unwrap_or_else(|| panic!("no shading drawn: {dom}"))
        .parse()
        .unwrap();
    let host_anomalies = v["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["host"] == host)
        .count();
    assert_eq!(shaded, host_anomalies);
    assert!(dom.contains("class=\"uplot"), "no uPlot chart in {dom}");
    // The fleet table and the explanations.
    assert!(dom.contains(&format!("data-host=\"{host}\"")));
    let escaped = explanation
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    assert!(
        dom.contains(&escaped),
        "explanation {explanation:?} not listed"
    );
    assert!(dom.contains(&format!("{host}: metrics and score")));

    // The screenshot: shaded pixels (the anomaly colour over white) inside the charts.
    let shot = profile.path().join("dashboard.png");
    headless(
        &url,
        &format!("--screenshot={}", shot.display()),
        profile.path(),
    );
    let img = image::open(&shot).unwrap().to_rgb8();
    let shade = img
        .pixels()
        .filter(|p| {
            let [r, g, b] = p.0;
            (240..=252).contains(&r) && (205..=225).contains(&g) && (205..=225).contains(&b)
        })
        .count();
    assert!(
        shade > 500,
        "only {shade} shaded pixels in {}",
        shot.display()
    );
    // A log model's detection: the templates over time and the sessions' reasons.
    copy_dir(&f.log_model, &server.store().join("shop-logs"));
    let r = c
        .post(server.url("/v1/models/shop-logs/detect"))
        .header("content-type", "text/plain")
        .body(std::fs::read(f.data.join("test/logs.log")).unwrap())
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let logs: Value = r.json().unwrap();
    let timeline = &logs["summary"]["timeline"]["series"];
    let url = server.url(&format!(
        "/?detection={}&live=0",
        logs["id"].as_str().unwrap()
    ));
    let dom = headless(&url, "--dump-dom", profile.path());
    assert_eq!(
        attr(&dom, "<body", "data-ready").as_deref(),
        Some("1"),
        "{dom}"
    );
    let drawn: usize = attr(&dom, "id=\"templates-chart\"", "data-series")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(drawn, timeline.as_array().unwrap().len());
    assert!(drawn >= 2, "{timeline}");
    let reason = logs["sessions"][0]["reason"].as_str().unwrap();
    // Text nodes as Chromium serialises them: &, < and > escaped, quotes as they are.
    let escaped = reason
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    assert!(dom.contains(&escaped), "reason {reason:?} not listed");
    if std::env::var_os("VIGIL_UPDATE_SCREENSHOTS").is_some() {
        let shot = profile.path().join("logs.png");
        headless(
            &url,
            &format!("--screenshot={}", shot.display()),
            profile.path(),
        );
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/dashboard-logs.png");
        std::fs::copy(&shot, docs).unwrap();
    }
    if std::env::var_os("VIGIL_UPDATE_SCREENSHOTS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/dashboard.png");
        std::fs::copy(&shot, docs).unwrap();
    }
}
