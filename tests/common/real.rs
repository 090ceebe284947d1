//! The real systems for opt-in tests: a real Odoo 17 + OpenG2P and a real MOSIP Token Seeder
//! (`mts-mock` branch), running on loopback (docs/OPERATIONS.md says how to bring them up).
//!
//! A test that needs them calls [`RealStack::from_env`] first and returns when it answers `None`
//! (it has printed one line saying the test is skipped and what to set), then
//! [`RealStack::ensure_reachable`], which fails the test naming the URL of a system it cannot
//! reach. The environment variables:
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `OMC_REAL_ODOO_URL` | Odoo's base URL, e.g. `http://127.0.0.1:18069/` | none: unset skips the test |
//! | `OMC_REAL_ODOO_DATABASE` | Odoo's database | `omc` |
//! | `OMC_REAL_ODOO_LOGIN` | the Odoo user OMC and MTS log in as | `admin` |
//! | `OMC_REAL_ODOO_PASSWORD` | that user's password | `admin` |
//! | `OMC_REAL_MTS_URL` | MTS's base URL, e.g. `http://127.0.0.1:18080/` | none: unset skips the test |
//! | `OMC_REAL_MTS_PARTNER_ID` | the partner id MTS derives tokens for | `mpartner-default-omc` |
//!
//! The `omc` command ignores `OMC_REAL_*` (reserved for these tests); `common::command` passes it
//! none of the test's `OMC_*` variables anyway.
//!
//! The tests create their own registrants, with VIDs from a [`VidSeries`] unique to the run, and
//! select only those (by id and a family name unique to the run), so they can share a registry
//! with other data and with earlier runs.

use omc::Vid;
use omc::odoo::OdooClient;
use secrecy::SecretString;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use url::Url;

/// Variables of the real systems, as documented in this module.
pub(crate) const ODOO_URL: &str = "OMC_REAL_ODOO_URL";
pub(crate) const ODOO_DATABASE: &str = "OMC_REAL_ODOO_DATABASE";
pub(crate) const ODOO_LOGIN: &str = "OMC_REAL_ODOO_LOGIN";
pub(crate) const ODOO_PASSWORD: &str = "OMC_REAL_ODOO_PASSWORD";
pub(crate) const MTS_URL: &str = "OMC_REAL_MTS_URL";
pub(crate) const MTS_PARTNER_ID: &str = "OMC_REAL_MTS_PARTNER_ID";

/// How long a reachability check waits.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the real Odoo and MTS are, and how to log in.
#[derive(Debug, Clone)]
pub(crate) struct RealStack {
    pub(crate) odoo_url: Url,
    pub(crate) database: String,
    pub(crate) login: String,
    pub(crate) password: String,
    pub(crate) mts_url: Url,
    pub(crate) partner_id: String,
}

impl RealStack {
    /// The real systems from the environment; `None`, after printing one line saying that
    /// `test` is skipped and which variables to set, when `OMC_REAL_ODOO_URL` or
    /// `OMC_REAL_MTS_URL` is unset or empty. A URL that does not parse fails the test.
    #[allow(clippy::print_stderr)] // the skip is meant to be seen in the test's output
    pub(crate) fn from_env(test: &str) -> Option<Self> {
        let (Some(odoo), Some(mts)) = (var(ODOO_URL), var(MTS_URL)) else {
            eprintln!(
                "skipped {test}: it runs against a real Odoo + OpenG2P and a real MTS; set \
                 {ODOO_URL} and {MTS_URL} (and optionally {ODOO_DATABASE}, {ODOO_LOGIN}, \
                 {ODOO_PASSWORD}, {MTS_PARTNER_ID}; defaults omc, admin, admin, \
                 mpartner-default-omc)"
            );
            return None;
        };
        Some(Self {
            odoo_url: base_url(ODOO_URL, &odoo),
            database: var(ODOO_DATABASE).unwrap_or_else(|| "omc".into()),
            login: var(ODOO_LOGIN).unwrap_or_else(|| "admin".into()),
            password: var(ODOO_PASSWORD).unwrap_or_else(|| "admin".into()),
            mts_url: base_url(MTS_URL, &mts),
            partner_id: var(MTS_PARTNER_ID).unwrap_or_else(|| "mpartner-default-omc".into()),
        })
    }

    /// A JSON-RPC client of the real Odoo, as the configured user.
    pub(crate) fn odoo_client(&self) -> OdooClient {
        OdooClient::builder()
            .base_url(self.odoo_url.clone())
            .database(self.database.clone())
            .login(self.login.clone())
            .password(SecretString::from(self.password.clone()))
            .connect_timeout(PROBE_TIMEOUT)
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap_or_else(|e| panic!("an Odoo client for {}: {e}", self.odoo_url))
    }

    /// Fails the test, naming the URL, unless Odoo accepts the login and MTS answers its ping.
    pub(crate) async fn ensure_reachable(&self) {
        if let Err(e) = self.odoo_client().login().await {
            panic!(
                "the real Odoo at {} ({ODOO_URL}) cannot be reached or refuses the login \
                 {:?} on database {:?}: {e}",
                self.odoo_url, self.login, self.database
            );
        }
        let ping = self.mts_url.join("ping").expect("a base URL joins a path");
        let answer = reqwest::Client::builder()
            .timeout(PROBE_TIMEOUT)
            .build()
            .expect("an HTTP client")
            .get(ping.clone())
            .send()
            .await;
        match answer {
            Ok(answer) if answer.status().is_success() => {}
            Ok(answer) => panic!(
                "the real MTS at {} ({MTS_URL}) answers {} to GET {ping}",
                self.mts_url,
                answer.status()
            ),
            Err(e) => panic!(
                "the real MTS at {} ({MTS_URL}) cannot be reached: {e}",
                self.mts_url
            ),
        }
    }
}

/// VIDs (16 digits) no other run of any test shares: 13 digits of the milliseconds at which the
/// series was made, then a 3-digit index. Also a tag (letters and digits) for names.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VidSeries {
    stamp: u64,
}

impl VidSeries {
    /// A series stamped now.
    pub(crate) fn new() -> Self {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("the clock is after 1970")
            .as_millis();
        let stamp = u64::try_from(millis % 10_000_000_000_000).expect("13 digits fit");
        Self { stamp }
    }

    /// The `index`-th VID (0 to 999).
    pub(crate) fn vid(&self, index: usize) -> Vid {
        assert!(index < 1_000, "a series holds 1,000 VIDs");
        Vid::new(format!("{:013}{index:03}", self.stamp))
    }

    /// A tag unique to the series, e.g. for a family name the test's filter selects by.
    pub(crate) fn tag(&self, prefix: &str) -> String {
        format!("{prefix}{:013}", self.stamp)
    }
}

/// A variable's value, `None` when unset or empty.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A base URL from a variable, with the trailing `/` that joining paths needs.
fn base_url(name: &str, text: &str) -> Url {
    let text = text.trim();
    let text = if text.ends_with('/') {
        text.to_owned()
    } else {
        format!("{text}/")
    };
    Url::parse(&text).unwrap_or_else(|e| panic!("{name}={text} is not a URL: {e}"))
}
