//! The harness's own pieces, without the service binaries: the SMTP sink with a real SMTP client (lettre, as
//! notifications uses it), the memory reader on this process, the load generator against a local server, and the
//! ceiling on SQLite. The full scenarios need release binaries and run from the `cloverleaf-bench` binary.

use std::time::Duration;

use cloverleaf_bench::ceiling::Ceiling;
use cloverleaf_bench::load;
use cloverleaf_bench::mem;
use cloverleaf_bench::scenarios::registration_body;
use cloverleaf_bench::smtp::SmtpSink;
use cloverleaf_bench::system::Backend;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

#[tokio::test]
async fn the_smtp_sink_accepts_what_lettre_sends_over_pooled_connections() {
    let sink = SmtpSink::start().await.expect("sink");
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(sink.port())
        .pool_config(PoolConfig::new().max_size(2))
        .build();
    let from: Mailbox = "Cloverleaf <no-reply@cloverleaf.localhost>"
        .parse()
        .expect("from");
    for n in 0..3 {
        let message = Message::builder()
            .from(from.clone())
            .to(format!("Participant {n} <p{n}@example.org>")
                .parse()
                .expect("to"))
            .subject(format!("Bench message {n} — 你好"))
            .body(format!(
                "Line one\r\n.a line starting with a dot\r\n\r\nmessage {n}\r\n"
            ))
            .expect("message");
        transport.send(message).await.expect("the sink accepts it");
    }
    assert_eq!(
        sink.wait_for(3, Duration::from_secs(5)).await.map(|_| ()),
        Ok(())
    );
    assert_eq!(sink.accepted(), 3);
    assert!(sink.bytes() > 300, "{} bytes", sink.bytes());
    assert!(sink.connections() >= 1);
    // Waiting for more than arrived gives the count reached.
    assert_eq!(sink.wait_for(4, Duration::from_millis(50)).await, Err(3));
}

#[tokio::test]
async fn the_smtp_sink_answers_the_commands_in_order() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let sink = SmtpSink::start().await.expect("sink");
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", sink.port()))
        .await
        .expect("connect");
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut next = async || lines.next_line().await.expect("read").expect("a line");
    assert!(next().await.starts_with("220"));
    write.write_all(b"HELO bench\r\n").await.expect("write");
    assert!(next().await.starts_with("250"));
    write.write_all(b"DATA\r\n").await.expect("write");
    assert!(
        next().await.starts_with("503"),
        "DATA before RCPT is refused"
    );
    write
        .write_all(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        .await
        .expect("write");
    assert!(next().await.starts_with("250"));
    assert!(next().await.starts_with("250"));
    assert!(next().await.starts_with("354"));
    write
        .write_all(b"Subject: x\r\n\r\nhello\r\n.\r\nNOOP\r\nRSET\r\nVRFY x\r\nQUIT\r\n")
        .await
        .expect("write");
    assert!(next().await.starts_with("250"));
    assert!(next().await.starts_with("250"));
    assert!(next().await.starts_with("250"));
    assert!(next().await.starts_with("502"));
    assert!(next().await.starts_with("221"));
    assert_eq!(sink.accepted(), 1);
}

#[test]
fn this_process_memory_is_read_from_proc() {
    let memory = mem::of_self().expect("/proc/self/status");
    assert!(memory.rss_kib > 0);
    assert!(memory.peak_kib >= memory.rss_kib);
}

#[tokio::test]
async fn the_ceiling_on_sqlite_stores_a_row_per_request_and_the_load_generator_counts_them() {
    let ceiling = Ceiling::start(Backend::Sqlite, "", 10)
        .await
        .expect("ceiling");
    let http = reqwest::Client::new();
    let url = format!("{}/v1/registrations", ceiling.url);
    let event = uuid::Uuid::now_v7().to_string();
    let summary = load::drive(8, 200, move |i| {
        let request = http.post(&url).json(&registration_body(&event, i, "test"));
        async move { load::send(request).await.map(drop) }
    })
    .await;
    assert_eq!((summary.ok, summary.errors), (200, 0), "{summary:?}");
    assert!(summary.throughput_per_sec > 0.0);
    assert!(summary.p50_ms <= summary.p99_ms && summary.p99_ms <= summary.max_ms);
    assert_eq!(ceiling.rows().await.expect("rows"), 200);
    ceiling.stop().await.expect("stops");
}

#[tokio::test]
async fn failed_requests_are_counted_by_kind() {
    let ceiling = Ceiling::start(Backend::Sqlite, "", 2)
        .await
        .expect("ceiling");
    let http = reqwest::Client::new();
    let good = format!("{}/v1/registrations", ceiling.url);
    let missing = format!("{}/v1/nothing", ceiling.url);
    let summary = load::drive(4, 40, move |i| {
        let request = if i % 4 == 0 {
            http.post(&missing).json(&serde_json::json!({}))
        } else {
            http.post(&good)
                .json(&serde_json::json!({ "email": "no event id" }))
        };
        async move { load::send(request).await.map(drop) }
    })
    .await;
    assert_eq!(summary.ok, 0);
    assert_eq!(summary.errors_by_kind["http 404"], 10);
    assert_eq!(summary.errors_by_kind["http 422"], 30);
    ceiling.stop().await.expect("stops");
}
