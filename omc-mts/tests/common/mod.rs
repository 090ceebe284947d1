//! Helpers shared by the integration tests: a raw HTTP/1.1 callback receiver that records
//! every call (and every TCP connection), and request builders.
#![allow(dead_code, unreachable_pub)]

use omc_core::sink::{CallbackAuth, HttpMethod};
use omc_core::{Delivery, Mapping, PersonalRecord, SeedRequest};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

/// The output format that brings the registrant key back.
pub const FORMAT: &str = r#"{"id": .input.id, "vid": .output.vid, "token": .output.token, "status": .output.status, "errorCode": .output.errorCode, "errorMessage": .output.errorMessage}"#;

/// One HTTP call received.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    /// Which TCP connection (0-based) carried it.
    pub connection: usize,
}

impl Call {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// How the receiver answers a call.
pub enum Reply {
    Status(u16, Vec<(String, String)>),
    Drop,
}

type Behaviour = Arc<dyn Fn(&Call, usize) -> Reply + Send + Sync>;

/// A loopback HTTP server recording calls; `behaviour(call, index)` decides each answer.
pub struct Receiver {
    pub addr: SocketAddr,
    calls: Arc<Mutex<Vec<Call>>>,
    connections: Arc<Mutex<usize>>,
}

impl Receiver {
    pub async fn start(behaviour: impl Fn(&Call, usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let behaviour: Behaviour = Arc::new(behaviour);
        let (c, n) = (calls.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let index = {
                    let mut n = n.lock().unwrap();
                    *n += 1;
                    *n - 1
                };
                tokio::spawn(serve(stream, index, c.clone(), behaviour.clone()));
            }
        });
        Self {
            addr,
            calls,
            connections,
        }
    }

    /// Answers 200 to everything.
    pub async fn ok() -> Self {
        Self::start(|_, _| Reply::Status(200, Vec::new())).await
    }

    pub fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{path}", self.addr)).unwrap()
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    pub fn connections(&self) -> usize {
        *self.connections.lock().unwrap()
    }

    /// Polls until `n` calls arrived.
    pub async fn wait_calls(&self, n: usize) -> Vec<Call> {
        eventually(&format!("{n} calls"), || async {
            let calls = self.calls();
            (calls.len() >= n).then_some(calls)
        })
        .await
    }
}

async fn serve(
    mut stream: TcpStream,
    connection: usize,
    calls: Arc<Mutex<Vec<Call>>>,
    behaviour: Behaviour,
) {
    loop {
        let Some(mut call) = read_request(&mut stream).await else {
            return;
        };
        call.connection = connection;
        let index = {
            let mut calls = calls.lock().unwrap();
            calls.push(call.clone());
            calls.len() - 1
        };
        match behaviour(&call, index) {
            Reply::Drop => return,
            Reply::Status(status, headers) => {
                let mut head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 2\r\ncontent-type: application/json\r\n"
                );
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n{}");
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Call> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let mut headers = BTreeMap::new();
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            let k = k.trim().to_ascii_lowercase();
            let v = v.trim().to_owned();
            headers
                .entry(k)
                .and_modify(|old: &mut String| *old = format!("{old}; {v}"))
                .or_insert(v);
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Call {
        method,
        path,
        headers,
        body,
        connection: 0,
    })
}

/// Polls `probe` every 10 ms until it yields, for at most 20 s.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A complete record under the default mapping.
pub fn record(id: i64, vid: &str) -> PersonalRecord {
    let value = json!({"id": id, "vid": vid, "given_name": "Amina", "family_name": "Diallo",
                       "gender": "Female", "birthdate": "1990-02-03", "address": "1 Road",
                       "email": "a@example.org", "phone": "+1000"});
    PersonalRecord::from(value.as_object().unwrap().clone())
}

pub fn seed(records: Vec<PersonalRecord>) -> SeedRequest {
    SeedRequest {
        mapping: Mapping::default(),
        lang: "eng".into(),
        authdata: records,
    }
}

pub fn delivery(url: Url, bulk: bool, auth: CallbackAuth) -> Delivery {
    {
        let mut delivery = Delivery::new(url, auth);
        delivery.http_method = HttpMethod::Post;
        delivery.timeout_seconds = 5;
        delivery.call_in_bulk = bulk;
        delivery.output_format = Some(FORMAT.into());
        delivery.extra_headers = BTreeMap::new();
        delivery
    }
}

/// A raw envelope (personal data made up) with a callback to `url`.
pub fn envelope(url: &str) -> Value {
    json!({
        "id": "mosip.token.seeder", "version": "1.0", "metadata": "",
        "requesttime": "2026-11-26T14:13:21.123Z",
        "request": {
            "output": "json", "deliverytype": "callback",
            "mapping": Mapping::default(), "lang": "eng",
            "callbackProperties": {"url": url, "httpMethod": "POST", "timeoutSeconds": 5,
                                   "callInBulk": false, "authType": "none"},
            "authdata": [record(1, "4918350000000001").into_inner()]
        }
    })
}
