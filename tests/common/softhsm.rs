//! SoftHSM2 tokens for the PKCS#11 tests. SoftHSM reads `SOFTHSM2_CONF` once, at C_Initialize,
//! so each test process gets one configuration of its own (a token directory in a temporary
//! directory), shared with the binaries it runs; inside it every test initialises a token of its
//! own, with its own label and PIN, so no two tests share a key. The tests of a process run one
//! at a time (a [`Token`] holds a lock): a process scanning the token directory while
//! softhsm2-util writes a new token there could read it half made.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::{have_tool, s, Region, Run};

/// The test tokens' user PIN.
pub const PIN: &str = "246813";
/// The test tokens' security officer PIN.
const SO_PIN: &str = "975310";

/// The SoftHSM2 module where Debian (and a local build) put it.
pub fn module() -> Option<PathBuf> {
    [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/local/lib/softhsm/libsofthsm2.so",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

/// This process's SoftHSM configuration, made (and `SOFTHSM2_CONF` set) on first use; `None`
/// when SoftHSM2 is not installed (the caller skips; under CI=true that fails instead).
fn setup() -> Option<PathBuf> {
    static CONF: OnceLock<Option<(tempfile::TempDir, PathBuf)>> = OnceLock::new();
    let conf = CONF.get_or_init(|| {
        if !have_tool("softhsm2-util") {
            return None;
        }
        let module = module().expect("softhsm2-util is installed but libsofthsm2.so is not found");
        let dir = tempfile::tempdir().expect("tempdir");
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).expect("token directory");
        let conf = dir.path().join("softhsm2.conf");
        let text = format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        );
        std::fs::write(&conf, text).expect("write softhsm2.conf");
        // Set once, while every test of this process waits in get_or_init (each calls this
        // before it runs any command): the test process reads it in-process, the binaries inherit it.
        std::env::set_var("SOFTHSM2_CONF", &conf);
        Some((dir, module))
    });
    conf.as_ref().map(|(_, m)| m.clone())
}

/// A freshly initialised token of this test; the other PKCS#11 tests of the process wait while
/// it lives.
pub struct Token {
    pub label: String,
    pub module: PathBuf,
    _turn: std::sync::MutexGuard<'static, ()>,
}

impl Token {
    /// Initialise a token labelled `label` (unique per test) with [`PIN`]; `None` to skip.
    pub fn new(label: &str) -> Option<Token> {
        static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
        let module = setup()?;
        let out = std::process::Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", SO_PIN])
            .output()
            .expect("run softhsm2-util");
        assert!(
            out.status.success(),
            "softhsm2-util --init-token failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(Token { label: label.to_string(), module, _turn: turn })
    }

    /// `zhengyin init --pkcs11` into `<tmp>/home` with every department's key in this token and
    /// the PIN in `<tmp>/pin` (the key URIs' pin-source); asserts success.
    pub fn init_region(&self, extra: &[&str]) -> Region {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        let pin = dir.path().join("pin");
        std::fs::write(&pin, format!("{PIN}\n")).expect("write the PIN file");
        let mut args = vec!["init", "--home", s(&home), "--pkcs11", s(&self.module), "--token", &self.label];
        args.extend(["--pin-file", s(&pin)]);
        args.extend(extra);
        super::zy(dir.path(), &args).assert_code(0);
        Region { dir, home }
    }

    /// An in-process session on this token, logged in as the user.
    pub fn session(&self) -> cryptoki::session::Session {
        use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
        let ctx = Pkcs11::new(&self.module).expect("load SoftHSM");
        match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(())
            | Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::CryptokiAlreadyInitialized, _)) => {
            }
            Err(e) => panic!("C_Initialize: {e}"),
        }
        let slot = ctx
            .get_slots_with_token()
            .expect("slots")
            .into_iter()
            .find(|s| ctx.get_token_info(*s).map(|i| i.label().trim_end() == self.label).unwrap_or(false))
            .expect("the test's token is visible in-process");
        let session = ctx.open_ro_session(slot).expect("open a session");
        session.login(cryptoki::session::UserType::User, Some(&PIN.into())).expect("log in");
        session
    }
}

/// `zhengyin args…` in `dir` with `ZHENGYIN_PKCS11_PIN=pin`.
pub fn zy_pin(dir: &Path, pin: &str, args: &[&str]) -> Run {
    super::run_in_env(dir, super::BIN, args, &[("ZHENGYIN_PKCS11_PIN", pin)])
}
