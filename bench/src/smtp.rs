//! A minimal SMTP **test sink** for the benchmarks: it accepts every message and keeps only counts, so that it is
//! never what limits how fast notifications can deliver. Not a mail server: no TLS, no authentication, no storage,
//! no checks beyond the order of commands. (The test suites use the aiosmtpd script in
//! `libs/service-kit/testing/smtp_server.py`, which writes every message to a file.)
//!
//! It answers `EHLO`/`HELO`, `MAIL`, `RCPT`, `DATA` … `.`, `RSET`, `NOOP` and `QUIT` with 250/354/221, anything else
//! with 502, on as many connections as the client opens (one task each).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Debug, Default)]
struct Counters {
    messages: AtomicU64,
    bytes: AtomicU64,
    connections: AtomicU64,
}

/// The sink, listening on a loopback port until dropped.
#[derive(Debug)]
pub struct SmtpSink {
    port: u16,
    counters: Arc<Counters>,
    accept: JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl SmtpSink {
    /// Listens on a free loopback port.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let counters = Arc::new(Counters::default());
        let shared = counters.clone();
        let accept = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        shared.connections.fetch_add(1, Ordering::Relaxed);
                        let counters = shared.clone();
                        tokio::spawn(async move {
                            // A client that goes away mid-conversation ends only its own connection.
                            let _ = session(stream, &counters).await;
                        });
                    }
                    // Out of file descriptors or similar: wait a moment rather than spin.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                }
            }
        });
        Ok(Self {
            port,
            counters,
            accept,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Messages accepted so far (each answered `250` after its `DATA`).
    pub fn accepted(&self) -> u64 {
        self.counters.messages.load(Ordering::Relaxed)
    }

    /// Bytes of message data accepted so far.
    pub fn bytes(&self) -> u64 {
        self.counters.bytes.load(Ordering::Relaxed)
    }

    /// Connections opened to the sink so far.
    pub fn connections(&self) -> u64 {
        self.counters.connections.load(Ordering::Relaxed)
    }

    /// Waits until `n` messages in all have been accepted; `Ok` with the time it took, `Err` with the count reached
    /// when `timeout` passes first.
    pub async fn wait_for(&self, n: u64, timeout: Duration) -> Result<Duration, u64> {
        self.wait_until(n, Instant::now(), timeout, |_, _| {}).await
    }

    /// Waits until `n` messages in all have been accepted, checking every few milliseconds and calling
    /// `progress(count, elapsed)` at each check (to note when the first one came, say). Times are measured from
    /// `since`; `Err` with the count reached when `timeout` has passed since then.
    pub async fn wait_until(
        &self,
        n: u64,
        since: Instant,
        timeout: Duration,
        mut progress: impl FnMut(u64, Duration),
    ) -> Result<Duration, u64> {
        loop {
            let count = self.accepted();
            let elapsed = since.elapsed();
            progress(count, elapsed);
            if count >= n {
                return Ok(elapsed);
            }
            if elapsed >= timeout {
                return Err(count);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// One SMTP conversation.
async fn session(stream: TcpStream, counters: &Counters) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write
        .write_all(b"220 cloverleaf-bench SMTP sink\r\n")
        .await?;
    let mut line = Vec::with_capacity(512);
    let mut has_sender = false;
    let mut recipients = 0usize;
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let command = text.trim_end();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let answer: &[u8] = match verb.as_str() {
            "EHLO" => b"250-cloverleaf-bench\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" => b"250 cloverleaf-bench\r\n",
            "MAIL" => {
                has_sender = true;
                recipients = 0;
                b"250 2.1.0 OK\r\n"
            }
            "RCPT" if has_sender => {
                recipients += 1;
                b"250 2.1.5 OK\r\n"
            }
            "RCPT" => b"503 5.5.1 MAIL first\r\n",
            "DATA" if recipients > 0 => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let size = read_data(&mut read, &mut line).await?;
                counters.bytes.fetch_add(size, Ordering::Relaxed);
                counters.messages.fetch_add(1, Ordering::Relaxed);
                has_sender = false;
                recipients = 0;
                b"250 2.0.0 accepted\r\n"
            }
            "DATA" => b"503 5.5.1 RCPT first\r\n",
            "RSET" => {
                has_sender = false;
                recipients = 0;
                b"250 2.0.0 OK\r\n"
            }
            "NOOP" => b"250 2.0.0 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 5.5.2 Command not implemented\r\n",
        };
        write.write_all(answer).await?;
    }
}

/// Reads message data up to the line holding only `.`; returns its size in bytes.
async fn read_data<R: tokio::io::AsyncBufRead + Unpin>(
    read: &mut R,
    line: &mut Vec<u8>,
) -> std::io::Result<u64> {
    let mut size = 0u64;
    loop {
        line.clear();
        let n = read.read_until(b'\n', line).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed inside DATA",
            ));
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(size);
        }
        size += n as u64;
    }
}
