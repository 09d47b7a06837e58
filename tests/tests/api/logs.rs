//! Every log line of a request carries its request id and the caller's W3C trace id: the
//! statements it ran (logged at `fabriques::sql=trace`) and its closing `request` line alike.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::Method;
use serde_json::Value;

use crate::both_engines;
use crate::helpers::TestApp;

both_engines!(every_log_line_of_a_request_carries_its_request_id_and_trace_id);

/// The log lines of this test process, as JSON, from the first call on.
fn captured() -> Arc<Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER
        .get_or_init(|| {
            #[derive(Clone)]
            struct Sink(Arc<Mutex<Vec<u8>>>);
            impl Write for Sink {
                fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                    self.0.lock().unwrap().extend_from_slice(b);
                    Ok(b.len())
                }
                fn flush(&mut self) -> std::io::Result<()> {
                    Ok(())
                }
            }
            let buffer = Arc::new(Mutex::new(Vec::new()));
            let sink = Sink(buffer.clone());
            tracing_subscriber::fmt()
                .json()
                .with_env_filter(tracing_subscriber::EnvFilter::new(
                    "info,fabriques::sql=trace",
                ))
                .with_writer(move || sink.clone())
                .try_init()
                .expect("the only log subscriber of this test process (cargo nextest runs one test per process)");
            buffer
        })
        .clone()
}

async fn every_log_line_of_a_request_carries_its_request_id_and_trace_id(app: TestApp) {
    let logs = captured();
    let request_id = format!("log-check-{}", uuid::Uuid::now_v7().simple());
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let r = app
        .client
        .request(Method::GET, format!("{}/api/v1/fabriques", app.base))
        .bearer_auth(&app.admin)
        .header("x-request-id", &request_id)
        .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The closing line is written after the answer: wait for it.
    let mut lines: Vec<Value> = Vec::new();
    for _ in 0..100 {
        let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
        lines = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l["span"]["request_id"] == request_id.as_str())
            .collect();
        if lines.iter().any(|l| l["fields"]["message"] == "request") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let statements = lines
        .iter()
        .filter(|l| l["target"] == "fabriques::sql")
        .count();
    assert!(
        statements >= 1,
        "no statement logged inside the request: {lines:?}"
    );
    let closing = lines
        .iter()
        .find(|l| l["fields"]["message"] == "request")
        .unwrap_or_else(|| panic!("no closing line in the request's span: {lines:?}"));
    assert_eq!(closing["fields"]["status"], 200);
    for l in &lines {
        assert_eq!(l["span"]["trace_id"], trace, "{l}");
        assert_eq!(l["span"]["method"], "GET", "{l}");
    }
}
