//! A real SMTP server for the mail tests: `tests/mail/smtp_sink.py` (aiosmtpd, from PyPI) in
//! the venv `<target dir>/mail-venv`, which scripts/test.sh creates (and this harness creates
//! too when it is missing), on a free loopback port. Each accepted mail is a JSON file in a
//! directory that outlives the process, so the sink can stop and start again on its port.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// One mail the sink accepted.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct Mail {
    /// The envelope sender.
    pub mail_from: String,
    /// The envelope recipients.
    pub rcpt_tos: Vec<String>,
    /// The whole message (headers and body) as received.
    pub data: String,
}

impl Mail {
    /// The value of header `name` (case-insensitive; folded lines joined), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let head = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }

    /// The body (after the blank line), with soft line breaks and `=XX` of quoted-printable
    /// undone when the mail says it is quoted-printable.
    pub fn body(&self) -> String {
        let body = self.data.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        if self
            .header("Content-Transfer-Encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("quoted-printable"))
        {
            let joined = body.replace("=\r\n", "");
            let bytes = joined.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                let escaped = (bytes[i] == b'=')
                    .then(|| joined.get(i + 1..i + 3))
                    .flatten()
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok());
                match escaped {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    None => {
                        out.push(bytes[i]);
                        i += 1;
                    }
                }
            }
            String::from_utf8_lossy(&out).replace("\r\n", "\n")
        } else {
            body.replace("\r\n", "\n")
        }
    }
}

/// The Python of the venv with aiosmtpd, created on first use if missing.
fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let target = crate::sealdesk_binary()
                .parent()
                .and_then(|profile| profile.parent())
                .expect("target directory")
                .to_path_buf();
            let venv = target.join("mail-venv");
            let python = venv.join("bin").join("python");
            if !python.exists() {
                let status = Command::new("python3")
                    .args(["-m", "venv"])
                    .arg(&venv)
                    .status()
                    .expect("python3 -m venv");
                assert!(status.success(), "python3 -m venv failed");
            }
            let requirements =
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mail/requirements.txt");
            let check = Command::new(&python)
                .args(["-c", "import aiosmtpd"])
                .status()
                .expect("run the venv's python");
            if !check.success() {
                let status = Command::new(&python)
                    .args([
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                        "-r",
                    ])
                    .arg(&requirements)
                    .status()
                    .expect("pip install aiosmtpd");
                assert!(
                    status.success(),
                    "pip install -r tests/mail/requirements.txt failed"
                );
            }
            python
        })
        .clone()
}

/// The running sink (or a stopped one that keeps its mails and port).
pub struct SmtpSink {
    child: Option<Child>,
    /// The loopback port it listens on.
    pub port: u16,
    dir: tempfile::TempDir,
}

impl SmtpSink {
    /// Starts a sink on a free port.
    pub fn start() -> SmtpSink {
        let dir = tempfile::tempdir().expect("tempdir");
        let (child, port) = spawn(&dir, None);
        SmtpSink {
            child: Some(child),
            port,
            dir,
        }
    }

    /// `smtp://127.0.0.1:PORT?tls=none`, for `SEALDESK_SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    /// Stops the sink (its port then refuses connections); the mails stay.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the stopped sink again on the same port.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "running");
        let (child, _) = spawn(&self.dir, Some(self.port));
        self.child = Some(child);
    }

    /// Every mail accepted so far, in order.
    pub fn mails(&self) -> Vec<Mail> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path())
            .expect("read the sink's directory")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).expect("read")).expect("mail json"))
            .collect()
    }

    /// Waits up to `timeout` until at least `count` mails arrived; returns them all.
    pub fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Mail> {
        let start = Instant::now();
        loop {
            let mails = self.mails();
            if mails.len() >= count {
                return mails;
            }
            assert!(
                start.elapsed() < timeout,
                "expected {count} mails within {timeout:?}, got {}",
                mails.len()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn(dir: &tempfile::TempDir, port: Option<u16>) -> (Child, u16) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mail/smtp_sink.py");
    let mut command = Command::new(python());
    command.arg(script).arg(dir.path());
    if let Some(port) = port {
        command.arg(port.to_string());
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the SMTP sink");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the sink's first line");
    let port = line
        .trim()
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("the SMTP sink did not start: {line:?}"))
        .parse()
        .expect("port");
    (child, port)
}
