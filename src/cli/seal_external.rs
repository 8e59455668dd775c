//! `zhengyin seal prepare|complete`: two-step sealing with files, for a department whose key is in
//! a UKey. `prepare` prints the handle and the SHA-256 the key must sign (and can write the raw
//! digest and the signed attributes to files); `complete` takes the signature value, verifies the
//! whole document, files it and writes it. The work is `licence::external`.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{fail, HomeArg};
use zhengyin::licence::external;

#[derive(clap::Args)]
pub struct Prepare {
    #[command(flatten)]
    home: HomeArg,
    /// The department whose key will sign (must be next in the document's seal plan)
    #[arg(long, value_name = "DEPT")]
    dept: String,
    /// The sealed PDF
    input: PathBuf,
    /// Write the 32-byte SHA-256 to sign here (e.g. for `openssl pkeyutl -sign -in FILE`)
    #[arg(long, value_name = "FILE")]
    digest_out: Option<PathBuf>,
    /// Write the DER of the CMS signed attributes here (for signers that hash themselves)
    #[arg(long, value_name = "FILE")]
    attrs_out: Option<PathBuf>,
    /// Seconds the handle stays valid (1 to 3600)
    #[arg(long, value_name = "SECONDS", default_value_t = external::DEFAULT_TTL)]
    ttl: u64,
}

#[derive(clap::Args)]
pub struct Complete {
    #[command(flatten)]
    home: HomeArg,
    /// The handle `seal prepare` printed
    #[arg(long, value_name = "HANDLE")]
    handle: String,
    /// The signature: DER ECDSA-Sig-Value, raw r||s (64 bytes) or a DER CMS SignerInfo
    #[arg(long, value_name = "FILE")]
    signature: PathBuf,
    /// Output PDF
    #[arg(short = 'o', long = "output", value_name = "OUT.pdf")]
    output: PathBuf,
}

pub fn prepare(p: Prepare) -> ExitCode {
    let home = p.home.home();
    let bytes = match std::fs::read(&p.input) {
        Ok(b) => b,
        Err(e) => return fail(format!("cannot read {}: {e}", p.input.display())),
    };
    let started = match external::prepare(&home, &bytes, &p.dept, p.ttl, None) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    for (path, data) in [(&p.digest_out, &started.digest[..]), (&p.attrs_out, &started.signed_attrs[..])] {
        if let Some(path) = path {
            if let Err(e) = zhengyin::licence::write_output(path, data) {
                return fail(e);
            }
        }
    }
    let hex = zhengyin::hex::encode(&started.digest);
    let expires = time::OffsetDateTime::from_unix_timestamp(started.expires)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default();
    println!("handle {}", started.handle);
    println!("digest {hex}");
    println!("expires {expires}");
    println!(
        "sign the SHA-256 digest with {}'s key (ECDSA P-256), then run `zhengyin seal complete`",
        started.dept
    );
    ExitCode::SUCCESS
}

pub fn complete(c: Complete) -> ExitCode {
    let home = c.home.home();
    let sent = match std::fs::read(&c.signature) {
        Ok(b) => b,
        Err(e) => return fail(format!("cannot read {}: {e}", c.signature.display())),
    };
    let dept = match external::owner(&home, &c.handle) {
        Ok((d, _)) => d,
        Err(e) => return fail(e),
    };
    super::seal::file_and_write(&home, &c.output, &dept, || {
        external::complete(&home, &c.handle, &sent, None).map(|done| done.added)
    })
}
