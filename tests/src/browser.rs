//! [`Browser`]: headless Chromium driven over WebDriver (chromedriver on a free loopback port, started by the test),
//! saving a screenshot of every page a test visits to `<target>/screenshots/<test>/<nn>-<page>.png`.
//!
//! Chromium and chromedriver come from Debian's packages (`chromium`, `chromium-driver`), installed by
//! `.ci/browser-tools.sh`; `CLOVERLEAF_CHROMIUM` and `CLOVERLEAF_CHROMEDRIVER` point elsewhere. When they are missing
//! the test fails with a message saying so — it never skips.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// A browser for one test.
pub struct Browser {
    pub client: Client,
    driver: Child,
    /// chromedriver's address, for its Chromium-only commands (network conditions).
    driver_url: String,
    shots: PathBuf,
    taken: AtomicUsize,
}

fn program(variable: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(variable).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.is_file(),
        "the browser tests need headless Chromium and chromedriver, and {} is missing ({variable} names another \
         path). Install them with `bash .ci/browser-tools.sh` (Debian's chromium and chromium-driver packages); CI \
         does this before the tests.",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session; screenshots go to `<screenshots>/<test>/` (emptied
    /// first).
    pub async fn start(test: &str, screenshots: &Path) -> Self {
        Self::start_with(test, screenshots, &[]).await
    }

    /// [`Browser::start`] with more Chromium switches (a fake camera fed from a file, say).
    pub async fn start_with(test: &str, screenshots: &Path, switches: &[String]) -> Self {
        let chromium = program("CLOVERLEAF_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = program("CLOVERLEAF_CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = free_port();
        // Its own process group, so that the browsers it starts end with it, even when a test panics.
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = http
                .get(format!("{url}/status"))
                .send()
                .await
                .ok()
                .filter(|r| r.status().is_success());
            if ready.is_some() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on {url}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut capabilities = serde_json::Map::new();
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--window-size=1280,1600",
            "--lang=en-GB",
            "--no-first-run",
            "--disable-extensions",
            "--disable-crash-reporter",
            "--disable-breakpad",
        ]
        .map(str::to_owned)
        .to_vec();
        args.extend(switches.iter().cloned());
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": chromium,
                "args": args,
                "prefs": { "intl.accept_languages": "en-GB,en" },
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot start headless Chromium through chromedriver: {e}"));
        let shots = screenshots.join(test);
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots).expect("screenshot folder");
        Self {
            client,
            driver,
            driver_url: url,
            shots,
            taken: AtomicUsize::new(0),
        }
    }

    /// Cuts the page's network (`offline`) or gives it back, as a phone losing its signal: chromedriver's
    /// network conditions, which Chromium applies to every request of the page, loopback included.
    pub async fn network(&self, offline: bool) {
        let session = self
            .client
            .session_id()
            .await
            .expect("session id")
            .expect("a session");
        let answer = reqwest::Client::new()
            .post(format!(
                "{}/session/{session}/chromium/network_conditions",
                self.driver_url
            ))
            .json(
                &json!({ "network_conditions": { "offline": offline, "latency": 0,
                "download_throughput": 1_000_000, "upload_throughput": 1_000_000 } }),
            )
            .send()
            .await
            .expect("chromedriver answers");
        assert!(
            answer.status().is_success(),
            "network conditions: {}",
            answer.text().await.unwrap_or_default()
        );
    }

    /// Saves what the browser shows as `<nn>-<page>.png`.
    pub async fn shot(&self, page: &str) -> PathBuf {
        let n = self.taken.fetch_add(1, Ordering::Relaxed) + 1;
        let png = self.client.screenshot().await.expect("screenshot");
        let path = self.shots.join(format!("{n:02}-{page}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    /// Opens `url` and saves its screenshot.
    pub async fn visit(&self, url: &str, page: &str) {
        self.client.goto(url).await.expect("open the page");
        self.shot(page).await;
    }

    pub async fn url(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("current url")
            .to_string()
    }

    /// The visible text of the first element matching `css` (waiting for it up to 10 s).
    pub async fn text(&self, css: &str) -> String {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .expect("text")
    }

    pub async fn attribute(&self, css: &str, name: &str) -> Option<String> {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .attr(name)
            .await
            .expect("attribute")
    }

    pub async fn exists(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// Types `text` into the field matching `css` (emptied first).
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    /// Sets a field's value directly (date and time inputs, whose typing order depends on the browser's locale).
    pub async fn set_value(&self, css: &str, value: &str) {
        let script = "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
                      e.dispatchEvent(new Event('input', {bubbles: true})); return e.value;";
        let set: Value = self
            .client
            .execute(script, vec![json!(css), json!(value)])
            .await
            .expect("set the value");
        assert_eq!(set, json!(value), "{css} took the value");
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks a link or button by its text.
    pub async fn click_text(&self, text: &str) {
        let xpath =
            format!("//a[normalize-space(.)={text:?}] | //button[normalize-space(.)={text:?}]");
        self.client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no link or button {text:?}: {e}"))
            .click()
            .await
            .expect("click");
    }

    /// Chooses the option whose value is `value` in the `<select>` matching `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("{css} = {value}: {e}"));
    }

    /// Waits until the page's URL contains `part` (after a form was sent).
    pub async fn wait_for_url(&self, part: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let url = self.url().await;
            // The new address is known as soon as the navigation commits, before its page is read: wait for the
            // document too, or a look at the page right after can find the old one's (or none of its) elements.
            if url.contains(part) && self.loaded().await {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "still at {url}, waiting for {part}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Logs in on the organiser's login page at `login_url` with a password; done once the page offers the logout.
    pub async fn log_in(&self, login_url: &str, email: &str, password: &str) {
        self.client.goto(login_url).await.expect("open the login");
        self.fill("#f-email", email).await;
        self.fill("#f-password", password).await;
        self.click("form[action='/organiser/login'] button[type=submit]")
            .await;
        // Logged in once the page has the logout button (the login page has none).
        self.text("form[action='/organiser/logout'] button").await;
        let url = self.url().await;
        assert!(
            !url.contains("/organiser/login"),
            "{email} logged in: {}",
            self.page_text().await
        );
    }

    /// Whether the current document has finished loading.
    async fn loaded(&self) -> bool {
        self.client
            .execute("return document.readyState;", vec![])
            .await
            .is_ok_and(|state| state == "complete")
    }

    /// The page's whole visible text.
    pub async fn page_text(&self) -> String {
        self.text("body").await
    }

    /// Ends the session, the browser and chromedriver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
        // Drop ends the process group.
    }
}

impl Drop for Browser {
    /// Ends chromedriver and every browser process it started (its process group), also after a failed test.
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
