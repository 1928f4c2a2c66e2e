//! The webhook server: a separate process, so its work is not counted as the bench's own.
//!
//! The bench runs its own binary again with the hidden `webhook-server` command. That process answers
//! `GET /products` with the shop's products JSON on a free port of 127.0.0.1 and prints the
//! port on its first line. It stops when its standard input closes (the bench ended, however it
//! ended), when it is killed, or after a time limit, whichever comes first.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::Router;

use crate::shop::PRODUCTS;

/// Serves the products on 127.0.0.1, each answer after `delay`, until standard input closes or
/// `max_lifetime` passes.
pub fn serve(workers: usize, delay: Duration, max_lifetime: Duration) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .enable_all()
        .build()
        .context("starting the server's runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding a port on 127.0.0.1")?;
        let port = listener.local_addr()?.port();
        println!("{port}");
        let products = move || async move {
            // A webhook that does real work, or sits across a real network, answers later; the
            // delay stands for that, without using any CPU.
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            ([(CONTENT_TYPE, "application/json")], PRODUCTS)
        };
        let app = Router::new().route("/products", get(products));
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let stdin_closed = tokio::task::spawn_blocking(|| {
                // Nothing is ever written to it: reading returns when the bench closes it.
                let _ = std::io::stdin().read_to_end(&mut Vec::new());
            });
            tokio::select! {
                _ = stdin_closed => {}
                () = tokio::time::sleep(max_lifetime) => {}
            }
        });
        server.await.context("serving")
    })?;
    // The blocking stdin reader may still be waiting; there is nothing left to clean up.
    std::process::exit(0);
}

/// The server process, killed when dropped.
pub struct ServerProcess {
    child: Child,
    port: u16,
}

impl ServerProcess {
    /// Starts this binary again as the server, with `workers` threads, answering after
    /// `delay`, and waits for its port.
    pub fn start(
        workers: usize,
        delay: Duration,
        max_lifetime: Duration,
    ) -> anyhow::Result<ServerProcess> {
        let exe = std::env::current_exe().context("finding the bench's own binary")?;
        let mut child = Command::new(exe)
            .args(["webhook-server", "--workers", &workers.to_string()])
            .args(["--delay-us", &delay.as_micros().to_string()])
            .args(["--max-seconds", &max_lifetime.as_secs().max(1).to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the server process")?;
        let stdout = child.stdout.take().context("the server's output")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .context("reading the server's port")?;
        let mut server = ServerProcess { child, port: 0 };
        match line.trim().parse() {
            Ok(port) => server.port = port,
            Err(_) => bail!("the server process printed {line:?} instead of its port"),
        }
        Ok(server)
    }

    /// The products URL it serves.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/products", self.port)
    }

    /// Its `/proc` stat file, for its CPU time.
    pub fn stat_path(&self) -> String {
        format!("/proc/{}/stat", self.child.id())
    }

    /// Its peak resident memory so far, in bytes, if the system says.
    pub fn peak_rss_bytes(&self) -> Option<u64> {
        crate::report::peak_rss_bytes_of(&format!("/proc/{}/status", self.child.id()))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Closing its input would stop it too; killing does not wait for open connections.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
