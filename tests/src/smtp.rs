//! A real SMTP listener for tests: it speaks enough of RFC 5321 for a client to deliver
//! (EHLO, MAIL, RCPT, DATA, QUIT; no AUTH, no TLS) and keeps every message it accepted.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message as received: its envelope recipients and its raw data.
#[derive(Debug, Clone)]
pub struct Caught {
    pub to: Vec<String>,
    pub data: String,
}

impl Caught {
    /// The first link of the message whose path starts with `path` (e.g.
    /// `/verify-email`), with quoted-printable soft breaks undone.
    pub fn link(&self, path: &str) -> Option<String> {
        let text = self.data.replace("=\r\n", "").replace("=3D", "=");
        let at = text.find(&format!("{path}?token="))?;
        let start = text[..at].rfind("http")?;
        let end = text[at..]
            .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
            .map_or(text.len(), |e| at + e);
        Some(text[start..end].to_owned())
    }
}

pub struct SmtpListener {
    pub port: u16,
    pub caught: Arc<Mutex<Vec<Caught>>>,
}

impl SmtpListener {
    /// Listens on a free port of 127.0.0.1.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::serve(listener)
    }

    /// Listens on `port` (to bring a mail server "back up" where the server expects it).
    pub async fn start_on(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
        Self::serve(listener)
    }

    fn serve(listener: TcpListener) -> Self {
        let port = listener.local_addr().expect("addr").port();
        let caught: Arc<Mutex<Vec<Caught>>> = Arc::default();
        let sink = caught.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let sink = sink.clone();
                tokio::spawn(async move {
                    let _ = session(socket, sink).await;
                });
            }
        });
        Self { port, caught }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Waits (up to 15 s) for a message to `to`.
    pub async fn wait_for(&self, to: &str) -> Caught {
        for _ in 0..150 {
            if let Some(found) = self
                .caught
                .lock()
                .unwrap()
                .iter()
                .find(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)))
                .cloned()
            {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no mail to {to}");
    }

    pub fn count_to(&self, to: &str) -> usize {
        self.caught
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)))
            .count()
    }
}

async fn session(
    socket: tokio::net::TcpStream,
    sink: Arc<Mutex<Vec<Caught>>>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 test ESMTP\r\n").await?;
    let mut to = Vec::new();
    while let Some(line) = lines.next_line().await? {
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            write.write_all(b"250-test\r\n250 8BITMIME\r\n").await?;
        } else if upper.starts_with("HELO")
            || upper.starts_with("MAIL FROM")
            || upper.starts_with("RSET")
            || upper.starts_with("NOOP")
        {
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO") {
            let address = line
                .split_once('<')
                .and_then(|(_, rest)| rest.split_once('>'))
                .map(|(a, _)| a.to_owned())
                .unwrap_or_default();
            to.push(address);
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "DATA" {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut data = String::new();
            while let Some(line) = lines.next_line().await? {
                if line == "." {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
                data.push_str("\r\n");
            }
            sink.lock().unwrap().push(Caught {
                to: std::mem::take(&mut to),
                data,
            });
            write.write_all(b"250 OK queued\r\n").await?;
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            write.write_all(b"502 not implemented\r\n").await?;
        }
    }
    Ok(())
}
