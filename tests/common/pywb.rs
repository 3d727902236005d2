//! pywb, the replay tool the tests hand govsnap's archives to (installed
//! in `.ci/venv` by scripts/test): its `wb-manager` and its `wayback`.

use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `wayback` serving `dir`'s collections on a free loopback port, stopped
/// when dropped.
pub struct Wayback {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Wayback {
    pub fn start(dir: &Path) -> Self {
        Self::start_with(dir, &[])
    }

    /// [`Wayback::start`] with more of `wayback`'s arguments
    /// (`--record --live`: pywb's recorder).
    pub fn start_with(dir: &Path, more: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(super::tool("wayback"))
            .args(["-p", &port.to_string(), "-b", "127.0.0.1"])
            .args(more)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        super::service::wait_until("pywb's wayback to answer", || {
            let (status, _, _) = super::service::get_bytes_or_none(&format!("{base}/"))?;
            (status == 200).then_some(())
        });
        Self { child, base }
    }
}

impl Drop for Wayback {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `wb-manager` in `dir` with `args`.
pub fn wb_manager(dir: &Path, args: &[&str]) {
    let out = Command::new(super::tool("wb-manager"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "wb-manager {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
