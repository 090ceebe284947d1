//! What omc-core's test binaries share: a receiver over a small registry, Odoo-style login
//! bodies and cookies, and a `tracing` writer that captures what is logged.

#![allow(dead_code)] // each test binary uses its own part of this module

use omc_core::IdTypes;
use omc_core::memory::MemoryRegistry;
use omc_core::receiver::{CallbackReceiver, CallbackResponse, ReceiverSettings};
use omc_core::registry::RegistrantId;
use omc_core::testing::synthetic;
use secrecy::SecretString;
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};

pub(crate) const PATH: &str = "/omc/callback";
pub(crate) const LOGIN: &str = "/web/session/authenticate";
pub(crate) const PASSWORD: &str = "the-right-password";

pub(crate) fn receiver() -> Arc<CallbackReceiver> {
    let registry = Arc::new(MemoryRegistry::with_seeds(
        IdTypes::default(),
        synthetic(12, 3).collect::<Vec<_>>(),
    ));
    let receiver = Arc::new(CallbackReceiver::new(registry, ReceiverSettings::default()));
    receiver.add_user("omc", "mts", &SecretString::from(PASSWORD));
    receiver.expect(&(1..=10).map(RegistrantId).collect::<Vec<_>>());
    receiver
}

pub(crate) fn login_body(login: &str, password: &str) -> String {
    json!({"jsonrpc": "2.0", "id": 1,
           "params": {"db": "omc", "login": login, "password": password}})
    .to_string()
}

pub(crate) fn cookie_of(answer: &CallbackResponse) -> Option<&str> {
    answer
        .headers
        .iter()
        .find(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.as_str())
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// What was written so far.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}
