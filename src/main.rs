//! The `queueless` binary: parse the command line, start logging to
//! stderr, dispatch.

use std::process::ExitCode;

use clap::Parser;
use queueless::cli::{Cli, Command};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

mod panic_hook;

fn init_logging() {
    // QUEUELESS_LOG (or RUST_LOG) takes `warn`, `info`, `queueless=info,tower=warn`, …
    // Release builds keep `info` and above only (the `debug` and `trace`
    // lines are compiled out to keep the router binary small); debug builds
    // keep everything.
    let spec = std::env::var("QUEUELESS_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into());
    let filter: Targets = spec
        .parse()
        .unwrap_or_else(|_| Targets::new().with_default(tracing::Level::INFO));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false),
        )
        .with(filter)
        .init();
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = ctrl_c.await;
        }
    }
}

/// Most threads for blocking work (database reads, password hashing,
/// firewall commands). tokio allows 512; a burst of guests would start one
/// per concurrent read, each with its own stack and allocator arena, and
/// the memory stays with the process after the rush.
const BLOCKING_THREADS: usize = 8;

fn main() -> ExitCode {
    panic_hook::abort_on_panic();
    let cli = Cli::parse();
    let config = match cli.config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("queueless: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(config.worker_threads.max(1) as usize)
        .max_blocking_threads(BLOCKING_THREADS)
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(run(cli, config)),
        Err(e) => {
            eprintln!("queueless: starting the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, config: queueless::config::Config) -> ExitCode {
    init_logging();
    let result = async {
        match &cli.command {
            Command::Serve(_) => queueless::app::run(config, shutdown_signal()).await,
            Command::Check(_) => {
                let findings = queueless::check::run(&config);
                for f in &findings {
                    println!("{} {}", if f.ok { "ok: " } else { "FIX:" }, f.text);
                }
                if findings.iter().all(|f| f.ok) {
                    Ok(())
                } else {
                    Err(anyhow::anyhow!("some checks failed; see FIX lines above"))
                }
            }
            _ => queueless::cli::run_command(&cli, &config).await,
        }
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("queueless: {e:#}");
            ExitCode::FAILURE
        }
    }
}
