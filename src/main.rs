//! The `zhengyin` command: parses arguments (clap), calls the library, prints, sets the exit code
//! (0 success / valid, 1 invalid, 2 could not run). See docs/cli.md.

mod cli;

/// mimalloc instead of glibc's malloc: verification and bulk issuance make many small, short-lived
/// allocations (parsed objects, DER, report strings) on several threads at once, where glibc's
/// allocator spent about 15 % of the instructions (docs/BENCHMARKS.md, "Volume").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Die quietly on a closed pipe (`zhengyin archive list | head`) instead of panicking in println!.
    #[cfg(unix)]
    // SAFETY: restoring the default SIGPIPE disposition at start-up, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // lopdf logs one ERROR per malformed object of an untrusted file: noise for the CLI user and a
    // log flood anyone can trigger through POST /v1/verify, so it is off unless ZHENGYIN_LOG asks.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ZHENGYIN_LOG")
                .unwrap_or_else(|_| "warn,lopdf=off".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    cli::run()
}
