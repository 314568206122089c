//! The README's walkthrough, pasted as a newcomer pastes it: `cloverleaf serve --demo` runs (the real binary, SQLite
//! and mail files under the data directory), and the README's `sh walkthrough` block runs in bash beside it — the
//! same text, with only EDGE (a free port instead of 8080) and PASSWORD (the one serve printed) set. If a command in
//! the README stopped working, or the update did not reach the mailbox with a higher SEQUENCE, this fails.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn walkthrough() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let start = readme
        .find("```sh walkthrough\n")
        .expect("a ```sh walkthrough block in the README");
    let body = &readme[start + "```sh walkthrough\n".len()..];
    body[..body.find("```").expect("the block's end")].to_owned()
}

#[test]
fn the_readme_walkthrough_works_as_pasted() {
    let dir = tempfile::tempdir().expect("dir");
    std::os::unix::fs::symlink(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts"),
        dir.path().join("scripts"),
    )
    .expect("scripts beside the data, as at the repository's root");
    let mut serve = Command::new(env!("CARGO_BIN_EXE_cloverleaf"))
        .args(["serve", "--demo"])
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .env_remove("CLOVERLEAF_TEST_DATABASE_URL")
        .env("CLOVERLEAF_PROFILE", "test")
        .env(
            "CLOVERLEAF_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../config"),
        )
        .env("CLOVERLEAF__EDGE__LISTEN", "127.0.0.1:0")
        .env("CLOVERLEAF__REGISTRATION__LISTEN", "127.0.0.1:0")
        .env("CLOVERLEAF__SCHEDULING__LISTEN", "127.0.0.1:0")
        .env("CLOVERLEAF__NOTIFICATIONS__LISTEN", "127.0.0.1:0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cloverleaf serve --demo");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let stdout = serve.stdout.take().expect("stdout");
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            sink.lock().expect("lines").push(line);
        }
    });
    let find = |prefix: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let found = lines.lock().expect("lines").iter().find_map(|l| {
                l.trim_start().strip_prefix(prefix).map(|rest| {
                    rest.split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned()
                })
            });
            if let Some(value) = found {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "serve --demo printed no {prefix:?}:\n{}",
                lines.lock().expect("lines").join("\n")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let password = find("password:");
    let edge = find("edge ");

    let output = Command::new("bash")
        .args(["-e", "-o", "pipefail", "-c", &walkthrough()])
        .current_dir(dir.path())
        .env("EDGE", &edge)
        .env("PASSWORD", &password)
        .output()
        .expect("bash");
    let _ = serve.kill();
    let _ = serve.wait();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the walkthrough failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("sino-eu-permed-science-technology-webinar"),
        "{stdout}"
    );
    let invites: Vec<&str> = stdout.matches("-- invite (REQUEST):").collect();
    assert_eq!(invites.len(), 2, "the invite, then the update:\n{stdout}");
    let sequences: Vec<u32> = stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("SEQUENCE:"))
        .map(|s| s.parse().expect("a number"))
        .collect();
    assert_eq!(sequences.len(), 2, "{stdout}");
    assert!(
        sequences[1] > sequences[0],
        "the update raised the SEQUENCE: {sequences:?}"
    );
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.trim().starts_with("UID:"))
            .collect::<std::collections::HashSet<_>>()
            .len(),
        1,
        "the same UID: {stdout}"
    );
}
