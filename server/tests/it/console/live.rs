//! Live event streams: the limit, and a client that stops reading.

use super::*;

/// Past `instance.max_event_streams`, a new live stream is refused with a clear 503 (and the
/// pages still load); when a stream closes, the next one is admitted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_streams_past_the_limit_get_a_clear_503() {
    let (server, _dir) = start_edited(9, false, |e| e.instance.max_event_streams = 2).await;
    let base = format!("http://{}", server.addr);
    let events = format!("{base}/api/v1/events?snapshots=false");
    let streamer = reqwest::Client::builder().no_proxy().build().unwrap();
    let first = streamer.get(&events).send().await.unwrap();
    let second = streamer.get(&events).send().await.unwrap();
    assert_eq!((first.status(), second.status()), (reqwest::StatusCode::OK, reqwest::StatusCode::OK));
    let third = client().get(&events).send().await.unwrap();
    assert_eq!(third.status(), 503);
    assert_eq!(third.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("15"));
    let body: serde_json::Value = third.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains("max_event_streams = 2"), "{body}");
    // Pages are not streams: they still load.
    assert_eq!(client().get(format!("{base}/topology")).send().await.unwrap().status(), 200);
    drop(first);
    eventually(Duration::from_secs(20), "a closed stream frees its slot", || async {
        let r = streamer.get(&events).send().await.ok()?;
        (r.status() == 200).then_some(r)
    })
    .await;
    drop(second);
    server.stop().await;
}

/// A tab that stops reading its live stream is dropped once its receive window has been shut
/// for `instance.stalled_client_seconds`, while a tab that reads keeps getting every turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_without_slowing_others() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (server, _dir) = start_edited(12, false, |e| {
        e.instance.stalled_client_seconds = 2;
        e.probes.interval_seconds = 1;
        e.probes.timeout_ms = 800;
    })
    .await;
    let base = format!("http://{}", server.addr);
    let open_streams = || async {
        let text = client().get(format!("{base}/metrics")).send().await.ok()?.text().await.ok()?;
        text.lines().find_map(|l| l.strip_prefix("crowsnest_sse_clients ")).and_then(|v| v.trim().parse::<u32>().ok())
    };
    // The stalled tab: a receive buffer of a few kilobytes, snapshots asked for, never read.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(server.addr).await.unwrap();
    // Host: the address (a made-up name would be refused as DNS rebinding, 421).
    let request = format!("GET /api/v1/events HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n", server.addr);
    stalled.write_all(request.as_bytes()).await.unwrap();
    // The reading tab.
    let mut reading = client().get(format!("{base}/api/v1/events")).send().await.unwrap();
    assert_eq!(reading.status(), 200);
    eventually(Duration::from_secs(20), "both streams open", || async { (open_streams().await? == 2).then_some(()) }).await;
    // The stalled stream goes; the reader sees new generations all along.
    let mut ids = std::collections::BTreeSet::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let chunk = tokio::time::timeout(Duration::from_secs(10), reading.chunk()).await.expect("the reading tab hears within 10 s");
        let chunk = chunk.unwrap().expect("the reading stream stays open");
        for line in String::from_utf8_lossy(&chunk).lines() {
            if let Some(id) = line.strip_prefix("id:") {
                ids.insert(id.trim().parse::<u64>().unwrap());
            }
        }
        if open_streams().await == Some(1) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the stalled stream was never dropped");
    }
    assert!(ids.len() >= 3, "the reading tab kept getting generations while the other stalled: {ids:?}");
    // The stalled socket was closed by the server: reading it now ends (after what was buffered).
    let mut sink = vec![0u8; 1 << 16];
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stalled.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server closed the stalled connection");
    server.stop().await;
}
