//! Getting bytes to a printer: a network printer's raw port (JetDirect /
//! AppSocket, 9100) or a local device. A send succeeds only once every
//! byte was written and, on the network, our side was shut down and the
//! printer closed its side (or stayed silent for [`CLOSE_WAIT`], which
//! raw-port printers may do).

use std::os::unix::fs::FileTypeExt;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::domain::shop::{DEVICE_PREFIXES, PrinterTarget};

/// Longest wait for a connection.
const CONNECT: Duration = Duration::from_secs(3);
/// Longest wait for a ticket's bytes to be taken.
const WRITE: Duration = Duration::from_secs(10);
/// Device writes in progress (at most one, see `write_device`).
static DEVICE_WRITES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// Gives the device-write permit back when the blocking write ends.
struct Release;

impl Drop for Release {
    fn drop(&mut self) {
        DEVICE_WRITES.add_permits(1);
    }
}

/// Longest wait for the printer to close after our shutdown.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Why a ticket did not reach the printer. Every one is retried.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Could not connect or open (off, unplugged, wrong address).
    #[error("cannot reach the printer: {0}; is it on and connected?")]
    Unreachable(std::io::Error),
    /// It stopped taking bytes.
    #[error("the printer stopped taking data: {0}")]
    Write(std::io::Error),
    /// It took too long.
    #[error("the printer did not answer within {0:?}")]
    Timeout(Duration),
    /// The path is neither a printer device nor a FIFO.
    #[error(
        "{0} is not a printer device (expected /dev/usb/lp*, /dev/lp*, a serial port or a FIFO)"
    )]
    NotADevice(String),
}

async fn within<T>(
    limit: Duration,
    f: impl Future<Output = Result<T, SendError>>,
) -> Result<T, SendError> {
    tokio::time::timeout(limit, f)
        .await
        .map_err(|_| SendError::Timeout(limit))?
}

async fn connect(host: &str, port: u16) -> Result<TcpStream, SendError> {
    within(CONNECT, async {
        TcpStream::connect((host, port))
            .await
            .map_err(SendError::Unreachable)
    })
    .await
}

/// Sends one ticket.
pub async fn send(target: &PrinterTarget, bytes: &[u8]) -> Result<(), SendError> {
    match target {
        PrinterTarget::Network { host, port } => {
            let mut stream = connect(host, *port).await?;
            let _ = stream.set_nodelay(true);
            within(WRITE, async {
                stream.write_all(bytes).await.map_err(SendError::Write)?;
                stream.shutdown().await.map_err(SendError::Write)
            })
            .await?;
            // The printer may answer status bytes; a reset means it did not
            // take the ticket for sure, so it is sent again.
            let mut sink = [0u8; 64];
            let closed = tokio::time::timeout(CLOSE_WAIT, async {
                loop {
                    match stream.read(&mut sink).await {
                        Ok(0) => return Ok(()),
                        Ok(_) => {}
                        Err(e) => return Err(SendError::Write(e)),
                    }
                }
            })
            .await;
            match closed {
                Ok(result) => result,
                Err(_) => Ok(()),
            }
        }
        PrinterTarget::Device(path) => within(WRITE, write_device(path, bytes)).await,
    }
}

/// Checks that the printer answers, without printing anything.
pub async fn probe(target: &PrinterTarget) -> Result<(), SendError> {
    match target {
        PrinterTarget::Network { host, port } => connect(host, *port).await.map(drop),
        PrinterTarget::Device(path) => {
            let meta = tokio::fs::metadata(path)
                .await
                .map_err(SendError::Unreachable)?;
            if meta.file_type().is_fifo() || meta.file_type().is_char_device() {
                Ok(())
            } else {
                Err(SendError::NotADevice(path.clone()))
            }
        }
    }
}

async fn write_device(path: &str, bytes: &[u8]) -> Result<(), SendError> {
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(SendError::Unreachable)?;
    let kind = meta.file_type();
    if kind.is_fifo() {
        // Opened non-blocking: no reader is an error (ENXIO), not a hang.
        let mut pipe = tokio::net::unix::pipe::OpenOptions::new()
            .open_sender(path)
            .map_err(SendError::Unreachable)?;
        pipe.write_all(bytes).await.map_err(SendError::Write)?;
        return pipe.flush().await.map_err(SendError::Write);
    }
    let device = kind.is_char_device() && DEVICE_PREFIXES.iter().any(|p| path.starts_with(p));
    if !device {
        return Err(SendError::NotADevice(path.to_owned()));
    }
    let (path, bytes) = (path.to_owned(), bytes.to_vec());
    // The printer driver's write blocks while the printer is busy, maybe for
    // good (out of paper): one such write at a time, so a stuck printer
    // holds one blocking thread, never the pool the store reads on. The
    // permit goes with the thread and is released when its write returns.
    let permit = DEVICE_WRITES
        .acquire()
        .await
        .map_err(|e| SendError::Write(std::io::Error::other(e)))?;
    permit.forget();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let _release = Release;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(SendError::Unreachable)?;
        f.write_all(&bytes).map_err(SendError::Write)?;
        f.flush().map_err(SendError::Write)
    })
    .await
    .map_err(|e| SendError::Write(std::io::Error::other(e)))?
}
