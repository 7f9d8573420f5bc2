//! A JSON API client that keeps its cookies (`ql_device`, `ql_session`)
//! the way a browser would, with helpers for the calls every test makes,
//! and the answer it gets ([`Reply`]).

use std::collections::BTreeMap;

use reqwest::header::{HeaderMap, SET_COOKIE};
use serde_json::{Value, json};

/// One HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    /// The JSON body, or `Null` when there is none (or it is not JSON).
    pub body: Value,
}

impl Reply {
    /// The body, after checking the status.
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected answer: {}", self.body);
        self.body
    }

    /// The body of a success (2xx).
    pub fn ok(self) -> Value {
        assert!(
            (200..300).contains(&self.status),
            "{}: {}",
            self.status,
            self.body
        );
        self.body
    }

    /// The error code, after checking the status and the error shape
    /// `{"error": code, "message": text}`.
    pub fn error(&self, status: u16) -> &str {
        assert_eq!(self.status, status, "unexpected answer: {}", self.body);
        let message = self.body["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "an error says why: {}", self.body);
        self.body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("not the error shape: {}", self.body))
    }

    /// The error message.
    pub fn message(&self) -> &str {
        self.body["message"].as_str().expect("an error message")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().expect("ascii"))
    }
}

/// A JSON API client that keeps its cookies (`ql_device`, `ql_session`).
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    cookies: BTreeMap<String, String>,
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client::with_http(base, reqwest::Client::builder())
    }

    /// A client with its own settings (a source address, say).
    pub fn with_http(base: &str, builder: reqwest::ClientBuilder) -> Client {
        Client {
            http: builder
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
            base: base.to_owned(),
            cookies: BTreeMap::new(),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// Any request: method, path, extra headers, raw body.
    pub async fn raw(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        self.try_raw(method, path, headers, body)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// Like [`Client::raw`], but a failed connection or an interrupted
    /// answer is an error (the server may have been killed).
    pub async fn try_raw(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<Reply, reqwest::Error> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header(reqwest::header::COOKIE, jar.join("; "));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let r = req.send().await?;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        self.keep_cookies(&headers);
        let bytes = r.bytes().await?;
        Ok(Reply {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        })
    }

    fn keep_cookies(&mut self, headers: &HeaderMap) {
        for v in headers.get_all(SET_COOKIE) {
            let text = v.to_str().expect("ascii cookie");
            let pair = text.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').expect("name=value");
            if value.is_empty() || text.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    /// A request with a JSON body (or none).
    pub async fn send(&mut self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.try_send(method, path, body)
            .await
            .unwrap_or_else(|| panic!("{method} {path}: no answer"))
    }

    /// Like [`Client::send`]; `None` when no whole answer came.
    pub async fn try_send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Option<Reply> {
        let (headers, bytes): (&[(&str, &str)], _) = match body {
            Some(b) => (
                &[("content-type", "application/json")],
                Some(serde_json::to_vec(&b).expect("json")),
            ),
            None => (&[], None),
        };
        self.try_raw(method, path, headers, bytes).await.ok()
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        self.send("GET", path, None).await
    }

    pub async fn post(&mut self, path: &str, body: Value) -> Reply {
        self.send("POST", path, Some(body)).await
    }

    pub async fn login(&mut self, email: &str, password: &str) {
        let me = self
            .post(
                "/api/auth/login",
                json!({"email": email, "password": password}),
            )
            .await
            .expect(200);
        assert_eq!(me["email"], email);
        assert!(self.cookie("ql_session").is_some(), "a session cookie");
    }

    /// Places a checkout of `(item, quantity)` lines.
    pub async fn order(&mut self, lines: &[(u64, u32)], key: &str) -> Reply {
        let items: Vec<Value> = lines
            .iter()
            .map(|(i, q)| json!({"item_id": i, "quantity": q}))
            .collect();
        self.post(
            "/api/orders",
            json!({"items": items, "idempotency_key": key_named(key)}),
        )
        .await
    }

    /// Places a one-shop checkout that must succeed; returns its order.
    pub async fn place(&mut self, lines: &[(u64, u32)], key: &str) -> Value {
        let body = self.order(lines, key).await.expect(201);
        let orders = body["orders"].as_array().expect("orders");
        assert_eq!(orders.len(), 1, "one shop, one order: {body}");
        orders[0].clone()
    }

    /// A shopkeeper moves an order (with a reason when cancelling).
    pub async fn set_status(&mut self, order: &Value, status: &str) -> Reply {
        let mut body = json!({"status": status});
        if status == "cancelled" {
            body["reason"] = json!("sold out, sorry");
        }
        self.post(&format!("/api/shop/orders/{}/status", order["id"]), body)
            .await
    }

    /// An order by its status link.
    pub async fn view(&mut self, order: &Value) -> Value {
        let token = order["token"].as_str().expect("token");
        self.get(&format!("/api/orders/{token}")).await.expect(200)
    }

    /// Every order of the logged-in shop (open or not), newest first.
    pub async fn shop_orders(&mut self) -> Vec<Value> {
        let list = self
            .get("/api/shop/orders?open=false&limit=500")
            .await
            .expect(200);
        list.as_array().expect("orders").clone()
    }

    /// The logged-in shop's ingredient of this name.
    pub async fn ingredient(&mut self, name: &str) -> Value {
        let menu = self.get("/api/shop/menu").await.expect(200);
        menu["ingredients"]
            .as_array()
            .expect("ingredients")
            .iter()
            .find(|g| g["name"] == name)
            .unwrap_or_else(|| panic!("no ingredient {name}"))
            .clone()
    }
}

/// An idempotency key (16 characters at least) made from a test's short
/// name for it: the same name gives the same key.
pub fn key_named(name: &str) -> String {
    format!("test-checkout-of-{name}")
}
